//! Who and where: host name, OS user, repository root. Read from the system, cheaply.

use std::path::{Path, PathBuf};

/// The host name (`/proc/sys/kernel/hostname`, `$HOSTNAME`, or `unknown-host`).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string())
}

/// The passwd entry of `uid`: its name and home directory.
pub fn passwd_entry(uid: u32) -> Option<(String, String)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() >= 6 && f[2].parse::<u32>().ok()? == uid)
            .then(|| (f[0].to_string(), f[5].to_string()))
    })
}

/// The uid this process runs as (read once).
pub fn process_uid() -> Option<u32> {
    static UID: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    *UID.get_or_init(real_uid)
}

/// The OS user name: the passwd entry of the real uid, else `$USER`, else `uid:<n>`.
pub fn os_user() -> String {
    let uid = real_uid();
    if let Some((name, _)) = uid.and_then(passwd_entry) {
        return name;
    }
    if let Ok(u) = std::env::var("USER")
        && !u.is_empty()
    {
        return u;
    }
    uid.map(|u| format!("uid:{u}"))
        .unwrap_or_else(|| "unknown-user".into())
}

fn real_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|s| s.parse().ok())
}

/// The user's home directory.
pub fn home_dir() -> String {
    std::env::var("HOME").unwrap_or_else(|_| "/".into())
}

/// The enclosing git repository root of `cwd` (a directory holding `.git`), if any.
pub fn repo_root(cwd: &Path) -> Option<PathBuf> {
    let mut dir = Some(cwd);
    let mut depth = 0;
    while let Some(d) = dir {
        if d.join(".git").exists() {
            return Some(d.to_path_buf());
        }
        depth += 1;
        if depth > 64 {
            break;
        }
        dir = d.parent();
    }
    None
}

/// The names a repository answers to, for an assistant's allowed-repository globs: its root
/// path, and for each remote in its git config `host/owner/name` and `owner/name` (from
/// `https://github.com/acme/api.git`, `git@github.com:acme/api.git`, `ssh://git@host/acme/api`).
pub fn repo_names(root: &Path) -> Vec<String> {
    let mut names = vec![root.display().to_string()];
    for url in remote_urls(root) {
        if let Some((host, path)) = split_remote(&url) {
            let path = path.trim_matches('/').trim_end_matches(".git");
            if path.is_empty() {
                continue;
            }
            names.push(format!("{host}/{path}"));
            let parts: Vec<&str> = path.split('/').collect();
            if parts.len() >= 2 {
                names.push(parts[parts.len() - 2..].join("/"));
            }
        }
    }
    names
}

/// The remote URLs of the repository at `root` (its `.git/config`, or for a worktree the
/// common directory's).
fn remote_urls(root: &Path) -> Vec<String> {
    let git = root.join(".git");
    let dir = if git.is_dir() {
        git
    } else {
        let Some(gitdir) = std::fs::read_to_string(&git)
            .ok()
            .and_then(|t| t.strip_prefix("gitdir:").map(|s| s.trim().to_string()))
        else {
            return Vec::new();
        };
        let gitdir = root.join(gitdir);
        match std::fs::read_to_string(gitdir.join("commondir")) {
            Ok(common) => gitdir.join(common.trim()),
            Err(_) => gitdir,
        }
    };
    let Ok(config) = std::fs::read_to_string(dir.join("config")) else {
        return Vec::new();
    };
    let mut in_remote = false;
    let mut urls = Vec::new();
    for line in config.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_remote = line.starts_with("[remote ");
        } else if in_remote
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "url"
        {
            urls.push(value.trim().trim_matches('"').to_string());
        }
    }
    urls
}

/// `(host, path)` of a git remote URL.
fn split_remote(url: &str) -> Option<(String, String)> {
    if let Some((_, rest)) = url.split_once("://") {
        let (host, path) = rest.split_once('/')?;
        let host = host.rsplit('@').next()?.split(':').next()?;
        return Some((host.to_lowercase(), path.to_string()));
    }
    // scp-like: [user@]host:path
    let (host, path) = url.split_once(':')?;
    if host.contains('/') {
        return None;
    }
    Some((host.rsplit('@').next()?.to_lowercase(), path.to_string()))
}

pub use ward_core::glob::matches as glob_matches;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn a_repository_answers_to_its_path_and_its_remotes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::write(
            dir.path().join(".git/config"),
            "[core]\n\turl = not-a-remote\n[remote \"origin\"]\n\turl = git@github.com:Acme/api.git\n\tfetch = +refs/heads/*\n[remote \"up\"]\n\turl = https://user@gitlab.example.com:8443/group/sub/tool/\n",
        )
        .unwrap();
        let names = repo_names(dir.path());
        assert_eq!(
            names[1..],
            [
                "github.com/Acme/api",
                "Acme/api",
                "gitlab.example.com/group/sub/tool",
                "sub/tool"
            ]
        );
        assert_eq!(names[0], dir.path().display().to_string());
    }
}
