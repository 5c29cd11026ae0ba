use super::*;
use ward_core::{ClientKind, Decision, EventKind, Outcome};

fn signer() -> NoteSigner {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    NoteSigner::new("ward.test/log", key).unwrap()
}

fn event(i: u64) -> Event {
    Event {
        id: ward_core::event::event_id(1_700_000_000_000 + i, [i as u8; 10]),
        ts: ward_core::event::rfc3339_ms(1_700_000_000_000 + i),
        kind: EventKind::Decision,
        client: ClientKind::ClaudeCode,
        hook_event: "PreToolUse".into(),
        assistant: "claude-code@h/u".into(),
        human: "u".into(),
        host: "h".into(),
        session_id: "s1".into(),
        tool_use_id: Some(format!("toolu_{i}")),
        agent_id: None,
        tool_name: Some("Bash".into()),
        action_kind: Some("shell".into()),
        action: Some(format!("echo {i}")),
        input_hash: Some(format!("h{i}")),
        cwd: "/w".into(),
        repo_root: None,
        decision: Some(Decision {
            outcome: Outcome::Allow,
            policies: vec!["everyday-development".into()],
            reason: "ok".into(),
            facts: vec![],
            error_code: None,
        }),
        effect: None,
        decision_event: None,
    }
}

fn filled(n: u64) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("ward.db")).unwrap();
    let s = signer();
    for i in 0..n {
        let r = store.append(&event(i), &s, "ward.test/log").unwrap();
        assert_eq!(r.seq, i);
        assert_eq!(r.tree_size, i + 1);
    }
    (dir, store)
}

#[test]
fn append_then_verify_and_roots_match_the_math() {
    let (_d, mut store) = filled(9);
    let sum = verify::verify(&mut store, &signer().verifier()).unwrap();
    assert_eq!(sum.events, 9);
    assert_eq!(sum.checkpoints, 9);
    let leaves = store.leaf_hashes(9).unwrap();
    let cp = store.latest_checkpoint().unwrap().unwrap();
    assert_eq!(cp.root, ward_audit::root_from_leaf_hashes(&leaves).to_vec());
}

#[test]
fn links_post_events_by_id_or_by_input() {
    let (_d, mut store) = filled(3);
    let by_id = store
        .find_decision("s1", Some("toolu_1"), None, None)
        .unwrap();
    assert_eq!(by_id.as_deref(), Some(event(1).id.as_str()));
    let by_input = store
        .find_decision("s1", None, Some("Bash"), Some("h2"))
        .unwrap();
    assert_eq!(by_input.as_deref(), Some(event(2).id.as_str()));
    assert!(
        store
            .find_decision("s2", None, Some("Bash"), Some("h2"))
            .unwrap()
            .is_none()
    );
}

fn tamper(dir: &tempfile::TempDir, sql: &'static str) {
    let mut store = Store::open(&dir.path().join("ward.db")).unwrap();
    let Store { rt, conn } = &mut store;
    rt.block_on(async { sqlx::query(sql).execute(&mut *conn).await })
        .unwrap();
}

#[test]
fn any_tampering_is_named() {
    let cases = [
        (
            "UPDATE events SET body = CAST(replace(CAST(body AS TEXT), 'echo 4', 'echo 5') AS BLOB) WHERE seq = 4",
            "event 4",
        ),
        (
            "UPDATE events SET leaf_hash = zeroblob(32) WHERE seq = 2",
            "event 2",
        ),
        ("DELETE FROM events WHERE seq = 6", "event 6"),
        (
            "UPDATE checkpoints SET note = replace(note, 'ward.test', 'ward.evil') WHERE size = 3",
            "checkpoint 3",
        ),
        (
            "UPDATE checkpoints SET root = zeroblob(32) WHERE size = 5",
            "checkpoint 5",
        ),
        ("DELETE FROM events WHERE seq = 8", "events were removed"),
        ("UPDATE tree_state SET frontier = zeroblob(64)", "frontier"),
    ];
    for (sql, expect) in cases {
        let (dir, store) = filled(9);
        drop(store);
        tamper(&dir, sql);
        let mut store = Store::open(&dir.path().join("ward.db")).unwrap();
        let err = verify::verify(&mut store, &signer().verifier()).unwrap_err();
        assert_eq!(err.code, ErrorCode::AuditVerify);
        assert!(err.message.contains(expect), "{sql}: {}", err.message);
    }
}

#[test]
fn wrong_key_fails_verification() {
    let (_d, mut store) = filled(2);
    let other = NoteSigner::new(
        "ward.test/log",
        ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]),
    )
    .unwrap();
    assert!(verify::verify(&mut store, &other.verifier()).is_err());
}

#[test]
fn concurrent_writers_never_fork_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ward.db");
    drop(Store::open(&path).unwrap());
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut store = Store::open(&path).unwrap();
                let s = signer();
                for i in 0..15 {
                    store
                        .append(&event(t * 100 + i), &s, "ward.test/log")
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    let sum = verify::verify(&mut store, &signer().verifier()).unwrap();
    assert_eq!(sum.events, 90);
}
