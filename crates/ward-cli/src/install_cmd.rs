//! `ward hook install | uninstall | doctor`: the file side of [`ward_clients::install`].
//!
//! The pure functions there compute the new file texts; this module reads the files, writes a
//! timestamped backup of every file it changes (`<file>.ward-backup-<unix secs>`), and replaces
//! files atomically (a temporary file in the same directory, then `rename`), keeping the file's
//! permissions and writing through symlinks to their target.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use ward_clients::install::*;
use ward_core::{ClientKind, ErrorCode, WardError};

/// The clients' locations from this process's environment (`HOME`, `CLAUDE_CONFIG_DIR`,
/// `CODEX_HOME`, `COPILOT_HOME`, `GEMINI_CLI_HOME`, `GEMINI_CLI_TRUSTED_FOLDERS_PATH`) and
/// current directory.
pub fn install_env_from_process() -> Result<InstallEnv, WardError> {
    let cwd = std::env::current_dir().map_err(|e| {
        WardError::new(
            ErrorCode::Io,
            format!("cannot read the current directory: {e}"),
        )
    })?;
    InstallEnv::from_vars(|k| std::env::var(k).ok(), cwd)
}

/// One file the command would write.
struct Change {
    path: PathBuf,
    old: Option<String>,
    new: String,
    changed: bool,
    remove: bool,
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> WardError {
    WardError::new(
        ErrorCode::Io,
        format!("cannot {what} {}: {e}", path.display()),
    )
}

fn read_optional(path: &Path) -> Result<Option<String>, WardError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("read", path, &e)),
    }
}

/// Codex keys trust by the hooks file's path as Codex sees it: `$CODEX_HOME` is canonicalized
/// (checked with Codex 0.169: a symlinked or `..` CODEX_HOME shows up resolved in the keys),
/// the default `~/.codex` is not. Project files are taken canonicalized too.
fn codex_key_path(env: &InstallEnv, project: Option<&Path>, hooks_path: &Path) -> PathBuf {
    if (project.is_some() || env.codex_home.is_some())
        && let (Some(dir), Some(name)) = (hooks_path.parent(), hooks_path.file_name())
        && let Ok(real) = fs::canonicalize(dir)
    {
        return real.join(name);
    }
    hooks_path.to_path_buf()
}

/// The file a symlink points to (so that dotfile managers' links survive), else `path`.
fn real_target(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| match (fs::read_link(path), path.parent()) {
                (Ok(target), Some(dir)) => dir.join(target),
                _ => path.to_path_buf(),
            })
        }
        _ => path.to_path_buf(),
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Copies `path` to `<path>.ward-backup-<unix secs>` (with `.1`, `.2`, … if that exists).
fn backup(path: &Path) -> Result<PathBuf, WardError> {
    let base = format!("{}.ward-backup-{}", path.display(), now_secs());
    let mut candidate = PathBuf::from(&base);
    let mut n = 1;
    while fs::symlink_metadata(&candidate).is_ok() {
        candidate = PathBuf::from(format!("{base}.{n}"));
        n += 1;
    }
    fs::copy(real_target(path), &candidate).map_err(|e| io_error("back up", path, &e))?;
    Ok(candidate)
}

/// Replaces `path` with `text` atomically, keeping its permissions.
fn write_atomic(path: &Path, text: &str) -> Result<(), WardError> {
    let target = real_target(path);
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|e| io_error("create", &dir, &e))?;
    let permissions = fs::metadata(&target).ok().map(|m| m.permissions());
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "settings".to_string());
    let tmp = dir.join(format!(".{name}.ward-tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        if let Some(p) = &permissions {
            f.set_permissions(p.clone())?;
        }
        f.sync_all()?;
        fs::rename(&tmp, &target)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_error("write", &target, &e));
    }
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Applies the changes; returns one summary line per file.
fn apply(changes: &[Change]) -> Result<Vec<String>, WardError> {
    let mut lines = Vec::new();
    for c in changes.iter().filter(|c| c.changed) {
        let saved = match &c.old {
            Some(_) if fs::symlink_metadata(&c.path).is_ok() => Some(backup(&c.path)?),
            _ => None,
        };
        let verb = if c.remove {
            let target = real_target(&c.path);
            fs::remove_file(&target).map_err(|e| io_error("remove", &target, &e))?;
            "removed"
        } else {
            write_atomic(&c.path, &c.new)?;
            if c.old.is_some() {
                "updated"
            } else {
                "created"
            }
        };
        lines.push(match saved {
            Some(b) => format!("  {verb} {} (backup: {})", c.path.display(), b.display()),
            None => format!("  {verb} {}", c.path.display()),
        });
    }
    Ok(lines)
}

fn render_print(changes: &[Change]) -> String {
    match changes {
        [only] => only.new.clone(),
        _ => changes
            .iter()
            .map(|c| format!("==> {} <==\n{}", c.path.display(), c.new))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn codex_config_change(
    env: &InstallEnv,
    project: Option<&Path>,
    hooks_path: &Path,
    old_hooks: Option<&str>,
    new_hooks: &str,
) -> Result<Change, WardError> {
    let path = codex_config_path(env);
    let old = read_optional(&path)?;
    let key_path = codex_key_path(env, project, hooks_path);
    let new = codex_update_config(old.as_deref(), &key_path, old_hooks, new_hooks)?;
    let changed = new != old.as_deref().unwrap_or("");
    Ok(Change {
        path,
        old,
        new,
        changed,
        remove: false,
    })
}

/// `ward hook install <client> [--print] [--project DIR]`.
///
/// Registers `<ward_bin> hook <client>` on every event ward handles, in the client's user
/// settings (or the project's with `project`). With `print`, returns the new file text(s) and
/// writes nothing (Codex: the hooks file and `config.toml`, each after a `==> path <==` line).
/// Otherwise returns a human summary. For Codex, also records the hooks' trust in
/// `$CODEX_HOME/config.toml`, without which Codex skips them silently.
pub fn install(
    client: ClientKind,
    print: bool,
    project: Option<PathBuf>,
    ward_bin: &str,
    env: &InstallEnv,
) -> Result<String, WardError> {
    if ward_bin.trim().is_empty() {
        return Err(WardError::new(
            ErrorCode::BadInput,
            "the ward binary path is empty",
        ));
    }
    let project = project.as_deref();
    let path = settings_path(client, env, project);
    let old = read_optional(&path)?;
    let out = install_entry(client, old.as_deref(), ward_bin)?;
    let mut changes = vec![Change {
        path: path.clone(),
        old: old.clone(),
        new: out.text.clone(),
        changed: out.changed,
        remove: false,
    }];
    if client == ClientKind::Codex {
        changes.push(codex_config_change(
            env,
            project,
            &path,
            old.as_deref(),
            &out.text,
        )?);
    }
    if print {
        return Ok(render_print(&changes));
    }
    let written = apply(&changes)?;
    let events = hook_events(client).len();
    let command = hook_command(client, ward_bin, "");
    let mut lines = Vec::new();
    if written.is_empty() {
        lines.push(format!(
            "ward is already installed for {client} in {}; nothing changed",
            path.display()
        ));
    } else {
        lines.push(format!(
            "installed `{}` for {client} on {events} events:",
            command.trim_end()
        ));
        lines.extend(written);
    }
    if client == ClientKind::Codex && changes.get(1).is_some_and(|c| c.changed) {
        lines.push(format!(
            "  trusted ward's hooks in {} (Codex skips untrusted hooks silently)",
            codex_config_path(env).display()
        ));
    }
    for note in &out.notes {
        lines.push(format!("note: {note}"));
    }
    if !Path::new(ward_bin).is_absolute() {
        lines.push(format!(
            "note: `{ward_bin}` is not an absolute path; the client must find it on its own PATH"
        ));
    }
    match (client, project) {
        (ClientKind::Gemini, _) => lines.push(
            "note: Gemini CLI runs settings hooks only in trusted folders; `ward hook doctor gemini` checks the current one"
                .to_string(),
        ),
        (ClientKind::Codex, Some(p)) => lines.push(format!(
            "note: Codex loads {} only when the project {} is trusted",
            path.display(),
            p.display()
        )),
        _ => {}
    }
    Ok(lines.join("\n"))
}

/// `ward hook uninstall <client> [--print] [--project DIR]`: removes ward's handlers (and, for
/// Codex, their trust entries), keeping everything else. Copilot's `hooks/ward.json` is deleted
/// when nothing else is left in it.
pub fn uninstall(
    client: ClientKind,
    print: bool,
    project: Option<PathBuf>,
    env: &InstallEnv,
) -> Result<String, WardError> {
    let project = project.as_deref();
    let path = settings_path(client, env, project);
    let old = read_optional(&path)?;
    let out = uninstall_entry(client, old.as_deref())?;
    let mut changes = vec![Change {
        path: path.clone(),
        old: old.clone(),
        new: out.text.clone(),
        changed: out.changed,
        remove: out.remove_file,
    }];
    if client == ClientKind::Codex && old.is_some() {
        changes.push(codex_config_change(
            env,
            project,
            &path,
            old.as_deref(),
            &out.text,
        )?);
    }
    if print {
        return Ok(render_print(&changes));
    }
    let written = apply(&changes)?;
    if written.is_empty() {
        return Ok(format!(
            "ward was not installed for {client} in {}; nothing changed",
            path.display()
        ));
    }
    let mut lines = vec![format!("removed ward's hooks for {client}:")];
    lines.extend(written);
    Ok(lines.join("\n"))
}

fn status_of(path: &Path) -> BinaryStatus {
    match fs::metadata(path) {
        Ok(m) if m.is_file() => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                if m.permissions().mode() & 0o111 == 0 {
                    return BinaryStatus::NotExecutable;
                }
            }
            BinaryStatus::Executable
        }
        Ok(_) => BinaryStatus::NotExecutable,
        Err(_) => BinaryStatus::Missing,
    }
}

/// Resolves a hook command's program the way a shell would: `~/` from `$HOME`, a path with a
/// `/` from the current directory, a bare name on `PATH`.
fn binary_status(program: &str, env: &InstallEnv) -> BinaryStatus {
    if let Some(rest) = program.strip_prefix("~/") {
        return status_of(&env.home.join(rest));
    }
    if program.contains('/') {
        let p = Path::new(program);
        return status_of(&if p.is_absolute() {
            p.to_path_buf()
        } else {
            env.cwd.join(p)
        });
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.exists())
        .map_or(BinaryStatus::Missing, |c| status_of(&c))
}

fn doctor_input_files(client: ClientKind, env: &InstallEnv) -> Vec<SettingsFile> {
    let user = settings_path(client, env, None);
    let project = settings_path(client, env, Some(&env.cwd));
    let mut paths = vec![user];
    if project != paths[0] && fs::symlink_metadata(&project).is_ok() {
        paths.push(project);
    }
    paths
        .into_iter()
        .map(|p| {
            let key = if client == ClientKind::Codex {
                let is_project = p != settings_path(client, env, None);
                codex_key_path(env, is_project.then_some(env.cwd.as_path()), &p)
            } else {
                p.clone()
            };
            SettingsFile {
                path: key,
                contents: fs::read_to_string(&p).ok(),
            }
        })
        .collect()
}

/// `ward hook doctor [<client>] [--json]`: checks each client's hook setup. Returns the report
/// (human text, or JSON `{"ok": bool, "errors": n, "warnings": n, "findings": […]}`) and whether
/// any check failed with an error. Clients that are not set up for this user are skipped when
/// several are checked, and warned about when one was asked for explicitly.
pub fn doctor(
    clients: &[ClientKind],
    env: &InstallEnv,
    json: bool,
) -> Result<(String, bool), WardError> {
    let cwd = fs::canonicalize(&env.cwd).unwrap_or_else(|_| env.cwd.clone());
    let codex_config = read_optional(&codex_config_path(env)).unwrap_or(None);
    let gemini_trusted = read_optional(&gemini_trusted_folders_path(env)).unwrap_or(None);
    let status = |program: &str| binary_status(program, env);
    let mut all = Vec::new();
    for &client in clients {
        let files = doctor_input_files(client, env);
        for f in &files {
            if f.contents.is_none()
                && let Err(e) = fs::read_to_string(&f.path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                all.push(Finding {
                    client,
                    severity: Severity::Error,
                    code: "settings-unreadable",
                    message: format!("cannot read {}: {e}", f.path.display()),
                    help: "check the file's permissions".to_string(),
                    path: Some(f.path.clone()),
                });
            }
        }
        let input = DoctorInput {
            client_present: client_home(client, env).is_dir(),
            files,
            codex_config: codex_config.clone(),
            gemini_trusted_folders: gemini_trusted.clone(),
            cwd: cwd.clone(),
            binary_status: &status,
        };
        let mut findings = ward_clients::install::doctor(client, &input);
        if clients.len() == 1 {
            for f in &mut findings {
                if f.code == "client-not-set-up" {
                    f.severity = Severity::Warn;
                    f.message = format!(
                        "{client} is not set up for this user ({} does not exist)",
                        client_home(client, env).display()
                    );
                }
            }
        }
        all.extend(findings);
    }
    let errors = all.iter().filter(|f| f.severity == Severity::Error).count();
    let warnings = all.iter().filter(|f| f.severity == Severity::Warn).count();
    let any_error = errors > 0;
    if json {
        let report = serde_json::json!({
            "ok": !any_error,
            "errors": errors,
            "warnings": warnings,
            "findings": all,
        });
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| WardError::new(ErrorCode::Io, format!("cannot render the report: {e}")))?;
        return Ok((text, any_error));
    }
    let mut out = String::new();
    for &client in clients {
        out.push_str(&format!("{client}\n"));
        for f in all.iter().filter(|f| f.client == client) {
            out.push_str(&format!(
                "  {:<5}  {}: {}\n",
                f.severity.as_str(),
                f.code,
                f.message
            ));
            if !f.help.is_empty() {
                out.push_str(&format!("         help: {}\n", f.help));
            }
        }
    }
    out.push_str(&format!("{errors} errors, {warnings} warnings\n"));
    Ok((out, any_error))
}

/// `ward hook install claude-code --http [--url URL]`: an `http` hook entry that posts each
/// payload to the daemon with a fresh bearer token (created here, as `ward hook token` does).
pub fn install_http(
    client: ClientKind,
    print: bool,
    project: Option<PathBuf>,
    url: Option<&str>,
) -> Result<i32, WardError> {
    if client != ClientKind::ClaudeCode {
        return Err(WardError::new(
            ErrorCode::BadInput,
            format!(
                "`--http` is for claude-code; {client} runs command hooks only (`ward hook install {client}`)"
            ),
        ));
    }
    let env = install_env_from_process()?;
    let home = crate::home::Home::resolve()?;
    let base = match url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => match ward_server::serve::read_marker(&home)? {
            Some(m) => format!("http://{}", m.listen),
            None => "http://127.0.0.1:7878".to_string(),
        },
    };
    if !base.starts_with("http://") && !base.starts_with("https://") {
        return Err(WardError::new(
            ErrorCode::BadInput,
            format!("`{base}` is not an http(s) URL"),
        ));
    }
    let name = format!(
        "{}@{}/{}",
        client.as_str(),
        crate::ident::hostname(),
        crate::ident::os_user()
    );
    let project = project.as_deref();
    let path = settings_path(client, &env, project);
    let old = read_optional(&path)?;
    // Preview without minting a token: the entry shows where it would go.
    if print {
        let out = ward_clients::install::install_entry_with(
            client,
            old.as_deref(),
            ward_clients::install::HookTarget::Http {
                base_url: &base,
                token: "<token from `ward hook token`>",
            },
        )?;
        let changes = vec![Change {
            path: path.clone(),
            old,
            new: out.text,
            changed: out.changed,
            remove: false,
        }];
        println!("{}", render_print(&changes));
        return Ok(0);
    }
    let token = crate::people_cmd::new_hook_token(&name)?;
    let out = ward_clients::install::install_entry_with(
        client,
        old.as_deref(),
        ward_clients::install::HookTarget::Http {
            base_url: &base,
            token: &token,
        },
    )?;
    let changes = vec![Change {
        path: path.clone(),
        old,
        new: out.text,
        changed: out.changed,
        remove: false,
    }];
    let written = apply(&changes)?;
    println!(
        "installed an http hook for {client} posting to {base}{}{} with hook token `{name}`:",
        ward_clients::install::HTTP_HOOK_PATH,
        client.as_str()
    );
    for w in written {
        println!("{w}");
    }
    println!(
        "note: the token is in {}; rotate it with `ward hook token {name}` and install again",
        path.display()
    );
    Ok(0)
}

/// `ward mcp install <client> [--revert] [--print]`: every stdio MCP server in the client's user
/// and project files runs through `ward mcp wrap` (or, with `revert`, runs as before). Each file
/// changed is backed up first and replaced atomically.
pub fn mcp_install(
    client: &str,
    revert: bool,
    print: bool,
    ward_bin: &str,
    env: &InstallEnv,
) -> Result<String, WardError> {
    use ward_clients::install::mcp;
    let mut changes = Vec::new();
    let mut servers = Vec::new();
    for file in mcp::mcp_files(client, env)? {
        let Some(old) = read_optional(&file.path)? else {
            continue;
        };
        let (new, names) = if file.toml {
            mcp::rewrite_toml(&old, &file.path, ward_bin, revert)?
        } else {
            mcp::rewrite_json(&old, &file, ward_bin, client, revert)?
        };
        if let Some(new) = new {
            servers.extend(
                names
                    .iter()
                    .map(|n| format!("{n} ({})", file.path.display())),
            );
            changes.push(Change {
                path: file.path,
                old: Some(old),
                new,
                changed: true,
                remove: false,
            });
        }
    }
    if print {
        return Ok(render_print(&changes));
    }
    if changes.is_empty() {
        return Ok(format!(
            "no stdio MCP server of {client} to {}",
            if revert { "unwrap" } else { "wrap" }
        ));
    }
    let lines = apply(&changes)?;
    let verb = if revert {
        "unwrapped"
    } else {
        "wrapped in `ward mcp wrap`"
    };
    Ok(format!(
        "{verb}: {}\n{}\nrestart {client} to pick it up",
        servers.join(", "),
        lines.join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            static N: AtomicUsize = AtomicUsize::new(0);
            let p = std::env::temp_dir().join(format!(
                "ward-install-cmd-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            TempDir(fs::canonicalize(&p).unwrap())
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn setup() -> (TempDir, InstallEnv, String) {
        let t = TempDir::new();
        let home = t.0.join("home");
        let cwd = t.0.join("work");
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(&cwd).unwrap();
        let bin = t.0.join("bin").join("ward");
        fs::create_dir_all(bin.parent().unwrap()).unwrap();
        fs::write(&bin, "#!/bin/sh\nexit 0\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
        }
        let env = InstallEnv::new(home, cwd);
        (t, env, bin.display().to_string())
    }

    fn backups(dir: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains(".ward-backup-"))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn install_writes_backs_up_and_is_idempotent() {
        let (_t, env, bin) = setup();
        let path = settings_path(ClientKind::ClaudeCode, &env, None);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, "{\"model\": \"opus\"}\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        }
        let summary = install(ClientKind::ClaudeCode, false, None, &bin, &env).unwrap();
        assert!(summary.contains("installed"), "{summary}");
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("hook claude-code"));
        assert!(text.contains("\"model\": \"opus\""));
        let b = backups(path.parent().unwrap());
        assert_eq!(b.len(), 1);
        assert_eq!(
            fs::read_to_string(&b[0]).unwrap(),
            "{\"model\": \"opus\"}\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o640);
        }
        // Second run: nothing changes, no new backup.
        let summary = install(ClientKind::ClaudeCode, false, None, &bin, &env).unwrap();
        assert!(summary.contains("nothing changed"), "{summary}");
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
        assert_eq!(backups(path.parent().unwrap()).len(), 1);
        // No temporary files left behind.
        assert!(fs::read_dir(path.parent().unwrap()).unwrap().all(|e| {
            !e.unwrap()
                .file_name()
                .to_string_lossy()
                .contains("ward-tmp")
        }));
    }

    #[test]
    fn print_mode_writes_nothing() {
        let (_t, env, bin) = setup();
        let out = install(ClientKind::Cursor, true, None, &bin, &env).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["version"], 1);
        assert!(!settings_path(ClientKind::Cursor, &env, None).exists());
        let out = install(ClientKind::Codex, true, None, &bin, &env).unwrap();
        assert!(
            out.contains("==> ") && out.contains("trusted_hash"),
            "{out}"
        );
        assert!(!client_home(ClientKind::Codex, &env).exists());
    }

    #[test]
    fn codex_install_trusts_and_uninstall_cleans_up() {
        let (_t, env, bin) = setup();
        let cfg_path = codex_config_path(&env);
        fs::create_dir_all(cfg_path.parent().unwrap()).unwrap();
        fs::write(&cfg_path, "model = \"gpt-5.5\" # mine\n").unwrap();
        install(ClientKind::Codex, false, None, &bin, &env).unwrap();
        let hooks_path = settings_path(ClientKind::Codex, &env, None);
        let hooks = fs::read_to_string(&hooks_path).unwrap();
        let cfg = fs::read_to_string(&cfg_path).unwrap();
        assert!(cfg.starts_with("model = \"gpt-5.5\" # mine\n"));
        let states = codex_trust_states(Some(&cfg)).unwrap();
        for (key, hash) in codex_trust_entries(&hooks_path, &hooks).unwrap() {
            assert_eq!(states[&key].trusted_hash.as_deref(), Some(hash.as_str()));
        }
        let (report, any_error) = doctor(&[ClientKind::Codex], &env, false).unwrap();
        assert!(!any_error, "{report}");
        uninstall(ClientKind::Codex, false, None, &env).unwrap();
        let cfg = fs::read_to_string(&cfg_path).unwrap();
        assert!(codex_trust_states(Some(&cfg)).unwrap().is_empty(), "{cfg}");
        assert!(cfg.starts_with("model = \"gpt-5.5\" # mine\n"));
        let (report, any_error) = doctor(&[ClientKind::Codex], &env, true).unwrap();
        assert!(any_error);
        let v: serde_json::Value = serde_json::from_str(&report).unwrap();
        assert_eq!(v["findings"][0]["code"], "hook-missing");
    }

    #[test]
    fn copilot_uninstall_deletes_its_own_file() {
        let (_t, env, bin) = setup();
        install(ClientKind::Copilot, false, None, &bin, &env).unwrap();
        let path = settings_path(ClientKind::Copilot, &env, None);
        assert!(path.exists());
        uninstall(ClientKind::Copilot, false, None, &env).unwrap();
        assert!(!path.exists());
        assert_eq!(backups(path.parent().unwrap()).len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_settings_are_written_through() {
        let (t, env, bin) = setup();
        let real = t.0.join("dotfiles").join("settings.json");
        fs::create_dir_all(real.parent().unwrap()).unwrap();
        fs::write(&real, "{}").unwrap();
        let link = settings_path(ClientKind::ClaudeCode, &env, None);
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        install(ClientKind::ClaudeCode, false, None, &bin, &env).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(
            fs::read_to_string(&real)
                .unwrap()
                .contains("hook claude-code")
        );
    }

    #[test]
    fn doctor_skips_absent_clients_and_finds_a_missing_binary() {
        let (_t, env, bin) = setup();
        let (report, any_error) = doctor(&ClientKind::ALL, &env, false).unwrap();
        assert!(!any_error, "{report}");
        assert!(report.contains("client-not-set-up"));
        install(ClientKind::ClaudeCode, false, None, &bin, &env).unwrap();
        let (report, any_error) = doctor(&[ClientKind::ClaudeCode], &env, false).unwrap();
        assert!(!any_error, "{report}");
        fs::remove_file(&bin).unwrap();
        let (report, any_error) = doctor(&[ClientKind::ClaudeCode], &env, false).unwrap();
        assert!(any_error);
        assert!(report.contains("ward-binary-missing"), "{report}");
        // One client asked for by name and not set up: a warning.
        let (report, _) = doctor(&[ClientKind::Cursor], &env, false).unwrap();
        assert!(report.contains("warn   client-not-set-up"), "{report}");
    }

    #[test]
    fn empty_ward_path_is_refused() {
        let (_t, env, _) = setup();
        assert_eq!(
            install(ClientKind::ClaudeCode, false, None, " ", &env)
                .unwrap_err()
                .code,
            ErrorCode::BadInput
        );
    }
}
