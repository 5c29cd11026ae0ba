//! The spool: where a hook records its events while the daemon is down (`offline = "local"`).
//!
//! One append-only file, `$WARD_HOME/spool/events.jsonl`: a hook takes an exclusive lock, appends
//! one canonical event per line and syncs before it answers, so every answer it gave has its
//! event on disk. The daemon takes the same lock, appends the spooled events to the log in file
//! order (skipping ids already logged, so a replay after a crash adds nothing twice), and only
//! then empties the file.

use crate::home::Home;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;
use ward_core::{ErrorCode, Event, WardError};

pub fn spool_path(home: &Home) -> PathBuf {
    home.dir.join("spool").join("events.jsonl")
}

fn err(what: &str, e: impl std::fmt::Display) -> WardError {
    WardError::new(ErrorCode::AuditAppend, format!("{what}: {e}"))
}

/// Append `event` durably (the hook's offline path). An error means the answer must block.
pub fn append(home: &Home, event: &Event) -> Result<(), WardError> {
    let path = spool_path(home);
    if let Some(dir) = path.parent()
        && !dir.exists()
    {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| err("cannot create the spool directory", e))?;
    }
    let mut line = event.canonical_bytes();
    if line.is_empty() || line.contains(&b'\n') {
        return Err(err(
            "cannot spool the event",
            "it did not serialise to one line",
        ));
    }
    line.push(b'\n');
    let mut f = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| err("cannot open the spool", e))?;
    f.lock().map_err(|e| err("cannot lock the spool", e))?;
    let res = f
        .write_all(&line)
        .and_then(|_| f.sync_data())
        .map_err(|e| err("cannot write the spool", e));
    let _ = f.unlock();
    res
}

/// The spool, locked for ingestion. Dropping it without [`Locked::clear`] leaves the events
/// for the next attempt.
pub struct Locked {
    file: File,
    pub events: Vec<Event>,
    /// Lines that were not events (kept in `rejected.jsonl`, never silently dropped).
    pub rejected: usize,
}

impl Locked {
    /// Empty the spool: call only after every event is durable in the log.
    pub fn clear(self) -> Result<(), WardError> {
        self.file
            .set_len(0)
            .and_then(|_| self.file.sync_all())
            .map_err(|e| err("cannot empty the spool", e))?;
        let _ = self.file.unlock();
        Ok(())
    }
}

/// Lock and read the spool; `Ok(None)` when there is none, or another process holds it.
pub fn take(home: &Home) -> Result<Option<Locked>, WardError> {
    let path = spool_path(home);
    let mut file = match OpenOptions::new().read(true).write(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err("cannot open the spool", e)),
    };
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
        Err(std::fs::TryLockError::Error(e)) => return Err(err("cannot lock the spool", e)),
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| err("cannot read the spool", e))?;
    let (events, bad) = parse(&bytes);
    if !bad.is_empty() {
        let rejected = path.with_file_name("rejected.jsonl");
        let mut out = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&rejected)
            .map_err(|e| err("cannot keep rejected spool lines", e))?;
        for line in &bad {
            out.write_all(line)
                .and_then(|_| out.write_all(b"\n"))
                .map_err(|e| err("cannot keep rejected spool lines", e))?;
        }
        out.sync_all()
            .map_err(|e| err("cannot keep rejected spool lines", e))?;
    }
    Ok(Some(Locked {
        file,
        events,
        rejected: bad.len(),
    }))
}

/// Events of complete lines, in order, and lines that are not events. A last line without its
/// newline is a write that never finished (its hook never answered), so it is neither.
fn parse(bytes: &[u8]) -> (Vec<Event>, Vec<&[u8]>) {
    let mut events = Vec::new();
    let mut bad = Vec::new();
    let complete = match bytes.iter().rposition(|b| *b == b'\n') {
        Some(i) => &bytes[..i],
        None => return (events, bad),
    };
    for line in complete.split(|b| *b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Event>(line) {
            Ok(e) => events.push(e),
            Err(_) => bad.push(line),
        }
    }
    (events, bad)
}

/// How many events wait in the spool (complete lines).
pub fn depth(home: &Home) -> u64 {
    fs::read(spool_path(home))
        .map(|b| b.iter().filter(|c| **c == b'\n').count() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::{ClientKind, EventKind};

    fn event(i: u64) -> Event {
        Event {
            id: ward_core::event::event_id(1_700_000_000_000 + i, [i as u8; 10]),
            ts: ward_core::event::rfc3339_ms(1_700_000_000_000 + i),
            kind: EventKind::Session,
            client: ClientKind::Codex,
            hook_event: "SessionStart".into(),
            assistant: "codex@h/u".into(),
            human: "u".into(),
            host: "h".into(),
            session_id: format!("s{i}"),
            tool_use_id: None,
            agent_id: None,
            tool_name: None,
            action_kind: None,
            action: None,
            input_hash: None,
            cwd: "/w".into(),
            repo_root: None,
            decision: None,
            effect: None,
            decision_event: None,
            caller: None,
            approval: None,
            registration: None,
            task: None,
            lease: None,
        }
    }

    #[test]
    fn spooled_events_come_back_in_order_and_clear() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        assert!(take(&home).unwrap().is_none());
        for i in 0..3 {
            append(&home, &event(i)).unwrap();
        }
        assert_eq!(depth(&home), 3);
        let locked = take(&home).unwrap().unwrap();
        let ids: Vec<String> = locked.events.iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids, (0..3).map(|i| event(i).id).collect::<Vec<_>>());
        // Not cleared: the next attempt sees the same events.
        drop(locked);
        let locked = take(&home).unwrap().unwrap();
        assert_eq!(locked.events.len(), 3);
        locked.clear().unwrap();
        assert_eq!(depth(&home), 0);
        assert!(take(&home).unwrap().unwrap().events.is_empty());
    }

    #[test]
    fn torn_and_foreign_lines_are_not_events() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        append(&home, &event(1)).unwrap();
        let path = spool_path(&home);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"not json\n").unwrap();
        f.write_all(&event(2).canonical_bytes()).unwrap();
        f.write_all(b"\n{\"id\":\"evt_torn").unwrap();
        drop(f);
        let locked = take(&home).unwrap().unwrap();
        assert_eq!(locked.events.len(), 2);
        assert_eq!(locked.rejected, 1);
        let kept = fs::read_to_string(path.with_file_name("rejected.jsonl")).unwrap();
        assert_eq!(kept, "not json\n");
    }
}
