//! Audit events: typed records, one leaf of the Merkle log each.

use crate::canonical::to_canonical_string;
use crate::client::ClientKind;
use crate::decision::Decision;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A pre-tool decision.
    Decision,
    /// A post-tool effect, linked to its decision.
    Effect,
    /// Session start or end.
    Session,
    /// Prompt, stop, notification and other moments that need no decision.
    Lifecycle,
    /// An approval requested, granted, denied or expired (the decision that used one names it).
    Approval,
    /// A person changed the assistant registry (register, approve, suspend, resume, retire);
    /// `human` names who, `registration` the assistant and its status after the change.
    Registry,
    /// A task started or ended (`task` names it and its actor chain).
    Task,
    /// A credential issued, refused or revoked (`lease` names it; `task` the task it is for).
    Credential,
}

/// One process in a caller's ancestry, as `/proc` showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRef {
    pub pid: i32,
    pub exe: Option<String>,
    pub comm: Option<String>,
}

/// Who called the daemon, as the kernel attested it (unix socket peer credentials, then
/// `/proc`), or which token authenticated an HTTP hook. Never what the payload claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Caller {
    /// `unix` (attested by peer credentials) or `http` (bearer token).
    pub transport: String,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub pid: Option<i32>,
    /// The passwd name of `uid`.
    pub user: Option<String>,
    pub exe: Option<String>,
    /// Parent processes, nearest first.
    pub parents: Vec<ProcessRef>,
    /// The hook token's name (HTTP hooks).
    pub token: Option<String>,
    /// The peer address (HTTP).
    pub addr: Option<String>,
}

/// The registered assistant a decision was made for, as the event records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationRef {
    /// `ward-ast-…`
    pub id: String,
    /// Its status when the decision was made (`active`, `pending`, `suspended`).
    pub status: String,
    /// Whether this call enrolled it (first seen).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enrolled: bool,
}

/// The task an event belongs to, with the actor chain it acts under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRef {
    /// `ward-task-…`
    pub id: String,
    /// Who delegated to whom, the requester first (`user:alice`, `assistant:ward-ast-…`,
    /// `agent:…`).
    pub actors: Vec<String>,
}

/// A credential as an event records it (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRef {
    /// `ward-lease-…`; absent when the credential was refused.
    pub id: Option<String>,
    /// `token`, `secret`, `postgres`, …
    pub kind: String,
    /// What it grants (`git:github.com/acme/api`, `postgres:analytics`, an audience).
    pub resource: String,
    /// `issued`, `denied` or `revoked`.
    pub state: String,
    /// Why it was refused or revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An approval as an event records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRef {
    /// `ward-apr-…`
    pub id: String,
    /// `requested`, `approved`, `denied`, `expired`, `used` (on the decision that used it) or
    /// `local_confirm` (the developer's own confirmation in the client, never an approval).
    pub state: String,
    /// The human the session acts for.
    pub requester: String,
    /// The ward user who approved or denied.
    pub approver: Option<String>,
    pub note: Option<String>,
    /// Canonical hash of the exact action the approval is bound to.
    pub action_hash: String,
}

/// A file a call changed, with the SHA-256 of its new content (`None` when deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: String,
    pub sha256: Option<String>,
}

/// The git state a `git commit`/`git push` left behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitEffect {
    pub commit: String,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// `commit` or `push`.
    pub verb: String,
}

/// What a post-tool event reported, plus what ward read from disk after the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EffectRecord {
    pub success: bool,
    pub exit_code: Option<i64>,
    pub error: Option<String>,
    pub output_bytes: u64,
    pub files: Vec<FileChange>,
    pub git: Option<GitEffect>,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `evt_` followed by 26 Crockford base32 characters (time-ordered).
    pub id: String,
    /// RFC 3339 UTC timestamp with milliseconds.
    pub ts: String,
    pub kind: EventKind,
    pub client: ClientKind,
    /// The client's own event name.
    pub hook_event: String,
    /// The assistant identity (`client@host/user`).
    pub assistant: String,
    /// The human on whose account the assistant ran (OS user).
    pub human: String,
    pub host: String,
    pub session_id: String,
    pub tool_use_id: Option<String>,
    pub agent_id: Option<String>,
    pub tool_name: Option<String>,
    pub action_kind: Option<String>,
    /// The command, paths, URL or MCP target.
    pub action: Option<String>,
    /// Canonical hash of the tool input.
    pub input_hash: Option<String>,
    pub cwd: String,
    pub repo_root: Option<String>,
    pub decision: Option<Decision>,
    pub effect: Option<EffectRecord>,
    /// For effects: the id of the decision event this effect belongs to.
    pub decision_event: Option<String>,
    /// Who called the daemon (absent for a standalone hook process).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<Caller>,
    /// The approval this event requested, decided or used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalRef>,
    /// The assistant's registration (absent where no registry was consulted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<RegistrationRef>,
    /// The task the event belongs to (absent where none was open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskRef>,
    /// The credential issued, refused or revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<LeaseRef>,
}

impl Event {
    /// The exact bytes that become the Merkle leaf.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        match serde_json::to_value(self) {
            Ok(v) => to_canonical_string(&v).into_bytes(),
            // Serializing plain data cannot fail; keep a deterministic fallback anyway.
            Err(_) => Vec::new(),
        }
    }
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// An event id from a millisecond timestamp and 10 random bytes (ULID layout).
pub fn event_id(unix_ms: u64, random: [u8; 10]) -> String {
    let mut value: u128 = (u128::from(unix_ms) & ((1u128 << 48) - 1)) << 80;
    for (i, b) in random.iter().enumerate() {
        value |= u128::from(*b) << (72 - 8 * i);
    }
    let mut s = String::with_capacity(30);
    s.push_str("evt_");
    for i in (0..26).rev() {
        let idx = ((value >> (5 * i)) & 0x1f) as usize;
        s.push(CROCKFORD[idx] as char);
    }
    s
}

/// RFC 3339 UTC with milliseconds from Unix milliseconds (civil-from-days, Howard Hinnant).
pub fn rfc3339_ms(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let ms = unix_ms % 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if mo <= 2 { y + 1 } else { y };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
}

/// Unix milliseconds at 00:00 UTC of a `YYYY-MM-DD` date (days-from-civil, Howard Hinnant);
/// `None` unless it is a real calendar date from 1970 on.
pub fn date_ms(date: &str) -> Option<u64> {
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if y < 1970 || !(1..=12).contains(&m) || d < 1 || d > days_in[(m - 1) as usize] {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days).ok().map(|d| d * 86_400_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_to_the_day_they_name() {
        assert_eq!(date_ms("1970-01-01"), Some(0));
        assert_eq!(
            date_ms("2000-02-29").map(rfc3339_ms).as_deref(),
            Some("2000-02-29T00:00:00.000Z")
        );
        assert_eq!(
            date_ms("2026-11-24").map(rfc3339_ms).as_deref(),
            Some("2026-11-24T00:00:00.000Z")
        );
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-01",
            "1969-12-31",
            "2026-11-24x",
            "soon",
            "",
        ] {
            assert_eq!(date_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn ids_sort_by_time() {
        let a = event_id(1_700_000_000_000, [0xff; 10]);
        let b = event_id(1_700_000_000_001, [0; 10]);
        assert_eq!(a.len(), 30);
        assert!(a < b);
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_795_000_000_123), "2026-11-18T11:06:40.123Z");
        assert_eq!(rfc3339_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
