//! Caller attestation on the unix socket: the kernel's peer credentials (uid, gid, pid, read
//! with SO_PEERCRED when the connection is accepted) and what `/proc` shows for that pid and its
//! ancestors. The payload's own claims (cwd, session) are kept, but who called is this.

use ward_core::event::{Caller, ProcessRef};

/// How many ancestors to record.
const MAX_PARENTS: usize = 8;

fn exe(pid: i32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .map(|p| p.display().to_string())
}

/// `(comm, ppid)` from `/proc/<pid>/stat`; `comm` may hold spaces and parentheses, so split at
/// the last `)`.
fn stat(pid: i32) -> Option<(String, i32)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&s)
}

pub(crate) fn parse_stat(s: &str) -> Option<(String, i32)> {
    let open = s.find('(')?;
    let close = s.rfind(')')?;
    let comm = s.get(open + 1..close)?.to_string();
    let mut rest = s.get(close + 1..)?.split_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((comm, ppid))
}

/// A unix socket peer as attested when its connection was accepted: what the audit records,
/// and the home directory that `~` in its calls means.
#[derive(Debug, Clone)]
pub struct UnixPeer {
    pub caller: Caller,
    pub home: Option<String>,
}

/// What the kernel and `/proc` (and passwd, once) say about the other end of a unix socket.
pub fn unix_peer(uid: u32, gid: u32, pid: Option<i32>) -> UnixPeer {
    let entry = crate::ident::passwd_entry(uid);
    let mut caller = unix_caller(uid, gid, pid);
    caller.user = entry.as_ref().map(|(n, _)| n.clone());
    UnixPeer {
        caller,
        home: entry.map(|(_, h)| h),
    }
}

fn unix_caller(uid: u32, gid: u32, pid: Option<i32>) -> Caller {
    let mut parents = Vec::new();
    if let Some(pid) = pid {
        let mut next = stat(pid).map(|(_, ppid)| ppid);
        while let Some(p) = next {
            if p <= 0 || parents.len() >= MAX_PARENTS {
                break;
            }
            let st = stat(p);
            parents.push(ProcessRef {
                pid: p,
                exe: exe(p),
                comm: st.as_ref().map(|(c, _)| c.clone()),
            });
            next = st.map(|(_, ppid)| ppid).filter(|pp| *pp != p);
        }
    }
    Caller {
        transport: "unix".into(),
        uid: Some(uid),
        gid: Some(gid),
        pid,
        user: None,
        exe: pid.and_then(exe),
        parents,
        token: None,
        addr: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_command_names_parse() {
        assert_eq!(
            parse_stat("1234 (node) S 99 1234 1234 0 -1"),
            Some(("node".into(), 99))
        );
        assert_eq!(
            parse_stat("77 (a) b (c)) R 5 77 77"),
            Some(("a) b (c)".into(), 5))
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_attests_itself() {
        let me = std::process::id() as i32;
        let p = unix_peer(0, 0, Some(me));
        let c = &p.caller;
        assert_eq!(c.pid, Some(me));
        assert!(c.exe.is_some());
        assert!(!c.parents.is_empty(), "the test runner has a parent");
        let root = crate::ident::passwd_entry(0);
        assert_eq!(c.user, root.as_ref().map(|(n, _)| n.clone()));
        assert_eq!(p.home, root.map(|(_, h)| h));
    }
}
