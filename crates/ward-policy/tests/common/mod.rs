//! Shared helpers of the `normalize_*` integration tests.
#![allow(dead_code)]

use ward_policy::facts::{Facts, NormalizeEnv};
use ward_policy::normalize::default_allow_hosts;

/// A developer's machine: home `/home/dev`, the given working directory as the workspace.
pub fn env_for(cwd: &str) -> NormalizeEnv {
    NormalizeEnv {
        home: "/home/dev".into(),
        cwd: cwd.into(),
        repo_root: None,
        allow_hosts: default_allow_hosts().into(),
    }
}

/// The usual workspace: `/home/dev/src/webapp`.
pub fn env() -> NormalizeEnv {
    env_for("/home/dev/src/webapp")
}

/// Names of every risk fact that fired (`reads_outside_workspace`, `network`, `deletes_in_workspace`
/// and the descriptive sets are not risks by themselves).
pub fn dangerous(f: &Facts) -> Vec<&'static str> {
    let all = [
        ("unparseable", f.unparseable),
        ("parser_disagreement", f.parser_disagreement),
        ("dynamic_program", f.dynamic_program),
        ("privileged", f.privileged),
        ("reads_secret", f.reads_secret),
        ("reads_workspace_env", f.reads_workspace_env),
        ("writes_secret", f.writes_secret),
        ("writes_ci_config", f.writes_ci_config),
        ("writes_agent_config", f.writes_agent_config),
        ("writes_persistence", f.writes_persistence),
        ("writes_outside_workspace", f.writes_outside_workspace),
        ("reads_secret_env", f.reads_secret_env),
        ("reads_credential_store", f.reads_credential_store),
        ("external_host", f.external_host),
        ("metadata_host", f.metadata_host),
        ("network_send", f.network_send),
        ("secret_to_network", f.secret_to_network),
        ("download_to_interpreter", f.download_to_interpreter),
        ("credential_in_url", f.credential_in_url),
        ("destroys_outside_workspace", f.destroys_outside_workspace),
        ("destroys_workspace", f.destroys_workspace),
        (
            "changes_permissions_outside_workspace",
            f.changes_permissions_outside_workspace,
        ),
        ("reverse_shell", f.reverse_shell),
        ("host_escape", f.host_escape),
        ("resource_exhaustion", f.resource_exhaustion),
        ("anti_forensics", f.anti_forensics),
        ("uploads_to_external", f.uploads_to_external),
        ("destroys_shared", f.destroys_shared),
        ("force_push_shared", f.force_push_shared),
        ("force_push", f.force_push),
        ("publish", f.publish),
        ("deploy", f.deploy),
        ("database_force", f.database_force),
        ("unsafe_agent", f.unsafe_agent),
        ("obfuscated", f.obfuscated),
        ("escape_obfuscation", f.escape_obfuscation),
        ("homoglyph", f.homoglyph),
        ("padding", f.padding),
        ("mcp_secret_in_args", f.mcp_secret_in_args),
        ("mcp_external_recipient", f.mcp_external_recipient),
    ];
    all.iter().filter(|(_, v)| *v).map(|(n, _)| *n).collect()
}
