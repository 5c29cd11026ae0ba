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
