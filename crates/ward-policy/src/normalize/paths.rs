//! Path resolution (against `cwd` and `~`, lexically) and classification.
//!
//! Pure string work: nothing touches the file system, so symlinks are not followed. Every rule
//! matches whole path components, never substrings, so `src/.envelope.rs` is not a `.env` file.

use crate::facts::NormalizeEnv;

/// What a path is, for policy purposes. Several flags may hold at once
/// (`~/.claude/.credentials.json` is both secret and agent configuration).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathClass {
    /// The absolute, lexically normalized path (`~`, `.`, `..` resolved; symlinks not followed).
    pub resolved: String,
    /// Secret material, with a short label of what kind (`ssh private key`, `cloud credentials`, …).
    pub secret: Option<&'static str>,
    /// A `.env`-style file inside the workspace (lower severity than keys; not `.env.example`).
    pub workspace_env: bool,
    /// A CI/CD definition (`.github/workflows/*`, `.gitlab-ci.yml`, `Jenkinsfile`, …).
    pub ci_config: bool,
    /// AI-agent or editor-agent configuration (`.claude/`, `.cursor/`, `.vscode/settings.json`, …).
    pub agent_config: bool,
    /// A persistence target: shell rc/profile, cron, systemd/launchd units, git hooks, `authorized_keys`.
    pub persistence: bool,
    /// Inside the workspace (`repo_root`, else `cwd`), the workspace root included.
    pub in_workspace: bool,
    /// The workspace root itself.
    pub workspace_root: bool,
    /// A temp/scratch directory (`/tmp`, `/var/tmp`, `/dev/shm`, macOS temp folders).
    pub scratch: bool,
    /// A system or toolchain location whose reads are unremarkable (`/usr`, `/etc`, `~/.cargo/registry`).
    pub system: bool,
    /// A per-user package or build cache (`~/.cache`, `~/.npm`, `~/.cargo/registry`): clearing it is routine.
    pub cache: bool,
    /// A harmless pseudo-device (`/dev/null`, `/dev/stdout`, `/dev/fd/N`).
    pub null_device: bool,
    /// A block device or raw disk (`/dev/sda`, `/dev/nvme0n1`): writing it destroys data.
    pub block_device: bool,
    /// The home directory itself, the file-system root, or an ancestor of the workspace.
    pub critical_dir: bool,
    /// Mixed scripts, homoglyphs or invisible characters in the path.
    pub homoglyph: bool,
    /// A record of what happened, with a short label: system logs and audit trails
    /// (`/var/log/…`), shell histories, AI-assistant transcripts, ward's own audit data.
    /// Truncating or deleting one erases traces.
    pub trace: Option<&'static str>,
    /// The workspace's `.git` directory itself (or its object store / refs).
    pub git_store: bool,
}

impl PathClass {
    /// Secret material of any kind.
    pub fn is_secret(&self) -> bool {
        self.secret.is_some()
    }

    /// A read here is "outside the workspace" in the sense of [`crate::facts::Facts::reads_outside_workspace`].
    pub fn read_outside_workspace(&self) -> bool {
        !self.in_workspace && !self.scratch && !self.system && !self.null_device
    }

    /// A write here is "outside the workspace" in the sense of [`crate::facts::Facts::writes_outside_workspace`].
    pub fn write_outside_workspace(&self) -> bool {
        !self.in_workspace && !self.scratch && !self.null_device
    }
}

/// Resolve `path` against `~` and the call's `cwd`, then classify it.
pub fn classify_path(path: &str, env: &NormalizeEnv) -> PathClass {
    classify_resolved(resolve(path, &env.home, &env.cwd), env)
}

/// Classify a path that is already absolute and normalized.
pub(crate) fn classify_resolved(resolved: String, env: &NormalizeEnv) -> PathClass {
    let home = normalize_abs(&slashes(&env.home));
    let workspace = workspace_root(env);
    let comps: Vec<&str> = components(&resolved);
    let homes = home_relative(&resolved, &home);
    let in_workspace = !workspace.is_empty() && is_under(&resolved, &workspace);
    let basename = comps.last().copied().unwrap_or("");

    let env_file = is_env_file(basename);
    let mut secret = homes
        .iter()
        .find_map(|rel| home_secret(rel))
        .or_else(|| abs_secret(&resolved, &comps));
    if secret.is_none() && env_file && !in_workspace {
        secret = Some("environment file");
    }
    if secret.is_none() {
        secret = file_secret(basename);
    }
    let persistence = homes.iter().any(|rel| home_persistence(rel))
        || abs_persistence(&resolved)
        || has_pair(&comps, ".git", "hooks");
    let system = abs_system(&resolved) || homes.iter().any(|rel| home_toolchain(rel));
    PathClass {
        workspace_env: env_file && in_workspace,
        ci_config: is_ci_config(&comps),
        agent_config: is_agent_config(&comps) || homes.iter().any(|rel| home_agent_config(rel)),
        persistence,
        in_workspace,
        workspace_root: !workspace.is_empty() && resolved == workspace,
        scratch: is_scratch(&resolved),
        system,
        cache: homes.iter().any(|rel| home_cache(rel)),
        null_device: is_null_device(&resolved),
        block_device: is_block_device(&resolved),
        critical_dir: resolved == "/"
            || resolved == home
            || (!workspace.is_empty() && resolved != workspace && is_under(&workspace, &resolved)),
        homoglyph: super::text::suspicious_unicode(&resolved),
        trace: homes
            .iter()
            .find_map(|rel| home_trace(rel))
            .or_else(|| abs_trace(&resolved)),
        git_store: !workspace.is_empty() && {
            let git = format!("{}/.git", workspace.trim_end_matches('/'));
            resolved == git
                || resolved == format!("{git}/objects")
                || resolved == format!("{git}/refs")
        },
        secret,
        resolved,
    }
}

/// The workspace root: `repo_root` when known, else `cwd`; normalized.
pub(crate) fn workspace_root(env: &NormalizeEnv) -> String {
    let raw = env
        .repo_root
        .as_deref()
        .filter(|r| !r.is_empty())
        .unwrap_or(&env.cwd);
    if raw.is_empty() {
        return String::new();
    }
    normalize_abs(&slashes(raw))
}

/// Resolve `path` against `home` and `cwd` and normalize it lexically.
pub(crate) fn resolve(path: &str, home: &str, cwd: &str) -> String {
    let path = slashes(path.trim());
    let home = slashes(home);
    let joined = if path == "~" {
        home
    } else if let Some(rest) = path.strip_prefix("~/") {
        format!("{home}/{rest}")
    } else if let Some(rest) = path.strip_prefix('~') {
        // `~user/…`: a sibling of our home directory.
        let parent = home
            .rsplit_once('/')
            .map_or("/home", |(p, _)| if p.is_empty() { "/" } else { p });
        format!("{parent}/{rest}")
    } else if let Some(rest) = strip_home_var(&path) {
        format!("{home}{rest}")
    } else if path.starts_with('/') || is_drive_path(&path) {
        path
    } else {
        format!("{}/{path}", slashes(cwd))
    };
    normalize_abs(&joined)
}

fn strip_home_var(path: &str) -> Option<&str> {
    for prefix in ["$HOME", "${HOME}"] {
        if let Some(rest) = path.strip_prefix(prefix)
            && (rest.is_empty() || rest.starts_with('/'))
        {
            return Some(rest);
        }
    }
    None
}

fn is_drive_path(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/')
}

/// Windows clients send `C:\Users\…`: treat backslashes as separators there.
fn slashes(path: &str) -> String {
    if is_drive_path(path) {
        path.replace('\\', "/")
    } else {
        path.to_string()
    }
}

/// Lexical normalization of an absolute path: collapse `//`, `.`, `..` (never above the root).
pub(crate) fn normalize_abs(path: &str) -> String {
    let (prefix, rest) = if is_drive_path(path) {
        path.split_at(2)
    } else {
        ("", path)
    };
    let mut out: Vec<&str> = Vec::new();
    for part in rest.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    let mut s = String::with_capacity(path.len());
    s.push_str(prefix);
    for p in &out {
        s.push('/');
        s.push_str(p);
    }
    if s.len() == prefix.len() {
        s.push('/');
    }
    s
}

fn components(path: &str) -> Vec<&str> {
    path.split('/').filter(|c| !c.is_empty()).collect()
}

/// `child` equals `parent` or lies below it (component-wise).
pub(crate) fn is_under(child: &str, parent: &str) -> bool {
    if parent == "/" {
        return child.starts_with('/');
    }
    child == parent
        || (child.starts_with(parent) && child.as_bytes().get(parent.len()) == Some(&b'/'))
}

/// Paths relative to every home directory the path may lie in: ours, `/root`, `/home/<u>`, `/Users/<u>`.
fn home_relative<'a>(path: &'a str, home: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    if home.len() > 1 && is_under(path, home) {
        out.push(path.get(home.len()..).unwrap_or("").trim_start_matches('/'));
    }
    for base in ["/home/", "/Users/"] {
        if let Some(rest) = path.strip_prefix(base) {
            let rel = rest.split_once('/').map_or("", |(_, r)| r);
            if !out.contains(&rel) {
                out.push(rel);
            }
        }
    }
    if let Some(rest) = path.strip_prefix("/root")
        && (rest.is_empty() || rest.starts_with('/'))
    {
        let rel = rest.trim_start_matches('/');
        if !out.contains(&rel) {
            out.push(rel);
        }
    }
    out
}

/// `rel` equals `prefix` or lies below it.
fn rel_under(rel: &str, prefix: &str) -> bool {
    rel == prefix || (rel.starts_with(prefix) && rel.as_bytes().get(prefix.len()) == Some(&b'/'))
}

const HOME_SECRETS: &[(&str, &str)] = &[
    (".aws", "cloud credentials"),
    (".config/gcloud", "cloud credentials"),
    (".azure", "cloud credentials"),
    (".oci", "cloud credentials"),
    (".config/doctl", "cloud credentials"),
    (".kube", "cluster credentials"),
    (".docker/config.json", "registry credentials"),
    (".npmrc", "registry credentials"),
    (".yarnrc.yml", "registry credentials"),
    (".pypirc", "registry credentials"),
    (".config/pip/pip.conf", "registry credentials"),
    (".pip/pip.conf", "registry credentials"),
    (".yarnrc", "registry credentials"),
    (".bunfig.toml", "registry credentials"),
    (".config/composer/auth.json", "registry credentials"),
    (".composer/auth.json", "registry credentials"),
    (".ivy2/.credentials", "registry credentials"),
    (".sbt/.credentials", "registry credentials"),
    (".m2/settings-security.xml", "registry credentials"),
    (".config/glab-cli/config.yml", "GitLab CLI token"),
    (".terraformrc", "terraform token"),
    (".config/helm/repositories.yaml", "registry credentials"),
    (".cargo/credentials", "registry credentials"),
    (".cargo/credentials.toml", "registry credentials"),
    (".gem/credentials", "registry credentials"),
    (".m2/settings.xml", "registry credentials"),
    (".gradle/gradle.properties", "registry credentials"),
    (".nuget/NuGet/NuGet.Config", "registry credentials"),
    (".netrc", "network credentials"),
    ("_netrc", "network credentials"),
    (".git-credentials", "git credentials"),
    (".config/git/credentials", "git credentials"),
    (".config/gh/hosts.yml", "GitHub CLI token"),
    (".config/hub", "GitHub token"),
    (".claude/.credentials.json", "AI assistant credentials"),
    (".claude.json", "AI assistant settings with tokens"),
    (".codex/auth.json", "AI assistant credentials"),
    (".gemini/oauth_creds.json", "AI assistant credentials"),
    (".gemini/google_accounts.json", "AI assistant credentials"),
    (".config/github-copilot", "AI assistant credentials"),
    (".copilot", "AI assistant credentials"),
    (".cursor", "AI assistant state"),
    (".config/Cursor", "AI assistant state"),
    ("Library/Application Support/Cursor", "AI assistant state"),
    (".mozilla", "browser profile"),
    (".config/google-chrome", "browser profile"),
    (".config/chromium", "browser profile"),
    (".config/BraveSoftware", "browser profile"),
    (".config/microsoft-edge", "browser profile"),
    (
        "Library/Application Support/Google/Chrome",
        "browser profile",
    ),
    ("Library/Application Support/Firefox", "browser profile"),
    (
        "Library/Application Support/BraveSoftware",
        "browser profile",
    ),
    ("Library/Cookies", "browser profile"),
    ("Library/Keychains", "keychain"),
    (".local/share/keyrings", "keychain"),
    (".password-store", "password store"),
    (".config/op", "password store"),
    (".gnupg", "gpg private keys"),
    (".vault-token", "vault token"),
    (".terraform.d/credentials.tfrc.json", "terraform token"),
    (".pgpass", "database password"),
    (".my.cnf", "database password"),
    (".config/rclone/rclone.conf", "cloud credentials"),
    (".s3cfg", "cloud credentials"),
    (".boto", "cloud credentials"),
    (".bitcoin", "crypto wallet"),
    (".ethereum", "crypto wallet"),
    (".electrum", "crypto wallet"),
    (".config/solana", "crypto wallet"),
    ("Library/Application Support/Exodus", "crypto wallet"),
    (".config/Exodus", "crypto wallet"),
];

fn home_secret(rel: &str) -> Option<&'static str> {
    if let Some(label) = HOME_SECRETS
        .iter()
        .find(|(p, _)| rel_under(rel, p))
        .map(|(_, l)| *l)
    {
        return Some(label);
    }
    if rel == ".ssh" {
        return Some("ssh keys");
    }
    let name = rel.strip_prefix(".ssh/")?;
    let base = name.rsplit('/').next().unwrap_or(name);
    let public = base.ends_with(".pub")
        || matches!(
            base,
            "known_hosts"
                | "known_hosts.old"
                | "config"
                | "authorized_keys"
                | "authorized_keys2"
                | "rc"
                | "environment"
        );
    (!public).then_some("ssh private key")
}

fn abs_secret(path: &str, comps: &[&str]) -> Option<&'static str> {
    const SYSTEM: &[(&str, &str)] = &[
        ("/etc/shadow", "system password hashes"),
        ("/etc/shadow-", "system password hashes"),
        ("/etc/gshadow", "system password hashes"),
        ("/etc/master.passwd", "system password hashes"),
        ("/etc/sudoers", "sudo configuration"),
        ("/etc/sudoers.d", "sudo configuration"),
        ("/etc/ssl/private", "tls private keys"),
        ("/etc/kubernetes/admin.conf", "cluster credentials"),
        ("/var/run/secrets", "mounted secrets"),
        ("/run/secrets", "mounted secrets"),
    ];
    if let Some(label) = SYSTEM
        .iter()
        .find(|(p, _)| is_under(path, p))
        .map(|(_, l)| *l)
    {
        return Some(label);
    }
    if let Some(key) = path.strip_prefix("/etc/ssh/")
        && key.starts_with("ssh_host_")
        && key.ends_with("_key")
    {
        return Some("ssh host private key");
    }
    if comps.len() == 3 && comps[0] == "proc" && comps[2] == "environ" {
        return Some("process environment");
    }
    None
}

/// `.env`, `.env.local`, `.env.production`, … but not `.env.example` and friends.
pub(crate) fn is_env_file(base: &str) -> bool {
    if base == ".env" {
        return true;
    }
    let Some(suffix) = base.strip_prefix(".env.") else {
        return false;
    };
    let last = suffix.rsplit('.').next().unwrap_or(suffix);
    !matches!(
        last,
        "example"
            | "sample"
            | "template"
            | "tmpl"
            | "tpl"
            | "dist"
            | "defaults"
            | "default"
            | "schema"
            | "md"
            | "txt"
    ) && !matches!(suffix, "example.local")
}

fn file_secret(base: &str) -> Option<&'static str> {
    let lower = base.to_ascii_lowercase();
    for ext in [
        ".pem",
        ".key",
        ".p12",
        ".pfx",
        ".jks",
        ".keystore",
        ".ppk",
        ".kdbx",
        ".p8",
    ] {
        if lower.ends_with(ext) && lower.len() > ext.len() {
            return Some("private key file");
        }
    }
    for stem in [
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        "id_ecdsa_sk",
        "id_ed25519_sk",
    ] {
        if lower.starts_with(stem) && !lower.ends_with(".pub") {
            return Some("ssh private key");
        }
    }
    if matches!(
        lower.as_str(),
        "credentials.json"
            | ".htpasswd"
            | "wallet.dat"
            | "terraform.tfstate"
            | ".git-credentials"
            | ".netrc"
    ) || (lower.starts_with("client_secret") && lower.ends_with(".json"))
        || (lower.starts_with("service-account") && lower.ends_with(".json"))
    {
        return Some("credentials file");
    }
    None
}

fn has_pair(comps: &[&str], a: &str, b: &str) -> bool {
    comps.windows(2).any(|w| w[0] == a && w[1] == b)
}

fn is_ci_config(comps: &[&str]) -> bool {
    let base = comps.last().copied().unwrap_or("");
    has_pair(comps, ".github", "workflows")
        || has_pair(comps, ".github", "actions")
        || has_pair(comps, ".gitea", "workflows")
        || has_pair(comps, ".forgejo", "workflows")
        || has_pair(comps, ".gitlab", "ci")
        || comps.iter().any(|c| {
            matches!(
                *c,
                ".circleci"
                    | ".buildkite"
                    | ".tekton"
                    | ".woodpecker"
                    | ".azure-pipelines"
                    | ".semaphore"
            )
        })
        || base.starts_with("Jenkinsfile")
        || matches!(
            base,
            ".gitlab-ci.yml"
                | ".gitlab-ci.yaml"
                | "azure-pipelines.yml"
                | "azure-pipelines.yaml"
                | ".travis.yml"
                | "bitbucket-pipelines.yml"
                | ".drone.yml"
                | "cloudbuild.yaml"
                | "cloudbuild.yml"
                | "buildspec.yml"
                | "buildspec.yaml"
                | ".woodpecker.yml"
                | "appveyor.yml"
                | ".appveyor.yml"
                | "codemagic.yaml"
                | "wercker.yml"
        )
}

fn is_agent_config(comps: &[&str]) -> bool {
    let base = comps.last().copied().unwrap_or("");
    let in_dir = comps.iter().rev().skip(1).any(|c| {
        matches!(
            *c,
            ".claude"
                | ".cursor"
                | ".codex"
                | ".gemini"
                | ".windsurf"
                | ".amazonq"
                | ".continue"
                | ".roo"
                | ".kiro"
                | ".clinerules"
        )
    });
    in_dir
        || has_pair(comps, ".vscode", "settings.json")
        || has_pair(comps, ".vscode", "mcp.json")
        || has_pair(comps, ".vscode", "tasks.json")
        || has_pair(comps, ".zed", "settings.json")
        || has_pair(comps, ".github", "hooks")
        || has_pair(comps, ".github", "copilot")
        || has_pair(comps, ".github", "instructions")
        || has_pair(comps, ".github", "prompts")
        || has_pair(comps, ".github", "chatmodes")
        || has_pair(comps, ".github", "agents")
        || matches!(
            base,
            ".mcp.json"
                | ".claude.json"
                | "CLAUDE.md"
                | "CLAUDE.local.md"
                | "AGENTS.md"
                | "GEMINI.md"
                | ".cursorrules"
                | ".windsurfrules"
                | ".clinerules"
                | "copilot-instructions.md"
                | ".aider.conf.yml"
        )
}

fn home_agent_config(rel: &str) -> bool {
    [
        ".config/github-copilot",
        ".copilot",
        ".config/Code/User/settings.json",
        ".config/Code/User/mcp.json",
        "Library/Application Support/Code/User/settings.json",
        "Library/Application Support/Code/User/mcp.json",
        ".config/Cursor/User/settings.json",
        ".codeium/windsurf",
    ]
    .iter()
    .any(|p| rel_under(rel, p))
}

fn home_persistence(rel: &str) -> bool {
    const EXACT: &[&str] = &[
        ".bashrc",
        ".bash_profile",
        ".bash_login",
        ".bash_logout",
        ".profile",
        ".zshrc",
        ".zprofile",
        ".zshenv",
        ".zlogin",
        ".zlogout",
        ".kshrc",
        ".mkshrc",
        ".tcshrc",
        ".cshrc",
        ".login",
        ".xinitrc",
        ".xprofile",
        ".xsession",
        ".xsessionrc",
        ".pam_environment",
        ".ssh/authorized_keys",
        ".ssh/authorized_keys2",
        ".ssh/rc",
        ".ssh/config",
        ".ssh/environment",
        ".config/fish/config.fish",
        ".inputrc",
        ".gitconfig",
        ".config/git/config",
    ];
    const DIRS: &[&str] = &[
        ".config/fish/conf.d",
        ".config/fish/functions",
        ".config/autostart",
        ".config/systemd/user",
        ".local/share/systemd/user",
        ".config/environment.d",
        "Library/LaunchAgents",
        ".config/upstart",
        ".kde/Autostart",
        ".config/plasma-workspace/env",
        ".oh-my-zsh/custom",
        ".bashrc.d",
        ".git-templates/hooks",
    ];
    EXACT.contains(&rel) || DIRS.iter().any(|d| rel_under(rel, d))
}

fn abs_persistence(path: &str) -> bool {
    const DIRS: &[&str] = &[
        "/etc/profile",
        "/etc/profile.d",
        "/etc/bash.bashrc",
        "/etc/bashrc",
        "/etc/zsh",
        "/etc/zshrc",
        "/etc/zprofile",
        "/etc/environment",
        "/etc/crontab",
        "/etc/cron.d",
        "/etc/cron.daily",
        "/etc/cron.hourly",
        "/etc/cron.weekly",
        "/etc/cron.monthly",
        "/var/spool/cron",
        "/etc/systemd",
        "/lib/systemd/system",
        "/usr/lib/systemd",
        "/etc/init.d",
        "/etc/rc.local",
        "/etc/ld.so.preload",
        "/Library/LaunchAgents",
        "/Library/LaunchDaemons",
        "/etc/xdg/autostart",
        "/etc/update-motd.d",
        "/etc/sudoers",
        "/etc/sudoers.d",
    ];
    DIRS.iter().any(|d| is_under(path, d))
}

fn abs_system(path: &str) -> bool {
    const DIRS: &[&str] = &[
        "/usr",
        "/bin",
        "/sbin",
        "/lib",
        "/lib32",
        "/lib64",
        "/libx32",
        "/opt",
        "/etc",
        "/proc",
        "/sys",
        "/dev",
        "/nix",
        "/snap",
        "/System",
        "/Library",
        "/Applications",
        "/var/lib",
        "/var/log",
        "/var/cache",
        "/boot",
    ];
    DIRS.iter().any(|d| is_under(path, d))
}

/// Shell histories, assistant transcripts and ward's audit data, relative to a home directory.
fn home_trace(rel: &str) -> Option<&'static str> {
    const HISTORY: &[&str] = &[
        ".bash_history",
        ".zsh_history",
        ".zhistory",
        ".history",
        ".sh_history",
        ".ash_history",
        ".ksh_history",
        ".local/share/fish/fish_history",
        ".python_history",
        ".node_repl_history",
        ".mysql_history",
        ".psql_history",
        ".sqlite_history",
        ".rediscli_history",
        ".irb_history",
        ".lesshst",
        ".viminfo",
        ".local/share/powershell/PSReadLine",
        "AppData/Roaming/Microsoft/Windows/PowerShell/PSReadLine",
    ];
    const TRANSCRIPTS: &[&str] = &[
        ".claude/projects",
        ".claude/history.jsonl",
        ".claude/todos",
        ".codex/sessions",
        ".codex/history.jsonl",
        ".codex/log",
        ".gemini/tmp",
        ".copilot/session-state",
        ".copilot/history-session-state",
        ".copilot/logs",
        ".cursor/chats",
    ];
    if HISTORY.iter().any(|p| rel_under(rel, p)) {
        return Some("shell history");
    }
    if TRANSCRIPTS.iter().any(|p| rel_under(rel, p)) {
        return Some("assistant transcript");
    }
    if rel_under(rel, ".local/share/ward") {
        return Some("ward audit data");
    }
    None
}

/// System logs and audit trails.
fn abs_trace(path: &str) -> Option<&'static str> {
    const LOGS: &[&str] = &[
        "/var/log",
        "/var/adm",
        "/var/audit",
        "/private/var/log",
        "/private/var/audit",
        "/var/run/utmp",
        "/run/utmp",
        "/Library/Logs",
    ];
    LOGS.iter()
        .any(|d| is_under(path, d))
        .then_some("system log")
}

fn home_cache(rel: &str) -> bool {
    const DIRS: &[&str] = &[
        ".cache",
        ".npm/_cacache",
        ".npm/_npx",
        ".cargo/registry",
        ".cargo/git",
        ".m2/repository",
        ".gradle/caches",
        "go/pkg/mod",
        ".pnpm-store",
        ".yarn/berry/cache",
        ".bun/install/cache",
        "Library/Caches",
    ];
    DIRS.iter().any(|d| rel != *d && rel_under(rel, d))
}

fn home_toolchain(rel: &str) -> bool {
    const DIRS: &[&str] = &[
        ".cargo/registry",
        ".cargo/git",
        ".cargo/bin",
        ".rustup",
        ".cache",
        ".npm",
        ".nvm",
        ".pyenv",
        ".rbenv",
        ".local/lib",
        ".local/bin",
        ".local/share/virtualenvs",
        "go/pkg",
        ".m2/repository",
        ".gradle/caches",
        ".gradle/wrapper",
        ".deno",
        ".bun",
        ".volta",
        ".sdkman",
        ".conda",
        "miniconda3",
        "anaconda3",
        ".gitconfig",
        ".config/git/config",
        ".tool-versions",
        ".asdf",
        ".pnpm-store",
        ".yarn/berry/cache",
    ];
    DIRS.iter().any(|d| rel_under(rel, d))
}

fn is_scratch(path: &str) -> bool {
    [
        "/tmp",
        "/var/tmp",
        "/dev/shm",
        "/private/tmp",
        "/private/var/folders",
        "/var/folders",
    ]
    .iter()
    .any(|d| is_under(path, d))
}

fn is_null_device(path: &str) -> bool {
    matches!(
        path,
        "/dev/null"
            | "/dev/stdout"
            | "/dev/stderr"
            | "/dev/stdin"
            | "/dev/tty"
            | "/dev/zero"
            | "/dev/random"
            | "/dev/urandom"
    ) || path.starts_with("/dev/fd/")
        || path.starts_with("/proc/self/fd/")
}

fn is_block_device(path: &str) -> bool {
    let Some(dev) = path.strip_prefix("/dev/") else {
        return false;
    };
    [
        "sd", "hd", "vd", "xvd", "nvme", "mmcblk", "disk", "rdisk", "mapper/", "md", "dm-", "loop",
        "nbd",
    ]
    .iter()
    .any(|p| dev.starts_with(p))
}

/// Show a path the way a person writes it: `~/…` under the home directory.
pub(crate) fn display(path: &str, env: &NormalizeEnv) -> String {
    let home = normalize_abs(&slashes(&env.home));
    if home.len() > 1 && is_under(path, &home) {
        return format!("~{}", path.get(home.len()..).unwrap_or(""));
    }
    path.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> NormalizeEnv {
        NormalizeEnv {
            home: "/home/dev".into(),
            cwd: "/home/dev/src/app/sub".into(),
            repo_root: Some("/home/dev/src/app".into()),
            allow_hosts: Default::default(),
        }
    }

    #[test]
    fn resolves_lexically() {
        assert_eq!(
            resolve("~/.ssh/../.aws/credentials", "/home/dev", "/x"),
            "/home/dev/.aws/credentials"
        );
        assert_eq!(resolve("../../..", "/home/dev", "/a/b"), "/");
        assert_eq!(resolve("./a//b/.", "/h", "/w"), "/w/a/b");
        assert_eq!(resolve("$HOME/.netrc", "/h", "/w"), "/h/.netrc");
        assert_eq!(resolve("~bob/x", "/home/dev", "/w"), "/home/bob/x");
        assert_eq!(
            resolve("C:\\Users\\me\\.env", "/h", "/w"),
            "C:/Users/me/.env"
        );
    }

    #[test]
    fn secrets() {
        let e = env();
        for p in [
            "~/.aws/credentials",
            "~/.ssh/id_rsa",
            "~/.ssh/work_key",
            "~/.kube/config",
            "/etc/shadow",
            "~/.claude/.credentials.json",
            "~/.gnupg/private-keys-v1.d/x.key",
            "/proc/self/environ",
            "/other/proj/.env",
            "certs/server.key",
        ] {
            assert!(classify_path(p, &e).is_secret(), "{p}");
        }
        for p in [
            "~/.ssh/id_ed25519.pub",
            "~/.ssh/known_hosts",
            ".env.example",
            "src/main.rs",
            "/etc/hosts",
            "src/.envelope",
        ] {
            assert!(!classify_path(p, &e).is_secret(), "{p}");
        }
        let dotenv = classify_path("../.env", &e);
        assert!(dotenv.workspace_env && !dotenv.is_secret());
    }

    #[test]
    fn kinds() {
        let e = env();
        assert!(classify_path("/home/dev/src/app/.github/workflows/ci.yml", &e).ci_config);
        assert!(classify_path("../.claude/settings.json", &e).agent_config);
        assert!(classify_path("~/.bashrc", &e).persistence);
        assert!(classify_path("../.git/hooks/pre-commit", &e).persistence);
        let tmp = classify_path("/tmp/x", &e);
        assert!(tmp.scratch && !tmp.write_outside_workspace());
        assert!(classify_path("~", &e).critical_dir);
        assert!(classify_path("/home/dev/src", &e).critical_dir);
        assert!(classify_path("..", &e).workspace_root);
        assert!(classify_path("/usr/include/stdio.h", &e).system);
        assert!(classify_path("~/notes.txt", &e).read_outside_workspace());
    }
}
