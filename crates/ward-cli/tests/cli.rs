#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "integration tests: a failure should fail the test"
)]
//! Integration tests: the real `ward` binary, real client payloads, a fresh `$WARD_HOME` each.

#[path = "cli/credentials.rs"]
mod credentials;
#[path = "cli/mcp.rs"]
mod mcp;
#[path = "common/mcp_peers.rs"]
mod mcp_peers;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const WARD: &str = env!("CARGO_BIN_EXE_ward");

fn shared() -> PathBuf {
    match std::env::var_os("WARD_SHARED_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

fn ward_in(home: &Path, args: &[&str], stdin: &[u8], extra_env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(WARD);
    cmd.args(args)
        .env("WARD_HOME", home)
        .env_remove("WARD_DEBUG_FAULT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn ward");
    {
        let mut sin = child.stdin.take().unwrap();
        // The hook may stop reading early (oversize input); a broken pipe is fine.
        let _ = sin.write_all(stdin);
    }
    child.wait_with_output().unwrap()
}

/// Run `ward ARGS` in `home`, requiring exit 0.
fn succeeds(home: &Path, args: &[&str]) -> Output {
    let o = ward_in(home, args, b"", &[]);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", err(&o));
    o
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn claude_bash(cmd: &str, cwd: &str, id: &str) -> Vec<u8> {
    serde_json::json!({"session_id": "s-test", "transcript_path": "/tmp/t.jsonl", "cwd": cwd,
        "permission_mode": "default", "hook_event_name": "PreToolUse", "tool_name": "Bash",
        "tool_input": {"command": cmd}, "tool_use_id": id})
    .to_string()
    .into_bytes()
}

/// What Claude Code does with a reply (measured, integrations.md §0).
fn claude_blocks(o: &Output) -> bool {
    if o.status.code() == Some(2) {
        return true;
    }
    if o.status.code() != Some(0) {
        return false;
    }
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    v.pointer("/hookSpecificOutput/permissionDecision")
        .and_then(|x| x.as_str())
        == Some("deny")
}

fn event_count(home: &Path) -> usize {
    let o = ward_in(home, &["audit", "export", "--format", "jsonl"], b"", &[]);
    assert!(o.status.success(), "{}", err(&o));
    out(&o).lines().count()
}

#[test]
fn first_use_creates_home_with_private_key_and_never_overwrites_it() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("wh");
    let o = ward_in(
        &home,
        &["hook", "claude-code"],
        &claude_bash("ls", "/tmp", "t1"),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let key = home.join("keys/audit.key");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(home.join("ward.db").exists());
    assert!(home.join("policies/secrets.cedar").exists());
    let before = std::fs::read(&key).unwrap();
    let o = ward_in(&home, &["init"], b"", &[]);
    assert!(o.status.success());
    assert!(out(&o).contains("already initialised"), "{}", out(&o));
    assert_eq!(std::fs::read(&key).unwrap(), before);
}

#[test]
fn every_failure_blocks_in_the_clients_form_with_a_code() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("wh");
    // Malformed JSON, unknown event, oversize payload: for every client.
    let oversize = vec![b' '; (1 << 20) + 10];
    let cases: [(&[u8], &str); 3] = [
        (b"{not json", "E1001"),
        (
            br#"{"session_id":"s","cwd":"/","hook_event_name":"NoSuchEvent"}"#,
            "E1003",
        ),
        (&oversize, "E1002"),
    ];
    for client in ["claude-code", "codex", "gemini", "cursor", "copilot"] {
        for (payload, code) in cases.iter() {
            let o = ward_in(&home, &["hook", client], payload, &[]);
            assert_eq!(o.status.code(), Some(2), "{client} {code}: {}", err(&o));
            assert!(err(&o).contains(code), "{client}: {}", err(&o));
            assert_eq!(
                err(&o).trim().lines().count(),
                1,
                "one-line reason: {}",
                err(&o)
            );
        }
    }
    // A panic inside the hook (debug-build fault injection).
    let o = ward_in(
        &home,
        &["hook", "codex"],
        &claude_bash("ls", "/tmp", "p"),
        &[("WARD_DEBUG_FAULT", "panic")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("E9001"), "{}", err(&o));
}

#[test]
fn unreadable_or_invalid_policy_denies() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("wh");
    assert!(ward_in(&home, &["init"], b"", &[]).status.success());
    let n0 = event_count(&home);
    // Invalid: a policy that reads an attribute the schema does not have.
    std::fs::write(
        home.join("policies/zz-bad.cedar"),
        "@id(\"bad\") @reason(\"r\") forbid(principal, action, resource) when { context.facts.nope };",
    )
    .unwrap();
    let o = ward_in(
        &home,
        &["hook", "claude-code"],
        &claude_bash("ls", "/tmp", "b1"),
        &[],
    );
    assert!(claude_blocks(&o), "{}", out(&o));
    assert!(err(&o).contains("E2002"), "{}", err(&o));
    let o = ward_in(&home, &["policy", "check"], b"", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("zz-bad.cedar: policy `bad`"),
        "{}",
        err(&o)
    );
    // Unreadable: no policy files at all.
    std::fs::remove_file(home.join("policies/zz-bad.cedar")).unwrap();
    for f in std::fs::read_dir(home.join("policies")).unwrap() {
        std::fs::remove_file(f.unwrap().path()).unwrap();
    }
    let o = ward_in(
        &home,
        &["hook", "claude-code"],
        &claude_bash("ls", "/tmp", "b2"),
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("E2001"), "{}", err(&o));
    // Denied calls are still recorded, as denies.
    assert_eq!(event_count(&home), n0 + 2);
}

#[test]
fn a_full_disk_denies_and_records_nothing_it_could_not_make_durable() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("wh");
    assert!(
        ward_in(
            &home,
            &["hook", "claude-code"],
            &claude_bash("ls", "/tmp", "d0"),
            &[]
        )
        .status
        .success()
    );
    // Limit file size to what exists now: the next append cannot grow the database or WAL.
    let script = format!("ulimit -f 1; exec {WARD} hook claude-code",);
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("WARD_HOME", &home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&claude_bash("ls", "/tmp", "d1"))
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(claude_blocks(&o), "stdout {} stderr {}", out(&o), err(&o));
    assert!(
        err(&o).contains("E3002") || err(&o).contains("E3001"),
        "{}",
        err(&o)
    );
    let o = ward_in(&home, &["audit", "verify"], b"", &[]);
    assert!(o.status.success(), "{}", err(&o));
}

#[test]
fn every_real_sample_payload_is_understood() {
    let dir = shared().join("realclient/samples");
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("wh");
    let mut n = 0;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.extend(
        std::fs::read_dir(dir.join("extra"))
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    for p in paths
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let client = match name.split('-').next().unwrap() {
            "claude" => "claude-code",
            other => other,
        };
        let payload = std::fs::read(&p).unwrap();
        let o = ward_in(&home, &["hook", client], &payload, &[]);
        assert_eq!(o.status.code(), Some(0), "{name}: {} {}", out(&o), err(&o));
        n += 1;
    }
    assert!(n >= 40, "only {n} samples found in {}", dir.display());
    // One event per payload, plus the tasks the sessions opened and ended (and their tokens
    // revoked).
    let o = ward_in(&home, &["audit", "export"], b"", &[]);
    let kinds: Vec<String> = out(&o)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["unmapped"]["kind"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k != "task" && *k != "credential")
            .count(),
        n
    );
    assert!(kinds.iter().any(|k| k == "task"), "sessions open tasks");
    assert!(
        ward_in(&home, &["audit", "verify"], b"", &[])
            .status
            .success()
    );
}

#[test]
fn concurrent_hooks_never_fork_or_corrupt_the_log() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("wh");
    assert!(ward_in(&home, &["init"], b"", &[]).status.success());
    let procs = 24;
    let children: Vec<_> = (0..procs)
        .map(|i| {
            let mut c = Command::new(WARD)
                .args(["hook", "claude-code"])
                .env("WARD_HOME", &home)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            c.stdin
                .take()
                .unwrap()
                .write_all(&claude_bash(&format!("echo {i}"), "/tmp", &format!("c{i}")))
                .unwrap();
            c
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    }
    let o = ward_in(&home, &["audit", "verify", "--json"], b"", &[]);
    assert!(o.status.success(), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["events"], procs);
}

/// Every hook is a new process and the only connection to the log: the WAL must still be
/// emptied now and then, or it grows by every event and each open replays all of it.
#[test]
fn the_log_wal_stays_short_across_hook_processes() {
    let home = tempfile::tempdir().unwrap();
    let wal = home.path().join("ward.db-wal");
    let mut largest = 0;
    for i in 0..100 {
        let o = ward_in(
            home.path(),
            &["hook", "claude-code"],
            &claude_bash("git status --short", "/tmp", &format!("toolu_w{i}")),
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
    }
    assert_eq!(event_count(home.path()), 100);
    // Each event adds several pages to the WAL (100 events: about 3 MiB unchecked); the appends
    // empty it once it passes 512 KiB.
    assert!(largest < 1 << 20, "the WAL reached {largest} bytes");
    let v = ward_in(home.path(), &["audit", "verify"], b"", &[]);
    assert_eq!(v.status.code(), Some(0), "{}", err(&v));
}

fn sqlite(db: &Path, sql: &str) {
    let o = Command::new("python3")
        .arg("-c")
        .arg("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()")
        .arg(db)
        .arg(sql)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn verify_names_the_first_altered_entry_and_proofs_check_offline() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("wh");
    for i in 0..6 {
        assert!(
            ward_in(
                &home,
                &["hook", "claude-code"],
                &claude_bash(&format!("echo {i}"), "/tmp", &format!("v{i}")),
                &[]
            )
            .status
            .success()
        );
    }
    let o = ward_in(&home, &["audit", "export", "--format", "jsonl"], b"", &[]);
    let lines: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    let id = lines[3]["id"].as_str().unwrap().to_string();
    assert_eq!(lines[3]["class_uid"], 6003);
    // Inclusion proof, checked offline, and fails when altered.
    let o = ward_in(&home, &["audit", "prove", &id], b"", &[]);
    assert!(o.status.success(), "{}", err(&o));
    let bundle = out(&o);
    let f = t.path().join("proof.txt");
    std::fs::write(&f, &bundle).unwrap();
    let o = ward_in(
        &home,
        &["audit", "check-proof", f.to_str().unwrap()],
        b"",
        &[],
    );
    assert!(o.status.success(), "{} {}", out(&o), err(&o));
    let tampered = bundle.replacen("leaf-index 3", "leaf-index 2", 1);
    std::fs::write(&f, tampered).unwrap();
    assert_eq!(
        ward_in(
            &home,
            &["audit", "check-proof", f.to_str().unwrap()],
            b"",
            &[]
        )
        .status
        .code(),
        Some(1)
    );
    // Consistency proof between two sizes.
    let o = ward_in(&home, &["audit", "consistency", "2", "6"], b"", &[]);
    assert!(o.status.success(), "{}", err(&o));
    std::fs::write(&f, out(&o)).unwrap();
    assert!(
        ward_in(
            &home,
            &["audit", "check-proof", f.to_str().unwrap()],
            b"",
            &[]
        )
        .status
        .success()
    );
    // One changed byte of one stored event: verify fails and names it.
    sqlite(
        &home.join("ward.db"),
        "UPDATE events SET body = CAST(replace(CAST(body AS TEXT), 'echo 4', 'echo 7') AS BLOB) WHERE seq = 4",
    );
    let o = ward_in(&home, &["audit", "verify"], b"", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("event 4"), "{}", err(&o));
}

#[test]
fn effects_link_to_decisions_and_trace_finds_the_commit() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("wh");
    let repo = t.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.email", "dev@example.com"]);
    git(&["config", "user.name", "Dev"]);
    std::fs::write(repo.join("a.txt"), "hello\n").unwrap();
    git(&["add", "a.txt"]);
    let cwd = repo.to_str().unwrap();
    let cmd = "git commit -q -m 'add a'";
    let o = ward_in(
        &home,
        &["hook", "claude-code"],
        &claude_bash(cmd, cwd, "toolu_commit"),
        &[],
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(!claude_blocks(&o));
    git(&["commit", "-q", "-m", "add a"]);
    let sha = git(&["rev-parse", "HEAD"]);
    let post = serde_json::json!({"session_id": "s-test", "cwd": cwd, "hook_event_name": "PostToolUse",
        "tool_name": "Bash", "tool_input": {"command": cmd}, "tool_use_id": "toolu_commit",
        "tool_response": {"stdout": "", "stderr": "", "interrupted": false}});
    let o = ward_in(
        &home,
        &["hook", "claude-code"],
        post.to_string().as_bytes(),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = ward_in(&home, &["audit", "trace", &sha[..10]], b"", &[]);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(text.contains(&sha), "{text}");
    assert!(text.contains("allow by"), "{text}");
    assert!(text.contains("everyday-development"), "{text}");
    assert!(text.contains("refs/heads/main"), "{text}");
    // A file written by a governed Write call is traceable by path.
    let file = repo.join("b.txt");
    std::fs::write(&file, "b\n").unwrap();
    let post = serde_json::json!({"session_id": "s-test", "cwd": cwd, "hook_event_name": "PostToolUse",
        "tool_name": "Write", "tool_input": {"file_path": file.to_str().unwrap(), "content": "b\n"}, "tool_use_id": "toolu_w",
        "tool_response": {"filePath": file.to_str().unwrap()}});
    assert!(
        ward_in(
            &home,
            &["hook", "claude-code"],
            post.to_string().as_bytes(),
            &[]
        )
        .status
        .success()
    );
    let o = ward_in(
        &home,
        &["audit", "trace", file.to_str().unwrap(), "--json"],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_str(out(&o).lines().next().unwrap()).unwrap();
    // sha256("b\n")
    let got = v
        .pointer("/effect/effect/files/0/sha256")
        .and_then(|x| x.as_str())
        .unwrap();
    assert_eq!(
        got,
        "0263829989b6fd954f72baaf2fc64bc2e2f01d692d4de72986ea808f6e99813f"
    );
}

#[test]
fn public_corpus_meets_the_bar() {
    corpus_meets_the_bar(&shared().join("eval/public-hooks.jsonl"));
}

#[test]
fn red_team_corpus_meets_the_bar() {
    corpus_meets_the_bar(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../eval/redteam.jsonl"));
}

#[test]
fn own_corpus_of_every_client_meets_the_bar() {
    corpus_meets_the_bar(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../eval/ward-cases.jsonl"),
    );
}

fn corpus_meets_the_bar(corpus: &Path) {
    let t = tempfile::tempdir().unwrap();
    let o = ward_in(
        &t.path().join("wh"),
        &["eval", corpus.to_str().unwrap(), "--json"],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", err(&o));
    let last: serde_json::Value = serde_json::from_str(out(&o).lines().last().unwrap()).unwrap();
    let catch = last["catch_rate"].as_f64().unwrap();
    let fp = last["hard_false_positive_rate"].as_f64().unwrap();
    assert!(catch >= 0.95, "catch rate {catch}: {}", last["summary"]);
    assert!(fp <= 0.05, "hard false positives {fp}: {}", last["summary"]);
    assert_eq!(last["fail_open"], 0);
}

#[test]
fn demo_runs_offline_and_verifies() {
    let t = tempfile::tempdir().unwrap();
    let o = ward_in(&t.path().join("unused"), &["demo"], b"", &[]);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(text.contains("audit log verified"), "{text}");
    assert!(text.contains("ward-audit inclusion bundle v1"), "{text}");
    for client in ["claude-code", "codex", "gemini", "cursor", "copilot"] {
        assert!(text.contains(client), "{client} missing from demo");
    }
    assert!(text.contains("deny") && text.contains("allow"), "{text}");
}

#[test]
fn default_pack_validates_and_its_tests_pass() {
    let t = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let o = ward_in(
        &t.path().join("wh"),
        &[
            "policy",
            "check",
            "--dir",
            root.join("policies").to_str().unwrap(),
        ],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = ward_in(
        &t.path().join("wh"),
        &[
            "policy",
            "test",
            root.join("policies/tests").to_str().unwrap(),
            "--policies",
            root.join("policies").to_str().unwrap(),
        ],
        b"",
        &[],
    );
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    assert!(out(&o).contains(" 0 failed"), "{}", out(&o));
}

#[test]
fn usage_errors_have_a_code_and_help() {
    let t = tempfile::tempdir().unwrap();
    let o = ward_in(t.path(), &["hook", "install", "vim"], b"", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).starts_with("error[E4003]: unknown client `vim`"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("help:"));
    let o = ward_in(t.path(), &["audit", "prove", "evt_nope"], b"", &[]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn assistants_are_registered_with_an_owner_and_retire_for_good() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let json = |o: &Output| -> serde_json::Value {
        assert_eq!(o.status.code(), Some(0), "{}", err(o));
        serde_json::from_str(out(o).trim()).unwrap()
    };
    let register = [
        "assistant",
        "register",
        "reviewer",
        "--kind",
        "claude-code",
        "--owner",
        "alice",
    ];
    // The owner must be a ward user.
    let o = ward_in(h, &register, b"", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("E4003") && err(&o).contains("ward user add alice"),
        "{}",
        err(&o)
    );
    assert!(
        ward_in(h, &["user", "add", "alice", "--role", "approver"], b"", &[])
            .status
            .success()
    );
    let mut args = register.to_vec();
    args.extend([
        "--host",
        "dev-1",
        "--os-user",
        "sam",
        "--repo",
        "acme/*",
        "--env",
        "dev",
        "--review-by",
        "2027-03-01",
        "--json",
    ]);
    let r = json(&ward_in(h, &args, b"", &[]));
    let id = r["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("ward-ast-"), "{r}");
    assert_eq!(r["status"], "active");
    // Same name or same hook identity while it lives: refused.
    let o = ward_in(h, &args, b"", &[]);
    assert!(err(&o).contains("already registered"), "{}", err(&o));
    let shown = json(&ward_in(
        h,
        &["assistant", "show", "reviewer", "--json"],
        b"",
        &[],
    ));
    assert_eq!(shown["identity"], "claude-code@dev-1/sam");
    assert_eq!(shown["owner"], "alice");
    assert_eq!(shown["repos"], serde_json::json!(["acme/*"]));
    assert_eq!(shown["review_by"], "2027-03-01T00:00:00.000Z");
    // Update: the owner must be a ward user; lists are replaced; the review date can be cleared.
    let o = ward_in(h, &["assistant", "update", &id, "--owner", "bob"], b"", &[]);
    assert!(
        err(&o).contains("E4003") && err(&o).contains("ward user add bob"),
        "{}",
        err(&o)
    );
    assert!(
        ward_in(h, &["user", "add", "bob", "--role", "viewer"], b"", &[])
            .status
            .success()
    );
    let updated = json(&ward_in(
        h,
        &[
            "assistant",
            "update",
            &id,
            "--owner",
            "bob",
            "--env",
            "prod",
            "--env",
            "dev",
            "--review-by",
            "none",
            "--json",
        ],
        b"",
        &[],
    ));
    assert_eq!(updated["owner"], "bob");
    assert_eq!(updated["envs"], serde_json::json!(["prod", "dev"]));
    assert_eq!(updated["repos"], serde_json::json!(["acme/*"]), "untouched");
    assert!(updated["review_by"].is_null());
    let updated = json(&ward_in(
        h,
        &["assistant", "update", "reviewer", "--no-envs", "--json"],
        b"",
        &[],
    ));
    assert_eq!(updated["envs"], serde_json::json!([]));
    let export = out(&ward_in(
        h,
        &["audit", "export", "--format", "jsonl"],
        b"",
        &[],
    ));
    assert_eq!(
        export.matches(&format!("assistant update {id}")).count(),
        2,
        "each update is an audit event"
    );
    // Suspend, resume, retire; a retired assistant cannot come back.
    let step = |verb: &str| ward_in(h, &["assistant", verb, &id, "--json"], b"", &[]);
    assert_eq!(json(&step("suspend"))["status"], "suspended");
    assert_eq!(json(&step("resume"))["status"], "active");
    assert_eq!(json(&step("retire"))["status"], "retired");
    let o = step("resume");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("E5005") && err(&o).contains("it is retired"),
        "{}",
        err(&o)
    );
    let o = step("approve");
    assert!(err(&o).contains("E5005"), "{}", err(&o));
    let o = ward_in(h, &["assistant", "update", &id, "--purpose", "x"], b"", &[]);
    assert!(
        err(&o).contains("E5005") && err(&o).contains("retired"),
        "{}",
        err(&o)
    );
    // The name is free again; the list shows both registrations.
    let again = json(&ward_in(h, &args, b"", &[]));
    assert_ne!(again["id"], id.as_str());
    let list = json(&ward_in(h, &["assistant", "list", "--json"], b"", &[]));
    let statuses: Vec<&str> = list["assistants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.contains(&"retired") && statuses.contains(&"active"));
    // Bad input names the problem.
    for (bad, needle) in [
        (
            vec![
                "assistant",
                "register",
                "x",
                "--kind",
                "robot",
                "--owner",
                "alice",
            ],
            "unknown assistant kind",
        ),
        (
            vec![
                "assistant",
                "register",
                "x",
                "--kind",
                "ci",
                "--owner",
                "alice",
                "--review-by",
                "soon",
            ],
            "YYYY-MM-DD",
        ),
        (vec!["assistant", "show", "nobody"], "E5003"),
        (
            vec![
                "assistant",
                "register",
                "ward-ast-0",
                "--kind",
                "ci",
                "--owner",
                "alice",
            ],
            "marks ids",
        ),
    ] {
        let o = ward_in(h, &bad, b"", &[]);
        assert_eq!(o.status.code(), Some(1), "{bad:?}");
        assert!(err(&o).contains(needle), "{bad:?}: {}", err(&o));
    }
}

#[test]
fn a_hook_enrolls_its_assistant_and_obeys_its_status_at_once() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path().to_str().unwrap().to_string();
    let bash = |id: &str, env: &[(&str, &str)]| {
        ward_in(
            h,
            &["hook", "claude-code"],
            &claude_bash("ls -la", &cwd, id),
            env,
        )
    };
    let read = |id: &str, env: &[(&str, &str)]| {
        let payload = serde_json::json!({"session_id": "s-test", "transcript_path": "/tmp/t.jsonl",
            "cwd": cwd, "permission_mode": "default", "hook_event_name": "PreToolUse",
            "tool_name": "Read", "tool_input": {"file_path": format!("{cwd}/README.md")},
            "tool_use_id": id});
        ward_in(
            h,
            &["hook", "claude-code"],
            payload.to_string().as_bytes(),
            env,
        )
    };
    let ok = |args: &[&str]| succeeds(h, args);
    let live = || -> serde_json::Value {
        let list: serde_json::Value =
            serde_json::from_str(out(&ok(&["assistant", "list", "--json"])).trim()).unwrap();
        let live: Vec<_> = list["assistants"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["status"] != "retired")
            .cloned()
            .collect();
        assert_eq!(live.len(), 1, "{list}");
        live[0].clone()
    };

    // First use by the home's owner: enrolled active, owned by the requester (mapped through
    // [requesters]), and the event names the registration.
    std::fs::write(
        h.join("ward.toml"),
        format!(
            "[requesters]\n{} = \"dev-lead\"\n",
            ward_server::ident::os_user()
        ),
    )
    .unwrap();
    let o = bash("t1", &[]);
    assert!(!claude_blocks(&o), "{}{}", out(&o), err(&o));
    let a = live();
    assert_eq!(
        (&a["status"], &a["kind"]),
        (&"active".into(), &"claude-code".into())
    );
    assert_eq!(a["owner"], "dev-lead", "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    let export = out(&ok(&["audit", "export", "--format", "jsonl"]));
    let last: serde_json::Value = serde_json::from_str(export.lines().last().unwrap()).unwrap();
    assert_eq!(
        last["unmapped"]["registration"],
        serde_json::json!({"id": id, "status": "active", "enrolled": true})
    );

    // Suspended: the very next call is denied, saying how to resume; resumed: allowed.
    ok(&["assistant", "suspend", &id]);
    let o = bash("t2", &[]);
    assert!(claude_blocks(&o), "{}", out(&o));
    assert!(
        out(&o).contains("is suspended")
            && out(&o).contains(&format!("ward assistant resume {id}")),
        "{}",
        out(&o)
    );
    ok(&["assistant", "resume", &id]);
    assert!(!claude_blocks(&bash("t3", &[])));

    // Retired for good: the same identity comes back pending, and pending is denied.
    ok(&["assistant", "retire", &id]);
    let o = bash("t4", &[]);
    assert!(claude_blocks(&o), "{}", out(&o));
    assert!(out(&o).contains("waits for approval"), "{}", out(&o));
    let pending = live();
    assert_eq!(pending["status"], "pending");
    assert_ne!(pending["id"], id.as_str());
    // The read-only rule lets it read files, nothing else.
    let ro = [("WARD_ASSISTANT_PENDING", "read-only")];
    assert!(!claude_blocks(&read("t5", &ro)));
    let o = bash("t6", &ro);
    assert!(
        claude_blocks(&o) && out(&o).contains("only read files"),
        "{}",
        out(&o)
    );
    // A bad setting denies rather than guessing (only consulted for a pending assistant).
    let o = read("t7", &[("WARD_ASSISTANT_PENDING", "sometimes")]);
    assert!(
        claude_blocks(&o) && out(&o).contains("E4001"),
        "{}",
        out(&o)
    );

    // Approval names an owner who is a ward user; then everyday work passes again.
    let pid = pending["id"].as_str().unwrap();
    ok(&["user", "add", "dev", "--role", "viewer"]);
    ok(&["assistant", "approve", pid, "--owner", "dev"]);
    assert!(!claude_blocks(&bash("t8", &[])));

    // `assistant_first_use = "pending"`: a new assistant waits even for the home's owner.
    std::fs::write(h.join("ward.toml"), "assistant_first_use = \"pending\"\n").unwrap();
    let codex = serde_json::json!({"session_id": "c1", "turn_id": "c1-t",
        "transcript_path": "/tmp/t.jsonl", "cwd": cwd, "hook_event_name": "PreToolUse",
        "model": "gpt-5.5", "permission_mode": "default", "tool_name": "Bash",
        "tool_input": {"command": "ls"}, "tool_use_id": "c-1"});
    let o = ward_in(h, &["hook", "codex"], codex.to_string().as_bytes(), &[]);
    let said = format!("{}{}", out(&o), err(&o));
    assert!(said.contains("waits for approval"), "{said}");

    // Review gaps: the new codex assistant has no owner; the approved one is owned and in use.
    let stale: serde_json::Value =
        serde_json::from_str(out(&ok(&["assistant", "list", "--stale", "--json"])).trim()).unwrap();
    let stale = stale["assistants"].as_array().unwrap();
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(stale[0]["kind"], "codex");
    assert_eq!(stale[0]["stale"], serde_json::json!(["no owner"]));
    let o = ok(&["assistant", "list", "--stale", "--unused-days", "0"]);
    assert_eq!(out(&o).matches("stale: ").count(), 2, "{}", out(&o));
    assert!(out(&o).contains("unused since"), "{}", out(&o));

    // Every registry change by a person is an event in the same log, naming who and what.
    let export = out(&ok(&["audit", "export", "--format", "jsonl"]));
    let changes: Vec<(String, String)> = export
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["activity_name"] == "registry")
        .map(|e| {
            assert!(
                e["unmapped"]["human"].as_str().unwrap().starts_with("os:"),
                "{e}"
            );
            (
                e["unmapped"]["action"].as_str().unwrap().to_string(),
                e["unmapped"]["registration"]["status"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    let verbs: Vec<(&str, &str)> = changes
        .iter()
        .map(|(a, s)| (a.split(' ').nth(1).unwrap(), s.as_str()))
        .collect();
    assert_eq!(
        verbs,
        [
            ("suspend", "suspended"),
            ("resume", "active"),
            ("retire", "retired"),
            ("approve", "active")
        ],
        "{changes:?}"
    );
    assert!(changes[0].0.contains(&id), "{changes:?}");
    ok(&["audit", "verify"]);

    // A change that cannot be recorded does not stand: with the signing key broken, suspending
    // fails with the reason and the assistant stays active.
    let key = h.join("keys").join("audit.key");
    let saved = std::fs::read(&key).unwrap();
    std::fs::write(&key, "broken\n").unwrap();
    let o = ward_in(h, &["assistant", "suspend", pid], b"", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("could not be recorded, so it was undone"),
        "{}",
        err(&o)
    );
    std::fs::write(&key, saved).unwrap();
    let shown: serde_json::Value =
        serde_json::from_str(out(&ok(&["assistant", "show", pid, "--json"])).trim()).unwrap();
    assert_eq!(shown["status"], "active");
}

#[test]
fn an_assistant_with_allowed_repositories_works_only_in_them() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let work = tempfile::tempdir().unwrap();
    let repo = |name: &str, remote: Option<&str>| {
        let dir = work.path().join(name);
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        if let Some(url) = remote {
            std::fs::write(
                dir.join(".git/config"),
                format!("[remote \"origin\"]\n\turl = {url}\n"),
            )
            .unwrap();
        }
        dir.to_str().unwrap().to_string()
    };
    let ours = repo("api", Some("git@github.com:acme/api.git"));
    let theirs = repo("x", Some("https://github.com/other/x.git"));
    let loose = work.path().join("scratch");
    std::fs::create_dir_all(&loose).unwrap();
    let loose = loose.to_str().unwrap().to_string();
    let ok = |args: &[&str]| {
        succeeds(h, args);
    };
    ok(&["user", "add", "dev", "--role", "viewer"]);
    ok(&[
        "assistant",
        "register",
        "coder",
        "--kind",
        "claude-code",
        "--owner",
        "dev",
        "--repo",
        "acme/*",
    ]);
    let call = |cwd: &str, id: &str| {
        ward_in(
            h,
            &["hook", "claude-code"],
            &claude_bash("ls -la", cwd, id),
            &[],
        )
    };
    assert!(!claude_blocks(&call(&ours, "t1")), "its own repository");
    let o = call(&theirs, "t2");
    assert!(claude_blocks(&o), "{}", out(&o));
    assert!(
        out(&o).contains("may work only in acme/*") && out(&o).contains("other/x"),
        "{}",
        out(&o)
    );
    let o = call(&loose, "t3");
    assert!(
        claude_blocks(&o) && out(&o).contains("(no repository)"),
        "{}",
        out(&o)
    );
    // Widening the scope takes effect on the next call.
    ok(&["assistant", "update", "coder", "--no-repos"]);
    assert!(!claude_blocks(&call(&theirs, "t4")));
}

#[test]
fn risk_tiers_follow_the_policy_the_status_and_the_settings() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let risk = |env: &[(&str, &str)]| -> Vec<(String, String, String)> {
        let o = ward_in(h, &["assistant", "list", "--json"], b"", env);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        let v: serde_json::Value = serde_json::from_str(out(&o).trim()).unwrap();
        v["assistants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["status"].as_str().unwrap().to_string(),
                    a["risk"]["tier"].as_str().unwrap().to_string(),
                    a["risk"]["with_approval"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let t = |s: &str, a: &str, b: &str| (s.to_string(), a.to_string(), b.to_string());
    let ok = |args: &[&str]| {
        succeeds(h, args);
    };
    ok(&["user", "add", "dev", "--role", "viewer"]);
    ok(&[
        "assistant",
        "register",
        "coder",
        "--kind",
        "claude-code",
        "--owner",
        "dev",
    ]);
    // The default pack lets everyday work and pushes through; production and secrets need an
    // approver.
    assert_eq!(
        risk(&[]),
        [t("active", "push-publish", "deploy-prod-secrets")]
    );
    ok(&["assistant", "suspend", "coder"]);
    assert_eq!(risk(&[]), [t("suspended", "draft-only", "draft-only")]);
    // Retired, the identity comes back pending: its tier is what the pending rule allows.
    ok(&["assistant", "retire", "coder"]);
    let o = ward_in(
        h,
        &["hook", "claude-code"],
        &claude_bash("ls", "/tmp", "t1"),
        &[],
    );
    assert!(claude_blocks(&o));
    let pending = |env: &[(&str, &str)]| risk(env).into_iter().find(|r| r.0 == "pending").unwrap();
    assert_eq!(pending(&[]), t("pending", "draft-only", "draft-only"));
    assert_eq!(
        pending(&[("WARD_ASSISTANT_PENDING", "read-only")]),
        t("pending", "read", "read")
    );
    assert_eq!(
        pending(&[("WARD_ASSISTANT_PENDING", "ask")]),
        t("pending", "draft-only", "deploy-prod-secrets")
    );
}
