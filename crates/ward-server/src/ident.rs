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

/// The OS user name: the passwd entry of the real uid, else `$USER`, else `uid:<n>`.
pub fn os_user() -> String {
    let uid = real_uid();
    if let (Some(uid), Ok(passwd)) = (uid, std::fs::read_to_string("/etc/passwd")) {
        for line in passwd.lines() {
            let mut parts = line.split(':');
            if let (Some(name), Some(_), Some(id)) = (parts.next(), parts.next(), parts.next())
                && id == uid.to_string()
            {
                return name.to_string();
            }
        }
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
