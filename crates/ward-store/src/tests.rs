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
            confirm_locally: false,
        }),
        effect: None,
        decision_event: None,
        caller: None,
        approval: None,
        registration: None,
        task: None,
        lease: None,
    }
}

/// One backend under test: the SQLite file or the fresh Postgres database lives as long as this.
struct Db {
    target: Target,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<crate::testdb::FreshPg>,
}

impl Db {
    fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        Db {
            target: Target::Sqlite(dir.path().join("ward.db")),
            _dir: Some(dir),
            _pg: None,
        }
    }

    fn postgres() -> Db {
        let pg = crate::testdb::FreshPg::create().unwrap_or_else(|e| panic!("{e}"));
        Db {
            target: pg.target(),
            _dir: None,
            _pg: Some(pg),
        }
    }

    fn open(&self) -> Store {
        Store::open_target(&self.target).unwrap()
    }

    fn pg(&self) -> bool {
        self.target.is_postgres()
    }

    fn exec(&self, sql: &str) {
        let mut store = self.open();
        let Store { rt, conn, .. } = &mut store;
        rt.block_on(raw(conn, sql));
    }
}

/// Runs one repository test against SQLite and against Postgres: the one suite for both.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name(&super::Db::sqlite()); })*
        }
        mod postgres {
            $(#[test] fn $name() { super::$name(&super::Db::postgres()); })*
        }
    };
}

both!(
    append_then_verify_and_roots_match_the_math,
    links_post_events_by_id_or_by_input,
    any_tampering_is_named,
    wrong_key_fails_verification,
    concurrent_writers_never_fork_the_log,
    a_batch_shares_one_commit_and_one_checkpoint,
    replays_skip_what_is_already_logged,
    duplicate_ids_fail_the_whole_batch,
    queries_find_effects_by_commit_and_path,
    users_keys_and_hook_tokens,
    an_approval_is_decided_once_and_used_once,
    approvals_expire,
    a_stale_cached_frontier_is_caught_and_the_batch_retried,
    an_edge_loaded_before_another_append_is_caught,
    assistant_registry_lifecycle,
    a_registration_that_loses_a_race_is_refused_not_failed,
    task_trees_end_together_and_leases_follow,
);

fn filled(db: &Db, n: u64) -> Store {
    let mut store = db.open();
    let s = signer();
    for i in 0..n {
        let r = store.append(&event(i), &s, "ward.test/log").unwrap();
        assert_eq!(r.seq, i);
        assert_eq!(r.tree_size, i + 1);
    }
    store
}

fn append_then_verify_and_roots_match_the_math(db: &Db) {
    let mut store = filled(db, 9);
    let sum = verify::verify(&mut store, &signer().verifier()).unwrap();
    assert_eq!(sum.events, 9);
    assert_eq!(sum.checkpoints, 9);
    let leaves = store.leaf_hashes(9).unwrap();
    let cp = store.latest_checkpoint().unwrap().unwrap();
    assert_eq!(cp.root, ward_audit::root_from_leaf_hashes(&leaves).to_vec());
    assert_eq!(
        store
            .tail(2)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        [7, 8]
    );
    assert_eq!(
        store
            .events(3, 2)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        [3, 4]
    );
    assert_eq!(store.event_by_id(&event(5).id).unwrap().unwrap().seq, 5);
    assert!(store.event_by_id("evt_nope").unwrap().is_none());
    assert_eq!(store.checkpoint_at(4).unwrap().unwrap().size, 4);
}

fn links_post_events_by_id_or_by_input(db: &Db) {
    let mut store = filled(db, 3);
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

fn any_tampering_is_named(db: &Db) {
    // (SQLite form, Postgres form, what the verifier must name)
    let cases = [
        (
            "UPDATE events SET body = CAST(replace(CAST(body AS TEXT), 'echo 4', 'echo 5') AS BLOB) WHERE seq = 4",
            "UPDATE events SET body = convert_to(replace(convert_from(body, 'UTF8'), 'echo 4', 'echo 5'), 'UTF8') WHERE seq = 4",
            "event 4",
        ),
        (
            "UPDATE events SET leaf_hash = zeroblob(32) WHERE seq = 2",
            "UPDATE events SET leaf_hash = decode(repeat('00', 32), 'hex') WHERE seq = 2",
            "event 2",
        ),
        (
            "DELETE FROM events WHERE seq = 6",
            "DELETE FROM events WHERE seq = 6",
            "event 6",
        ),
        (
            "UPDATE checkpoints SET note = replace(note, 'ward.test', 'ward.evil') WHERE size = 3",
            "UPDATE checkpoints SET note = replace(note, 'ward.test', 'ward.evil') WHERE size = 3",
            "checkpoint 3",
        ),
        (
            "UPDATE checkpoints SET root = zeroblob(32) WHERE size = 5",
            "UPDATE checkpoints SET root = decode(repeat('00', 32), 'hex') WHERE size = 5",
            "checkpoint 5",
        ),
        (
            "DELETE FROM events WHERE seq = 8",
            "DELETE FROM events WHERE seq = 8",
            "events were removed",
        ),
        (
            "UPDATE tree_state SET frontier = zeroblob(64)",
            "UPDATE tree_state SET frontier = decode(repeat('00', 64), 'hex')",
            "frontier",
        ),
    ];
    let pg = db.pg();
    for (sqlite_sql, pg_sql, expect) in cases {
        // A fresh database per case.
        let fresh = if pg { Db::postgres() } else { Db::sqlite() };
        drop(filled(&fresh, 9));
        fresh.exec(if pg { pg_sql } else { sqlite_sql });
        let mut store = fresh.open();
        let err = verify::verify(&mut store, &signer().verifier()).unwrap_err();
        assert_eq!(err.code, ErrorCode::AuditVerify);
        assert!(
            err.message.contains(expect),
            "{sqlite_sql}: {}",
            err.message
        );
    }
}

fn wrong_key_fails_verification(db: &Db) {
    let mut store = filled(db, 2);
    let other = NoteSigner::new(
        "ward.test/log",
        ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]),
    )
    .unwrap();
    assert!(verify::verify(&mut store, &other.verifier()).is_err());
}

fn concurrent_writers_never_fork_the_log(db: &Db) {
    drop(db.open());
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let target = db.target.clone();
            std::thread::spawn(move || {
                let mut store = Store::open_target(&target).unwrap();
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
    let mut store = db.open();
    let sum = verify::verify(&mut store, &signer().verifier()).unwrap();
    assert_eq!(sum.events, 90);
}

fn a_batch_shares_one_commit_and_one_checkpoint(db: &Db) {
    let mut store = filled(db, 2);
    let batch: Vec<Event> = (2..7).map(event).collect();
    let r = store
        .append_batch(&batch, &signer(), "ward.test/log", OnDuplicate::Fail)
        .unwrap();
    let seqs: Vec<u64> = r.iter().map(|r| r.as_ref().unwrap().seq).collect();
    assert_eq!(seqs, [2, 3, 4, 5, 6]);
    let sizes: Vec<u64> = store
        .checkpoints()
        .unwrap()
        .iter()
        .map(|c| c.size)
        .collect();
    assert_eq!(sizes, [1, 2, 7], "one checkpoint per commit");
    let sum = verify::verify(&mut store, &signer().verifier()).unwrap();
    assert_eq!((sum.events, sum.checkpoints), (7, 3));
}

fn replays_skip_what_is_already_logged(db: &Db) {
    let mut store = filled(db, 3);
    let replay: Vec<Event> = (1..5).map(event).collect();
    let r = store
        .append_batch(&replay, &signer(), "ward.test/log", OnDuplicate::Skip)
        .unwrap();
    let got: Vec<Option<u64>> = r.iter().map(|r| r.as_ref().map(|r| r.seq)).collect();
    assert_eq!(got, [None, None, Some(3), Some(4)]);
    // Replaying the same again adds nothing and writes no checkpoint.
    let again = store
        .append_batch(&replay, &signer(), "ward.test/log", OnDuplicate::Skip)
        .unwrap();
    assert!(again.iter().all(Option::is_none));
    let sum = verify::verify(&mut store, &signer().verifier()).unwrap();
    assert_eq!(sum.events, 5);
}

fn duplicate_ids_fail_the_whole_batch(db: &Db) {
    let mut store = filled(db, 2);
    let batch = vec![event(5), event(1)];
    let err = store
        .append_batch(&batch, &signer(), "ward.test/log", OnDuplicate::Fail)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::AuditAppend);
    // Nothing of the failed batch is stored; the log still verifies.
    assert!(store.event_by_id(&event(5).id).unwrap().is_none());
    let sum = verify::verify(&mut store, &signer().verifier()).unwrap();
    assert_eq!(sum.events, 2);
}

/// An effect that changed `/w/src/lib.rs` and made commit `0123456789abcdef…`.
fn effect_event(i: u64) -> Event {
    let mut e = event(i);
    e.kind = EventKind::Effect;
    e.decision = None;
    e.effect = Some(ward_core::event::EffectRecord {
        success: true,
        exit_code: Some(0),
        error: None,
        output_bytes: 3,
        files: vec![ward_core::event::FileChange {
            path: "/w/src/lib.rs".into(),
            sha256: Some("ab".repeat(32)),
        }],
        git: Some(ward_core::event::GitEffect {
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            git_ref: Some("refs/heads/main".into()),
            verb: "commit".into(),
        }),
    });
    e
}

fn queries_find_effects_by_commit_and_path(db: &Db) {
    let mut store = filled(db, 1);
    let e = effect_event(10);
    store.append(&e, &signer(), "ward.test/log").unwrap();
    assert_eq!(store.effects_by_commit("0123456").unwrap().len(), 1);
    assert_eq!(
        store.effects_by_commit("0123456789ABCDEF").unwrap().len(),
        1
    );
    assert!(store.effects_by_commit("fff").unwrap().is_empty());
    assert!(store.effects_by_commit("0123457").unwrap().is_empty());
    assert!(store.effects_by_commit("012345%").unwrap().is_empty());
    assert!(store.effects_by_commit("0123_56").unwrap().is_empty());
    assert_eq!(
        store.effects_by_commit("").unwrap().len(),
        1,
        "every commit"
    );
    assert_eq!(store.effects_by_path("/w/src/lib.rs").unwrap()[0].id, e.id);
    assert!(store.effects_by_path("/w/src").unwrap().is_empty());
}

fn people(db: &Db) -> (tokio::runtime::Runtime, Conn) {
    connect(&db.target)
}

/// A runtime and one connection to `target`.
fn connect(target: &Target) -> (tokio::runtime::Runtime, Conn) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conn = rt.block_on(Conn::open(target)).unwrap();
    (rt, conn)
}

fn users_keys_and_hook_tokens(db: &Db) {
    use crate::people::*;
    let (rt, mut c) = people(db);
    rt.block_on(async {
        assert!(add_user(c.r(), "alice", Role::Approver, 1).await.unwrap());
        assert!(
            !add_user(c.r(), "alice", Role::Admin, 2).await.unwrap(),
            "names are unique"
        );
        add_user(c.r(), "bob", Role::Viewer, 3).await.unwrap();
        add_key(c.r(), "key_1", "alice", &[1u8; 32], 4)
            .await
            .unwrap();
        let u = user_by_key(c.r(), &[1u8; 32]).await.unwrap().unwrap();
        assert_eq!((u.name.as_str(), u.role), ("alice", Role::Approver));
        assert!(user_by_key(c.r(), &[2u8; 32]).await.unwrap().is_none());
        let names: Vec<String> = users(c.r())
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.name)
            .collect();
        assert_eq!(names, ["alice", "bob"]);
        assert!(user(c.r(), "carol").await.unwrap().is_none());
        set_hook_token(c.r(), "laptop-claude", &[5u8; 32], 5)
            .await
            .unwrap();
        assert_eq!(
            hook_token_name(c.r(), &[5u8; 32]).await.unwrap().as_deref(),
            Some("laptop-claude")
        );
        // Rotating replaces the old token.
        set_hook_token(c.r(), "laptop-claude", &[6u8; 32], 6)
            .await
            .unwrap();
        assert!(hook_token_name(c.r(), &[5u8; 32]).await.unwrap().is_none());
        assert!(hook_token_name(c.r(), &[6u8; 32]).await.unwrap().is_some());
    });
}

fn sample_approval(id: &str, hash: &str, expires_ms: u64) -> crate::people::Approval {
    crate::people::Approval {
        id: id.into(),
        action_hash: hash.into(),
        requester: "dev".into(),
        assistant: "claude-code@h/dev".into(),
        session_id: "s1".into(),
        tool_name: Some("Bash".into()),
        action: Some("npm publish".into()),
        reason: "publishing needs approval".into(),
        policies: "ask-publish".into(),
        state: crate::people::ApprovalState::Pending,
        created_ms: 100,
        expires_ms,
        decided_by: None,
        decided_ms: None,
        note: None,
        used_ms: None,
        request_event: Some("evt_x".into()),
    }
}

fn an_approval_is_decided_once_and_used_once(db: &Db) {
    use crate::people::*;
    let (rt, mut c) = people(db);
    rt.block_on(async {
        insert_approval(c.r(), &sample_approval("ward-apr-1", "h1", 10_000))
            .await
            .unwrap();
        let live = live_approval_for(c.r(), "h1", 200).await.unwrap().unwrap();
        assert_eq!(live.state, ApprovalState::Pending);
        assert!(
            live_approval_for(c.r(), "h2", 200).await.unwrap().is_none(),
            "bound to the exact action"
        );
        assert!(
            !use_approval(c.r(), "ward-apr-1", 200).await.unwrap(),
            "pending cannot be used"
        );
        assert!(
            decide_approval(c.r(), "ward-apr-1", true, "alice", Some("ok"), 300)
                .await
                .unwrap()
        );
        assert!(
            !decide_approval(c.r(), "ward-apr-1", false, "bob", None, 301)
                .await
                .unwrap(),
            "decided once"
        );
        let a = approval(c.r(), "ward-apr-1").await.unwrap().unwrap();
        assert_eq!(
            (a.state, a.decided_by.as_deref(), a.note.as_deref()),
            (ApprovalState::Approved, Some("alice"), Some("ok"))
        );
        assert!(use_approval(c.r(), "ward-apr-1", 400).await.unwrap());
        assert!(
            !use_approval(c.r(), "ward-apr-1", 401).await.unwrap(),
            "used once"
        );
        assert!(live_approval_for(c.r(), "h1", 500).await.unwrap().is_none());
        let used = approvals(c.r(), Some(ApprovalState::Used), 500, 10)
            .await
            .unwrap();
        assert_eq!(used.len(), 1);
        assert!(
            approvals(c.r(), Some(ApprovalState::Pending), 500, 10)
                .await
                .unwrap()
                .is_empty()
        );
    });
}

fn approvals_expire(db: &Db) {
    use crate::people::*;
    let (rt, mut c) = people(db);
    rt.block_on(async {
        insert_approval(c.r(), &sample_approval("ward-apr-2", "h1", 1_000))
            .await
            .unwrap();
        assert!(
            !decide_approval(c.r(), "ward-apr-2", true, "alice", None, 1_000)
                .await
                .unwrap(),
            "expired cannot be approved"
        );
        insert_approval(c.r(), &sample_approval("ward-apr-3", "h3", 1_000))
            .await
            .unwrap();
        assert!(
            decide_approval(c.r(), "ward-apr-3", true, "alice", None, 500)
                .await
                .unwrap()
        );
        assert!(
            !use_approval(c.r(), "ward-apr-3", 1_001).await.unwrap(),
            "expired approval is void"
        );
        let a = approval(c.r(), "ward-apr-3").await.unwrap().unwrap();
        assert_eq!(a.state_at(1_001), ApprovalState::Expired);
        assert_eq!(
            approvals(c.r(), Some(ApprovalState::Expired), 2_000, 10)
                .await
                .unwrap()
                .len(),
            2
        );
    });
}

fn a_stale_cached_frontier_is_caught_and_the_batch_retried(db: &Db) {
    let (rt, mut a) = people(db);
    let mut b = rt.block_on(Conn::open(&db.target)).unwrap();
    let s = signer();
    let (mut ca, mut cb) = (
        repo::FrontierCache::default(),
        repo::FrontierCache::default(),
    );
    rt.block_on(async {
        for i in 0..6u64 {
            // Two writers, each with its own cache, take turns: every turn the other's cache is
            // stale. Each batch must land whole, in order, without an error.
            let (conn, cache) = if i % 2 == 0 {
                (&mut a, &mut ca)
            } else {
                (&mut b, &mut cb)
            };
            let rows = vec![
                repo::LogRow::new(&event(i * 2)).unwrap(),
                repo::LogRow::new(&event(i * 2 + 1)).unwrap(),
            ];
            let r = repo::append_rows(
                conn.r(),
                &rows,
                &s,
                "ward.test/log",
                OnDuplicate::Fail,
                cache,
            )
            .await
            .unwrap();
            assert_eq!(r[0].as_ref().unwrap().seq, i * 2);
            assert_eq!(r[1].as_ref().unwrap().tree_size, i * 2 + 2);
        }
    });
    drop((a, b));
    let mut store = db.open();
    let sum = verify::verify(&mut store, &signer().verifier()).unwrap();
    assert_eq!((sum.events, sum.checkpoints), (12, 6));
}

fn an_edge_loaded_before_another_append_is_caught(db: &Db) {
    let s = signer();
    let (mut a, mut b) = (db.open(), db.open());
    b.append(&event(0), &s, "ward.test/log").unwrap();
    // A hook loads the edge while it decides; another hook appends meanwhile.
    a.load_edge();
    b.append(&event(1), &s, "ward.test/log").unwrap();
    let r = a.append(&event(2), &s, "ward.test/log").unwrap();
    assert_eq!((r.seq, r.tree_size), (2, 3));
    // The edge a kept is current now: its next append needs no re-read and stays in order.
    let r = a.append(&event(3), &s, "ward.test/log").unwrap();
    assert_eq!((r.seq, r.tree_size), (3, 4));
    drop((a, b));
    let mut store = db.open();
    let sum = verify::verify(&mut store, &signer().verifier()).unwrap();
    assert_eq!((sum.events, sum.checkpoints), (4, 4));
}

/// Raw SQL on one connection (a transaction held open across calls).
async fn raw(c: &mut Conn, sql: &str) {
    let sql = sql.to_string();
    match c.r() {
        conn::ConnRef::Sqlite(c) => sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *c)
            .await
            .map(|_| ()),
        conn::ConnRef::Pg(c) => sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *c)
            .await
            .map(|_| ()),
    }
    .unwrap();
}

fn a_registration_that_loses_a_race_is_refused_not_failed(db: &Db) {
    use crate::registry::*;
    let reg = |id: &str| Assistant {
        id: id.into(),
        name: "bot".into(),
        kind: "claude-code".into(),
        host: "h".into(),
        os_user: "u".into(),
        owner: None,
        purpose: String::new(),
        repos: vec![],
        envs: vec![],
        review_by_ms: None,
        status: Status::Pending,
        created_ms: 1,
        last_seen_ms: Some(1),
        rotated_ms: None,
        status_ms: 1,
        status_by: "ward:first-use".into(),
    };
    // One registration is inserted and not yet committed: another one's checks cannot see it,
    // and its insert waits for it (a row lock on Postgres, the write lock on SQLite).
    let (rt, mut first) = people(db);
    rt.block_on(async {
        raw(&mut first, "BEGIN").await;
        assert_eq!(
            register(first.r(), &reg("ward-ast-1")).await.unwrap(),
            Ok(())
        );
    });
    let target = db.target.clone();
    let second = std::thread::spawn(move || {
        let (rt, mut c) = connect(&target);
        rt.block_on(register(c.r(), &reg("ward-ast-2")))
            .map_err(|e| e.to_string())
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    rt.block_on(raw(&mut first, "COMMIT"));
    assert_eq!(
        second.join().unwrap(),
        Ok(Err(Refused::NameTaken)),
        "the second registration is refused, not failed"
    );
    rt.block_on(async {
        assert_eq!(
            get(first.r(), "bot").await.unwrap().unwrap().id,
            "ward-ast-1"
        );
    });
}

fn assistant_registry_lifecycle(db: &Db) {
    use crate::registry::*;
    let (rt, mut c) = people(db);
    let reg = |id: &str, name: &str, kind: &str, t: u64| Assistant {
        id: id.into(),
        name: name.into(),
        kind: kind.into(),
        host: "h".into(),
        os_user: "u".into(),
        owner: Some("alice".into()),
        purpose: "reviews".into(),
        repos: vec!["acme/*".into()],
        envs: vec!["dev".into()],
        review_by_ms: Some(2_000),
        status: Status::Active,
        created_ms: t,
        last_seen_ms: None,
        rotated_ms: None,
        status_ms: t,
        status_by: "os:root".into(),
    };
    rt.block_on(async {
        let a = reg("ward-ast-1", "bot", "claude-code", 1);
        assert_eq!(register(c.r(), &a).await.unwrap(), Ok(()));
        assert_eq!(get(c.r(), "bot").await.unwrap(), Some(a.clone()));
        // One live registration per name and per hook identity; ci/custom have no hook identity.
        assert_eq!(
            register(c.r(), &reg("ward-ast-2", "bot", "codex", 2))
                .await
                .unwrap(),
            Err(Refused::NameTaken)
        );
        assert_eq!(
            register(c.r(), &reg("ward-ast-3", "other", "claude-code", 3))
                .await
                .unwrap(),
            Err(Refused::IdentityTaken("bot".into()))
        );
        assert_eq!(
            register(c.r(), &reg("ward-ast-4", "ci-a", "ci", 4))
                .await
                .unwrap(),
            Ok(())
        );
        assert_eq!(
            register(c.r(), &reg("ward-ast-5", "ci-b", "ci", 5))
                .await
                .unwrap(),
            Ok(())
        );
        // Changes are conditional on the current status.
        let any_live = [Status::Pending, Status::Active, Status::Suspended];
        assert!(
            !set_status(
                c.r(),
                "ward-ast-1",
                &[Status::Suspended],
                Status::Active,
                None,
                "x",
                6
            )
            .await
            .unwrap()
        );
        assert!(
            set_status(
                c.r(),
                "ward-ast-1",
                &[Status::Active],
                Status::Suspended,
                None,
                "x",
                7
            )
            .await
            .unwrap()
        );
        assert!(
            set_status(
                c.r(),
                "ward-ast-1",
                &any_live,
                Status::Retired,
                Some("bob"),
                "y",
                8
            )
            .await
            .unwrap()
        );
        assert!(
            !set_status(c.r(), "ward-ast-1", &any_live, Status::Active, None, "y", 9)
                .await
                .unwrap()
        );
        let gone = get(c.r(), "ward-ast-1").await.unwrap().unwrap();
        assert_eq!(
            (
                gone.status,
                gone.owner.as_deref(),
                gone.status_ms,
                gone.status_by.as_str()
            ),
            (Status::Retired, Some("bob"), 8, "y")
        );
        // A retired name and identity may be registered anew; the name then finds the live one.
        assert_eq!(
            register(c.r(), &reg("ward-ast-6", "bot", "claude-code", 10))
                .await
                .unwrap(),
            Ok(())
        );
        assert_eq!(get(c.r(), "bot").await.unwrap().unwrap().id, "ward-ast-6");
        assert_eq!(list(c.r()).await.unwrap().len(), 4);
        // A hook identity finds its live registration; one that was only ever retired, or
        // never registered, is told apart.
        match by_identity(c.r(), "claude-code", "h", "u").await.unwrap() {
            Seen::Live(a) => assert_eq!(a.id, "ward-ast-6"),
            other => panic!("{other:?}"),
        }
        set_status(
            c.r(),
            "ward-ast-6",
            &any_live,
            Status::Retired,
            None,
            "y",
            11,
        )
        .await
        .unwrap();
        assert_eq!(
            by_identity(c.r(), "claude-code", "h", "u").await.unwrap(),
            Seen::Retired
        );
        assert_eq!(
            by_identity(c.r(), "codex", "h", "u").await.unwrap(),
            Seen::Never
        );
        seen(c.r(), "ward-ast-4", 42).await.unwrap();
        assert_eq!(
            get(c.r(), "ward-ast-4")
                .await
                .unwrap()
                .unwrap()
                .last_seen_ms,
            Some(42)
        );
    });
}

fn task_trees_end_together_and_leases_follow(db: &Db) {
    use crate::tasks::*;
    let (rt, mut c) = people(db);
    let task = |id: &str, parent: Option<&str>, assistant: &str| Task {
        id: id.into(),
        parent: parent.map(str::to_string),
        requester: "alice".into(),
        assistant: assistant.into(),
        repo: "acme/api".into(),
        env: Some("staging".into()),
        scopes: vec!["repo:acme/api".into(), "env:staging".into()],
        actors: vec!["user:alice".into(), format!("assistant:{assistant}")],
        session_id: Some(format!("s-{id}")),
        created_ms: 10,
        expires_ms: 1_000,
        ended_ms: None,
        end_reason: None,
    };
    let lease = |id: &str, task: &str| Lease {
        id: id.into(),
        task: task.into(),
        parent: None,
        kind: "token".into(),
        resource: "ward".into(),
        detail: "{}".into(),
        issued_ms: 20,
        expires_ms: 500,
        revoked_ms: None,
        revoke_reason: None,
    };
    rt.block_on(async {
        // root → child → grandchild, and an unrelated task of another assistant.
        insert_task(c.r(), &task("t1", None, "a1")).await.unwrap();
        insert_task(c.r(), &task("t2", Some("t1"), "a1"))
            .await
            .unwrap();
        insert_task(c.r(), &task("t3", Some("t2"), "a2"))
            .await
            .unwrap();
        insert_task(c.r(), &task("t4", None, "a2")).await.unwrap();
        assert_eq!(
            get_task(c.r(), "t2").await.unwrap(),
            Some(task("t2", Some("t1"), "a1"))
        );
        assert_eq!(
            task_of_session(c.r(), "s-t4").await.unwrap().unwrap().id,
            "t4"
        );
        for (l, t) in [("l1", "t1"), ("l2", "t2"), ("l3", "t3"), ("l4", "t4")] {
            insert_lease(c.r(), &lease(l, t)).await.unwrap();
        }
        assert_eq!(unrevoked_leases(c.r(), &[]).await.unwrap().len(), 4);
        // Ending the child ends the grandchild too, and nothing above or beside it.
        let mut ended = end_task(c.r(), "t2", 30, "done").await.unwrap();
        ended.sort();
        assert_eq!(ended, ["t2", "t3"]);
        assert!(end_task(c.r(), "t2", 31, "again").await.unwrap().is_empty());
        let t3 = get_task(c.r(), "t3").await.unwrap().unwrap();
        assert_eq!(
            (t3.ended_ms, t3.end_reason.as_deref()),
            (Some(30), Some("done"))
        );
        assert_eq!(t3.state(40), State::Ended);
        assert_eq!(
            get_task(c.r(), "t1").await.unwrap().unwrap().state(40),
            State::Live
        );
        assert_eq!(
            get_task(c.r(), "t1").await.unwrap().unwrap().state(1_000),
            State::Expired
        );
        let of_tree: Vec<String> = unrevoked_leases(c.r(), &ended)
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.id)
            .collect();
        assert_eq!(of_tree, ["l2", "l3"]);
        assert!(revoke_lease(c.r(), "l2", 35, "done").await.unwrap());
        assert!(!revoke_lease(c.r(), "l2", 36, "again").await.unwrap());
        let l2 = get_lease(c.r(), "l2").await.unwrap().unwrap();
        assert!(!l2.live(40));
        assert_eq!(l2.revoke_reason.as_deref(), Some("done"));
        assert_eq!(leases_of(c.r(), "t2").await.unwrap().len(), 1);
        // An assistant's open tasks end with their children (t3 belongs to a2 but is already
        // ended; t4 is a2's open one).
        assert_eq!(
            end_tasks_of(c.r(), "a2", 50, "retired").await.unwrap(),
            ["t4"]
        );
        assert_eq!(list_tasks(c.r(), true).await.unwrap().len(), 1);
        assert_eq!(list_tasks(c.r(), false).await.unwrap().len(), 4);
        assert_eq!(all_leases(c.r()).await.unwrap().len(), 4);
        // Sealed secrets: replaced in place, listed without values, removed once.
        put_secret(c.r(), "gh", "c2VhbGVk", 1, "os:a")
            .await
            .unwrap();
        put_secret(c.r(), "gh", "bmV3", 2, "os:b").await.unwrap();
        assert_eq!(
            sealed_secret(c.r(), "gh").await.unwrap().as_deref(),
            Some("bmV3")
        );
        assert_eq!(
            list_secrets(c.r()).await.unwrap(),
            [SecretInfo {
                name: "gh".into(),
                created_ms: 2,
                created_by: "os:b".into()
            }]
        );
        assert!(rm_secret(c.r(), "gh").await.unwrap());
        assert!(!rm_secret(c.r(), "gh").await.unwrap());
        assert_eq!(sealed_secret(c.r(), "gh").await.unwrap(), None);
    });
}

/// The Postgres provider against the real server: a role that logs in until it is dropped.
#[test]
fn postgres_roles_log_in_until_dropped() {
    use crate::provision::*;
    let pg = crate::testdb::FreshPg::create().unwrap_or_else(|e| panic!("{e}"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let role = format!("ward_t{}", std::process::id());
    let login = pg
        .url
        .replacen("postgres://postgres@", &format!("postgres://{role}:pw@"), 1);
    rt.block_on(async {
        pg_create_role(
            &pg.url,
            &role,
            "pw",
            "2099-01-01T00:00:00Z",
            &[
                "pg_read_all_data".into(),
                "CREATE TABLE t_{{name}} (x int)".into(),
            ],
        )
        .await
        .unwrap_err(); // `{{name}}` becomes a quoted identifier: `t_"ward_…"` is not valid SQL
        assert!(!pg_can_login(&login).await, "a failed grant leaves no role");
        pg_create_role(
            &pg.url,
            &role,
            "pw",
            "2099-01-01T00:00:00Z",
            &["pg_read_all_data".into()],
        )
        .await
        .unwrap();
        assert!(pg_can_login(&login).await, "{login}");
        pg_drop_role(&pg.url, &role).await.unwrap();
        assert!(!pg_can_login(&login).await);
        pg_drop_role(&pg.url, &role).await.unwrap();
    });
}

/// The daemon's direct SQLite writer ([`crate::writer`]) against the same file as the sqlx
/// appenders: same rows, same checkpoints, same conflict handling.
mod direct_writer {
    use super::*;
    use crate::writer::SqliteAppender;

    fn rows(ids: std::ops::Range<u64>) -> Vec<repo::LogRow> {
        ids.map(|i| repo::LogRow::new(&event(i)).unwrap()).collect()
    }

    fn appender(db: &Db) -> SqliteAppender {
        drop(db.open());
        let Target::Sqlite(path) = &db.target else {
            unreachable!()
        };
        SqliteAppender::open(path).unwrap()
    }

    #[test]
    fn interleaves_with_other_appenders_without_forking() {
        let db = Db::sqlite();
        let mut w = appender(&db);
        let mut store = db.open();
        let s = signer();
        let r = w
            .append_rows(&rows(0..3), &s, "ward.test/log", OnDuplicate::Fail)
            .unwrap();
        let got: Vec<(u64, u64)> = r
            .iter()
            .map(|r| r.as_ref().map(|r| (r.seq, r.tree_size)).unwrap())
            .collect();
        assert_eq!(got, [(0, 3), (1, 3), (2, 3)]);
        // Another appender moves the tree: the writer's remembered edge is stale and caught.
        store.append(&event(3), &s, "ward.test/log").unwrap();
        let r = w
            .append_rows(&rows(4..6), &s, "ward.test/log", OnDuplicate::Fail)
            .unwrap();
        assert_eq!(r[0].as_ref().unwrap().seq, 4);
        assert_eq!(r[1].as_ref().unwrap().tree_size, 6);
        // And the other way round: the sqlx appender finds what the writer added.
        let r = store.append(&event(6), &s, "ward.test/log").unwrap();
        assert_eq!((r.seq, r.tree_size), (6, 7));
        // Its receipt carries the root of the checkpoint it committed.
        let last = store.checkpoints().unwrap();
        let sizes: Vec<u64> = last.iter().map(|c| c.size).collect();
        assert_eq!(sizes, [3, 4, 6, 7], "one checkpoint per commit");
        let sum = verify::verify(&mut store, &signer().verifier()).unwrap();
        assert_eq!((sum.events, sum.checkpoints), (7, 4));
    }

    #[test]
    fn replays_skip_and_duplicates_fail_the_whole_batch() {
        let db = Db::sqlite();
        let mut w = appender(&db);
        let s = signer();
        w.append_rows(&rows(0..3), &s, "ward.test/log", OnDuplicate::Fail)
            .unwrap();
        let r = w
            .append_rows(&rows(1..5), &s, "ward.test/log", OnDuplicate::Skip)
            .unwrap();
        let got: Vec<Option<u64>> = r.iter().map(|r| r.as_ref().map(|r| r.seq)).collect();
        assert_eq!(got, [None, None, Some(3), Some(4)]);
        let err = w
            .append_rows(&rows(5..7), &s, "ward.test/log", OnDuplicate::Fail)
            .map(|_| ())
            .and_then(|()| w.append_rows(&rows(6..8), &s, "ward.test/log", OnDuplicate::Fail))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::AuditAppend);
        assert!(err.message.contains("UNIQUE"), "{}", err.message);
        // Nothing of the failed batch is stored, and the writer goes on after it.
        let mut store = db.open();
        assert!(store.event_by_id(&event(7).id).unwrap().is_none());
        let r = w
            .append_rows(&rows(7..8), &s, "ward.test/log", OnDuplicate::Fail)
            .unwrap();
        assert_eq!(r[0].as_ref().unwrap().seq, 7);
        let sum = verify::verify(&mut store, &signer().verifier()).unwrap();
        assert_eq!((sum.events, sum.checkpoints), (8, 4));
    }

    #[test]
    fn stores_the_effect_indexes() {
        let db = Db::sqlite();
        let mut w = appender(&db);
        let e = effect_event(1);
        w.append_rows(
            &[repo::LogRow::new(&e).unwrap()],
            &signer(),
            "ward.test/log",
            OnDuplicate::Fail,
        )
        .unwrap();
        let mut store = db.open();
        assert_eq!(store.effects_by_commit("0123456").unwrap().len(), 1);
        assert_eq!(store.effects_by_path("/w/src/lib.rs").unwrap()[0].id, e.id);
    }

    #[test]
    fn refuses_a_file_the_store_has_not_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let err = match SqliteAppender::open(&dir.path().join("fresh.db")) {
            Ok(_) => panic!("an unmigrated file was accepted"),
            Err(e) => e,
        };
        assert_eq!(err.code, ErrorCode::AuditAppend);
        assert!(err.message.contains("schema version 0"), "{}", err.message);
    }
}
