//! Derived facts: what normalization learned about one call. Each field becomes an attribute of
//! the Cedar request context (`context.facts.<name>`), so policies are written against these
//! names. Keep every field documented; add fields rather than overloading one.

use serde::Serialize;
use std::collections::BTreeSet;

/// Where normalization runs: the workspace and the egress allowlist. Pure data, no I/O.
#[derive(Debug, Clone, Default)]
pub struct NormalizeEnv {
    /// The OS user's home directory (for `~`).
    pub home: String,
    /// The call's working directory (absolute).
    pub cwd: String,
    /// The repository root, when known; the workspace is `repo_root` or else `cwd`.
    pub repo_root: Option<String>,
    /// Host suffixes considered ordinary developer hosts (`github.com`, `registry.npmjs.org`, …);
    /// shared, so a daemon hands the same list to every decision without copying it.
    pub allow_hosts: std::sync::Arc<[String]>,
}

/// Facts derived from one call. `Default` is "nothing known", which policies must not read as
/// safe: `parsed == false` on a shell call means the command could not be understood.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    // --- parsing -------------------------------------------------------------------------
    /// Shell: the command parsed (both parsers agreed, or the judge parsed it).
    pub parsed: bool,
    /// Shell: the command could not be parsed, or parsing hit a limit (size, depth, time).
    pub unparseable: bool,
    /// Shell: the two parsers disagree on programs or redirect targets.
    pub parser_disagreement: bool,
    /// Shell: a program name is computed at run time (`$c$d`, `$(printf …)`, `${x@P}`).
    pub dynamic_program: bool,

    // --- programs ------------------------------------------------------------------------
    /// Basenames of every program that would run, nested ones (`bash -c`, `$(…)`, `xargs`, `find -exec`) included.
    pub programs: BTreeSet<String>,
    /// Every program is on the read-only allowlist (ls, cat of non-secrets, grep, git status, …).
    pub read_only: bool,
    /// Runs with elevated privileges (`sudo`, `doas`, `su -c`).
    pub privileged: bool,

    // --- files ---------------------------------------------------------------------------
    /// Resolved absolute paths read (arguments of readers, `<` redirects, `@file` data args).
    pub paths_read: BTreeSet<String>,
    /// Resolved absolute paths written, created, deleted or moved (redirects included).
    pub paths_written: BTreeSet<String>,
    /// A path read is secret material (keys, cloud/registry credentials, `.env`, git credential
    /// stores, kube config, AI-assistant credentials, browser/keychain stores).
    pub reads_secret: bool,
    /// A path read is a `.env`-style file of the workspace itself (lower severity than keys).
    pub reads_workspace_env: bool,
    /// A path written is secret material.
    pub writes_secret: bool,
    /// A path written is a CI/CD definition (`.github/workflows`, `.gitlab-ci.yml`, …).
    pub writes_ci_config: bool,
    /// A path written is AI-agent configuration (`.claude/`, `.cursor/`, `.vscode/settings.json`,
    /// `.mcp.json`, `.codex/`, `.gemini/`, `AGENTS.md`-style hook files).
    pub writes_agent_config: bool,
    /// A path written is a shell profile or autostart file (`~/.bashrc`, cron, systemd user units, git hooks).
    pub writes_persistence: bool,
    /// A path read lies outside the workspace (and is not a system/toolchain path).
    pub reads_outside_workspace: bool,
    /// A path written lies outside the workspace and the temp dirs.
    pub writes_outside_workspace: bool,

    // --- environment secrets -------------------------------------------------------------
    /// Expands or dumps secret-looking environment variables (`$GITHUB_TOKEN`, `env`, `printenv | grep token`).
    pub reads_secret_env: bool,
    /// Asks a credential store for a secret (`git credential fill`, `security find-generic-password`, `gh auth token`).
    pub reads_credential_store: bool,

    // --- network -------------------------------------------------------------------------
    /// Hosts (names or IPs) the call contacts.
    pub hosts: BTreeSet<String>,
    /// Contacts the network at all.
    pub network: bool,
    /// Contacts a host that is neither loopback, private, nor on the allowlist.
    pub external_host: bool,
    /// Contacts a cloud metadata endpoint (169.254.169.254, metadata.google.internal, …).
    pub metadata_host: bool,
    /// Sends data to the network (POST bodies, `@file` uploads, `nc`, `scp`, DNS labels built from data).
    pub network_send: bool,
    /// Secret material (file or env) flows to a network sink: a pipe, an upload argument, a URL or a DNS name.
    pub secret_to_network: bool,
    /// Downloaded content reaches an interpreter (`curl … | sh`, `bash <(curl …)`, `eval "$(curl …)"`).
    pub download_to_interpreter: bool,
    /// A git remote URL embeds a credential (`https://user:$TOKEN@host/…`).
    pub credential_in_url: bool,

    // --- destructive and high impact -----------------------------------------------------
    /// Destroys data or the machine outside the workspace: recursive or forced deletion there
    /// (`rm -rf ~`, `/`, `..`), a raw-disk overwrite, or a recursive permission change of `/`,
    /// the home directory or a system directory (`chmod -R 777 /`).
    pub destroys_outside_workspace: bool,
    /// Internal, not a Cedar attribute: every destruction behind `destroys_outside_workspace`
    /// targets a path known only at run time (`rm -rf "$BUILD_DIR"`). Text that runs later
    /// (CI steps, build files, hooks) is judged on known paths only.
    #[serde(skip)]
    pub destroys_only_computed_paths: bool,
    /// Deletes the workspace itself: its root, everything in it (`rm -rf .`, `rm -rf *` at the
    /// root, `find . -delete` with no filter) or its `.git` directory.
    pub destroys_workspace: bool,
    /// Recursive ownership or permission change outside the workspace (`chown -R`, `chmod -R`
    /// on `/opt/app`), short of the system directories that `destroys_outside_workspace` covers.
    pub changes_permissions_outside_workspace: bool,
    /// Deletion limited to the workspace (build dirs, `node_modules`): ordinary.
    pub deletes_in_workspace: bool,
    /// Destructive operation on a shared system: cloud resources, infrastructure, clusters, databases (`DROP`, `terminate-instances`, `terraform destroy`, `kubectl delete ns`).
    pub destroys_shared: bool,
    /// Rewrites shared git history: force push (not `--force-with-lease`) to a protected branch, or `reset --hard` followed by a push.
    pub force_push_shared: bool,
    /// Force push of any kind (`--force`, `-f`, `+ref`).
    pub force_push: bool,
    /// Publishes a package or artifact (`npm publish`, `cargo publish`, `twine upload`, `gh release create`); not dry runs.
    pub publish: bool,
    /// Deploys or applies infrastructure/cluster changes (`kubectl apply`, `terraform apply`, `helm upgrade`).
    pub deploy: bool,
    /// Schema or data changes forced on a database (`db push --force`, migrations reset).
    pub database_force: bool,
    /// Runs another AI agent with its safety checks off (`--dangerously-skip-permissions`, `--yolo`,
    /// `--trust-all-tools`), or writes agent settings that auto-approve its actions
    /// (`defaultMode: bypassPermissions`, Gemini `autoAccept`/`yolo`, `chat.tools.autoApprove`,
    /// Codex `approval_policy = "never"` with `danger-full-access`).
    pub unsafe_agent: bool,

    // --- host-level attacks --------------------------------------------------------------
    /// Attaches a shell or interpreter to a network connection (`nc -e /bin/sh`, `socat exec:…`,
    /// `bash -i >& /dev/tcp/…`, `mkfifo … | sh -i | nc …`, socket + pty/subprocess one-liners).
    pub reverse_shell: bool,
    /// Escapes a container or sandbox to the host (`docker run -v /:/host`, `--privileged`,
    /// `--pid=host`, mounting the Docker socket, `nsenter`).
    pub host_escape: bool,
    /// Exhausts the machine's resources on purpose (fork bombs: a function piped into itself in
    /// the background; `fork` in an endless loop; filling the disk from `/dev/zero`).
    pub resource_exhaustion: bool,
    /// Erases traces: clears shell history (`history -c`, `unset HISTFILE`), truncates or deletes
    /// system logs (`/var/log/*`, `journalctl --vacuum-*`, `wevtutil cl`), stops auditing, or deletes
    /// the assistants' transcripts and ward's own audit data.
    pub anti_forensics: bool,
    /// Sends the repository or an archive of it to a host outside the allowlist: `git push` to a
    /// remote on an unknown host, `curl -T`/`-F @` of an archive, `rsync`/`scp -r` of the
    /// workspace. Can be legitimate, so it asks.
    pub uploads_to_external: bool,

    // --- obfuscation ---------------------------------------------------------------------
    /// Decoded or computed text is executed (`base64 -d | sh`, `eval "$(… | base64 -d)"`, `${x@P}`).
    pub obfuscated: bool,
    /// Hex/octal/unicode escapes build a program name or argument that is executed.
    pub escape_obfuscation: bool,
    /// A host or path mixes scripts or uses homoglyphs (`gіthub.com` with a Cyrillic `і`).
    pub homoglyph: bool,
    /// Unusually long or padded command hiding a second command (many spaces, long `&&` chains).
    pub padding: bool,

    // --- MCP -------------------------------------------------------------------------------
    /// MCP arguments carry secret material (private keys, tokens) or secret paths.
    pub mcp_secret_in_args: bool,
    /// MCP arguments name a recipient or destination outside the allowlist (hidden `bcc`, external URL).
    pub mcp_external_recipient: bool,

    /// Human-readable names of facts that fired, with a short detail, in the order found.
    pub notes: Vec<String>,
}
