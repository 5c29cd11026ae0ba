//! Normalization: derive [`Facts`] from one [`ToolCall`].
//!
//! * shell commands: [`analyze_shell`] (brush-parser judges, tree-sitter-bash second opinion);
//! * file reads and writes: [`classify_path`] on every path, and a scan of content written to
//!   CI definitions, agent configuration and persistence targets;
//! * web fetches: [`classify_host`] on the URL's host;
//! * MCP calls: a recursive scan of the arguments (secrets, secret paths, recipients, shell text).
//!
//! Everything here is a pure function of its inputs: no file system, network, clock reads
//! beyond the shell parser's deadline, and no panics.

mod build;
mod code;
mod content;
pub mod hosts;
mod mcp;
pub mod paths;
mod shell;
mod sql;
mod text;

pub use hosts::{HostClass, HostKind, classify_host, default_allow_hosts};
pub use paths::{PathClass, classify_path};
pub use shell::{DEADLINE, MAX_INPUT, MAX_NESTING, analyze_shell, set_parser_poll};

use crate::facts::{Facts, NormalizeEnv};
use std::borrow::Cow;
use ward_core::{Action, ToolCall};

/// Notes kept per call.
const MAX_NOTES: usize = 48;

/// Derive the facts of one call. `env` supplies home, workspace and allowlist; an empty
/// `env.cwd` (or missing `repo_root`) is filled from the call itself.
pub fn normalize(call: &ToolCall, env: &NormalizeEnv) -> Facts {
    let env = effective_env(call, env);
    let env = env.as_ref();
    let mut f = match &call.action {
        Action::Shell { command } => analyze_shell(command, env),
        Action::FileRead { paths } => file_read(paths, env),
        Action::FileWrite { paths, content } => file_write(paths, content.as_deref(), env),
        Action::WebFetch { url } => web_fetch(url, env),
        Action::Mcp {
            server,
            tool,
            arguments,
        } => mcp::scan(server, tool, arguments, env),
        // Nothing to derive: an other tool is decided by name, a credential by its request
        // (the `credential` record of the context).
        Action::Other { .. } | Action::Credential { .. } => Facts {
            parsed: true,
            ..Facts::default()
        },
    };
    f.notes.truncate(MAX_NOTES);
    f
}

fn effective_env<'a>(call: &ToolCall, env: &'a NormalizeEnv) -> Cow<'a, NormalizeEnv> {
    let need_cwd = env.cwd.is_empty() && !call.cwd.is_empty();
    let need_root = env.repo_root.is_none() && call.repo_root.is_some();
    if !need_cwd && !need_root {
        return Cow::Borrowed(env);
    }
    let mut e = env.clone();
    if need_cwd {
        e.cwd = call.cwd.clone();
    }
    if need_root {
        e.repo_root = call.repo_root.clone();
    }
    Cow::Owned(e)
}

fn file_read(list: &[String], env: &NormalizeEnv) -> Facts {
    let mut f = Facts {
        parsed: true,
        ..Facts::default()
    };
    for p in list {
        let class = classify_path(p, env);
        let shown = paths::display(&class.resolved, env);
        f.paths_read.insert(class.resolved.clone());
        if let Some(kind) = class.secret {
            f.reads_secret = true;
            f.notes.push(format!("secret file `{shown}` read ({kind})"));
        } else if class.workspace_env {
            f.reads_workspace_env = true;
            f.notes.push(format!("workspace env file `{shown}` read"));
        }
        if class.read_outside_workspace() {
            f.reads_outside_workspace = true;
            f.notes
                .push(format!("`{shown}` read outside the workspace"));
        }
        if class.homoglyph {
            f.homoglyph = true;
            f.notes
                .push(format!("path `{shown}` mixes scripts or hides characters"));
        }
    }
    f.read_only = !f.reads_secret && !f.reads_workspace_env && !f.homoglyph;
    f
}

fn file_write(list: &[String], content: Option<&str>, env: &NormalizeEnv) -> Facts {
    let mut f = Facts {
        parsed: true,
        ..Facts::default()
    };
    for p in list {
        let class = classify_path(p, env);
        let shown = paths::display(&class.resolved, env);
        if class.null_device {
            continue;
        }
        f.paths_written.insert(class.resolved.clone());
        if class.is_secret() || class.workspace_env {
            f.writes_secret |= class.is_secret();
            f.notes.push(format!("secret file `{shown}` written"));
        }
        if class.ci_config {
            f.writes_ci_config = true;
            f.notes.push(format!("CI definition `{shown}` written"));
        }
        if class.agent_config {
            f.writes_agent_config = true;
            f.notes
                .push(format!("agent configuration `{shown}` written"));
        }
        if class.persistence {
            f.writes_persistence = true;
            f.notes
                .push(format!("persistence target `{shown}` written"));
        }
        if class.write_outside_workspace() {
            f.writes_outside_workspace = true;
            f.notes
                .push(format!("`{shown}` written outside the workspace"));
        }
        if class.block_device {
            f.destroys_outside_workspace = true;
            f.notes.push(format!("raw device `{shown}` overwritten"));
        }
        if class.homoglyph {
            f.homoglyph = true;
            f.notes
                .push(format!("path `{shown}` mixes scripts or hides characters"));
        }
        let Some(text) = content else { continue };
        if let Some(sub) = content::scan_written(&class, text, env) {
            absorb_written(&mut f, sub, "");
        }
    }
    f
}

fn web_fetch(url: &str, env: &NormalizeEnv) -> Facts {
    let mut f = Facts {
        parsed: true,
        network: true,
        ..Facts::default()
    };
    if let Some(path) = url.strip_prefix("file://") {
        return file_read(&[path.to_string()], env);
    }
    let Some(remote) = hosts::parse_url(url).or_else(|| hosts::parse_remote(url, true)) else {
        f.notes.push(format!(
            "URL `{}` has no host",
            url.chars().take(80).collect::<String>()
        ));
        return f;
    };
    let class = classify_host(&remote.host, env);
    f.hosts.insert(class.host.clone());
    match class.kind {
        HostKind::External => {
            f.external_host = true;
            f.notes
                .push(format!("fetch from external host `{}`", class.host));
        }
        HostKind::Metadata => {
            f.metadata_host = true;
            f.notes
                .push(format!("cloud metadata endpoint `{}` fetched", class.host));
        }
        _ => {}
    }
    if class.homoglyph {
        f.homoglyph = true;
        f.notes.push(format!(
            "host `{}` mixes scripts or uses look-alike characters",
            class.host
        ));
    }
    if remote.has_credential {
        f.credential_in_url = true;
        f.notes
            .push(format!("credential embedded in URL for `{}`", class.host));
    }
    if let Some(label) = text::find_token(url) {
        f.secret_to_network = true;
        f.network_send = true;
        f.notes.push(format!("{label} placed in a fetched URL"));
    }
    f
}

/// Merge the facts of a nested analysis that runs now (an MCP `command` argument).
pub(crate) fn merge(into: &mut Facts, mut from: Facts, prefix: &str) {
    let notes = std::mem::take(&mut from.notes);
    let (parsed, read_only) = (into.parsed || from.parsed, into.read_only && from.read_only);
    absorb_all(into, from);
    into.parsed = parsed;
    into.read_only = read_only;
    for n in notes {
        push_note(into, prefix, n);
    }
}

fn absorb_all(into: &mut Facts, from: Facts) {
    let f = from;
    into.unparseable |= f.unparseable;
    into.parser_disagreement |= f.parser_disagreement;
    into.dynamic_program |= f.dynamic_program;
    into.programs.extend(f.programs);
    into.privileged |= f.privileged;
    into.paths_read.extend(f.paths_read);
    into.paths_written.extend(f.paths_written);
    into.reads_secret |= f.reads_secret;
    into.reads_workspace_env |= f.reads_workspace_env;
    into.writes_secret |= f.writes_secret;
    into.writes_ci_config |= f.writes_ci_config;
    into.writes_agent_config |= f.writes_agent_config;
    into.writes_persistence |= f.writes_persistence;
    into.reads_outside_workspace |= f.reads_outside_workspace;
    into.writes_outside_workspace |= f.writes_outside_workspace;
    into.reads_secret_env |= f.reads_secret_env;
    into.reads_credential_store |= f.reads_credential_store;
    into.hosts.extend(f.hosts);
    into.network |= f.network;
    into.external_host |= f.external_host;
    into.metadata_host |= f.metadata_host;
    into.network_send |= f.network_send;
    into.secret_to_network |= f.secret_to_network;
    into.download_to_interpreter |= f.download_to_interpreter;
    into.credential_in_url |= f.credential_in_url;
    into.destroys_only_computed_paths = (into.destroys_only_computed_paths
        || !into.destroys_outside_workspace)
        && (f.destroys_only_computed_paths || !f.destroys_outside_workspace);
    into.destroys_outside_workspace |= f.destroys_outside_workspace;
    into.destroys_only_computed_paths &= into.destroys_outside_workspace;
    into.destroys_workspace |= f.destroys_workspace;
    into.changes_permissions_outside_workspace |= f.changes_permissions_outside_workspace;
    into.deletes_in_workspace |= f.deletes_in_workspace;
    into.destroys_shared |= f.destroys_shared;
    into.force_push_shared |= f.force_push_shared;
    into.force_push |= f.force_push;
    into.publish |= f.publish;
    into.deploy |= f.deploy;
    into.database_force |= f.database_force;
    into.unsafe_agent |= f.unsafe_agent;
    into.reverse_shell |= f.reverse_shell;
    into.host_escape |= f.host_escape;
    into.resource_exhaustion |= f.resource_exhaustion;
    into.anti_forensics |= f.anti_forensics;
    into.uploads_to_external |= f.uploads_to_external;
    into.obfuscated |= f.obfuscated;
    into.escape_obfuscation |= f.escape_obfuscation;
    into.homoglyph |= f.homoglyph;
    into.padding |= f.padding;
    into.mcp_secret_in_args |= f.mcp_secret_in_args;
    into.mcp_external_recipient |= f.mcp_external_recipient;
}

/// Merge the facts of text that will run later (written hooks, CI steps, rc files): what it
/// would do (network, execution, destruction, agent flags), not what it reads or writes now.
pub(crate) fn absorb_later(into: &mut Facts, f: Facts, prefix: &str) {
    into.download_to_interpreter |= f.download_to_interpreter;
    into.secret_to_network |= f.secret_to_network;
    into.network_send |= f.network_send;
    into.external_host |= f.external_host;
    into.metadata_host |= f.metadata_host;
    into.credential_in_url |= f.credential_in_url;
    into.obfuscated |= f.obfuscated;
    into.escape_obfuscation |= f.escape_obfuscation;
    into.homoglyph |= f.homoglyph;
    into.padding |= f.padding;
    into.unsafe_agent |= f.unsafe_agent;
    into.reverse_shell |= f.reverse_shell;
    into.host_escape |= f.host_escape;
    into.resource_exhaustion |= f.resource_exhaustion;
    into.anti_forensics |= f.anti_forensics;
    into.uploads_to_external |= f.uploads_to_external;
    into.destroys_workspace |= f.destroys_workspace;
    // `rm -rf "$DIR"/` in a CI step or a Makefile names a directory set elsewhere: judged
    // when it runs, not when the text is written.
    into.destroys_outside_workspace |=
        f.destroys_outside_workspace && !f.destroys_only_computed_paths;
    into.destroys_shared |= f.destroys_shared;
    into.force_push_shared |= f.force_push_shared;
    into.publish |= f.publish;
    into.privileged |= f.privileged;
    into.hosts.extend(f.hosts);
    for n in f.notes {
        push_note(into, prefix, n);
    }
}

/// [`absorb_later`] for the facts of written build and hook files, whose own findings include
/// persistence (`script-shell`, `core.fsmonitor`, a postinstall editing `~/.bashrc`).
pub(crate) fn absorb_written(into: &mut Facts, f: Facts, prefix: &str) {
    into.writes_persistence |= f.writes_persistence;
    absorb_later(into, f, prefix);
}

fn push_note(into: &mut Facts, prefix: &str, note: String) {
    if into.notes.len() >= MAX_NOTES {
        return;
    }
    let n = if prefix.is_empty() {
        note
    } else {
        format!("{prefix}: {note}")
    };
    if !into.notes.contains(&n) {
        into.notes.push(n);
    }
}
