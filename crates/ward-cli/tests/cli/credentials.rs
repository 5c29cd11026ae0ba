//! Tasks, task tokens and the broker, through the real binary: tokens that die with their task,
//! git's own `git credential fill` through the helper, Postgres roles on the real server.

use super::{WARD, claude_bash, claude_blocks, err, out, succeeds, ward_in};
use base64::Engine as _;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};

fn json(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", out(o)))
}

fn start(h: &Path, args: &[&str]) -> (String, String) {
    let mut all = vec!["task", "start", "--json"];
    all.extend_from_slice(args);
    let v = json(&succeeds(h, &all));
    (
        v["id"].as_str().unwrap().to_string(),
        v["token"].as_str().unwrap().to_string(),
    )
}

fn introspect(h: &Path, token: &str) -> Value {
    json(&succeeds(h, &["token", "introspect", token, "--json"]))
}

fn registered(h: &Path, name: &str, extra: &[&str]) -> String {
    let mut args = vec!["assistant", "register", name, "--owner", "alice", "--json"];
    args.extend_from_slice(extra);
    json(&succeeds(h, &args))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Re-encode a token's payload after `edit`, keeping the old signature.
fn forged(token: &str, edit: impl Fn(&mut Value)) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    edit(&mut claims);
    let body = b64.encode(serde_json::to_vec(&claims).unwrap());
    format!("{}.{body}.{}", parts[0], parts[2])
}

#[test]
fn task_tokens_are_scoped_chained_and_die_with_their_task() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    succeeds(h, &["user", "add", "alice", "--role", "admin"]);
    let id = registered(
        h,
        "bot",
        &["--kind", "ci", "--repo", "acme/*", "--env", "staging"],
    );
    let (task, token) = start(
        h,
        &["--assistant", &id, "--repo", "acme/api", "--env", "staging"],
    );
    let v = introspect(h, &token);
    assert_eq!(v["active"], true, "{v}");
    assert_eq!(v["task"], task.as_str());
    assert_eq!(v["client_id"], id.as_str());
    assert_eq!(v["scope"], "env:staging repo:acme/api");
    assert_eq!(v["act"]["sub"], format!("assistant:{id}"));

    // Only within the registration.
    for (repo, env) in [("other/api", "staging"), ("acme/api", "prod")] {
        let o = ward_in(
            h,
            &[
                "task",
                "start",
                "--assistant",
                &id,
                "--repo",
                repo,
                "--env",
                env,
            ],
            b"",
            &[],
        );
        assert_eq!(o.status.code(), Some(1), "{repo} {env}");
        assert!(
            err(&o).contains("E5006") && err(&o).contains("not one of the assistant's"),
            "{}",
            err(&o)
        );
    }
    // A child task narrows and extends the actor chain; it can never widen.
    let o = ward_in(
        h,
        &[
            "task",
            "start",
            "--assistant",
            &id,
            "--repo",
            "acme/api",
            "--parent",
            &task,
            "--scope",
            "repo:acme/*",
        ],
        b"",
        &[],
    );
    assert!(
        err(&o).contains("would widen the parent task"),
        "{}",
        err(&o)
    );
    let (child, child_token) = start(
        h,
        &[
            "--assistant",
            &id,
            "--repo",
            "acme/api",
            "--parent",
            &task,
            "--agent",
            "reviewer",
        ],
    );
    let v = introspect(h, &child_token);
    assert_eq!(v["act"]["sub"], "agent:reviewer", "{v}");
    assert_eq!(v["act"]["act"]["sub"], format!("assistant:{id}"), "{v}");
    assert_eq!(v["scope"], "env:staging repo:acme/api");

    // Tampered (scope widened, old signature), signed by another key, wrong audience, garbage.
    let wider = forged(&token, |c| c["scope"] = "repo:acme/* env:staging".into());
    assert_eq!(introspect(h, &wider)["active"], false);
    let o = ward_in(h, &["token", "introspect", &wider, "--json"], b"", &[]);
    assert!(err(&o).contains("signature"), "{}", err(&o));
    let other = ward_broker::jwt::TokenKey::from_seed(&[7; 32]);
    let key_hex = std::fs::read_to_string(h.join("keys/token.key")).unwrap();
    let ours = ward_broker::jwt::TokenKey::from_seed(
        &<[u8; 32]>::try_from(hex::decode(key_hex.trim()).unwrap()).unwrap(),
    );
    let claims = |aud: &str| {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut c: ward_broker::jwt::Claims =
            serde_json::from_slice(&b64.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
        c.aud = aud.into();
        c
    };
    assert_eq!(introspect(h, &other.sign(&claims("ward")))["active"], false);
    assert_eq!(introspect(h, "not.a.token")["active"], false);
    // The right key but another audience: introspection describes it, no helper accepts it.
    let elsewhere = ours.sign(&claims("mcp:github"));
    assert_eq!(introspect(h, &elsewhere)["aud"], "mcp:github");
    let o = ward_in(
        h,
        &["credential", "git", "get"],
        b"protocol=https\nhost=github.com\n\n",
        &[("WARD_TASK", &elsewhere)],
    );
    assert!(err(&o).contains("audience"), "{}", err(&o));

    // Expiry.
    let (_, short) = start(
        h,
        &["--assistant", &id, "--repo", "acme/api", "--ttl", "1s"],
    );
    assert_eq!(introspect(h, &short)["active"], true);
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    assert_eq!(introspect(h, &short)["active"], false);

    // Ending the parent ends the child; every token of the tree is dead.
    let o = succeeds(h, &["task", "end", &task, "--json"]);
    let ended = json(&o)["ended"].clone();
    assert_eq!(ended.as_array().unwrap().len(), 2, "{ended}");
    assert_eq!(introspect(h, &token)["active"], false);
    assert_eq!(introspect(h, &child_token)["active"], false);
    let shown = json(&succeeds(h, &["task", "show", &child, "--json"]));
    assert_eq!(shown["state"], "ended");
    assert!(
        shown["leases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["live"] == false)
    );
    let o = ward_in(h, &["task", "end", &task], b"", &[]);
    assert!(err(&o).contains("ended already"), "{}", err(&o));
    let live = json(&succeeds(h, &["task", "list", "--json"]));
    assert!(
        live["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["id"] != task.as_str())
    );

    // Every step is in the verified log, with its task and actor chain.
    succeeds(h, &["audit", "verify"]);
    let log = out(&succeeds(h, &["audit", "export"]));
    assert!(log.contains(&format!("task start {task}")), "{log}");
    assert!(log.contains(&format!("task end {child}")), "{log}");
    assert!(log.contains("\"actors\":[\"user:"), "{log}");
}

/// `git credential fill` with ward as the helper, as git runs it.
fn git_fill(h: &Path, path: &str, task: Option<&str>) -> std::process::Output {
    let gitenv = h.join("git-home");
    std::fs::create_dir_all(&gitenv).unwrap();
    let mut cmd = Command::new("git");
    cmd.args([
        "-c",
        "credential.helper=",
        "-c",
        &format!("credential.helper=!{WARD} credential git"),
        "-c",
        "credential.useHttpPath=true",
        "credential",
        "fill",
    ])
    .env("HOME", &gitenv)
    .env("GIT_CONFIG_NOSYSTEM", "1")
    .env("GIT_TERMINAL_PROMPT", "0")
    .env("WARD_HOME", h)
    .env_remove("WARD_TASK")
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if let Some(t) = task {
        cmd.env("WARD_TASK", t);
    }
    let mut child = cmd.spawn().expect("git");
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        format!("protocol=https\nhost=github.com\npath={path}\n\n").as_bytes(),
    )
    .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn git_gets_a_credential_only_inside_a_task_for_its_repository() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    succeeds(h, &["user", "add", "alice", "--role", "admin"]);
    let id = registered(h, "coder", &["--kind", "claude-code", "--repo", "acme/*"]);
    let o = ward_in(h, &["secret", "put", "gh"], b"ghp_not_a_real_token\n", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // Sealed at rest: the value is nowhere in the database file.
    let db = std::fs::read(h.join("ward.db")).unwrap();
    assert!(
        !db.windows(8).any(|w| w == b"ghp_not_"),
        "secret stored in the clear"
    );
    assert!(!out(&succeeds(h, &["secret", "list"])).contains("ghp_"));
    std::fs::write(
        h.join("ward.toml"),
        "[credentials.git.\"github.com\"]\nsecret = \"gh\"\nrepos = [\"acme/*\"]\n",
    )
    .unwrap();
    let (task, token) = start(h, &["--assistant", &id, "--repo", "acme/api"]);
    // Inside the task, for its repository: by token and by id.
    for reference in [&token, &task] {
        let o = git_fill(h, "acme/api.git", Some(reference));
        assert!(o.status.success(), "{}", err(&o));
        assert!(
            out(&o).contains("password=ghp_not_a_real_token"),
            "{}",
            out(&o)
        );
        assert!(out(&o).contains("username=x-access-token"));
    }
    let standing = json(&succeeds(h, &["report", "standing", "--json"]));
    assert_eq!(
        standing["static_secrets"][0]["released_as"],
        json!(["git:github.com"]),
        "{standing}"
    );
    // Released twice (by token and by id): two leases, live until the task ends.
    assert_eq!(
        standing["static_secrets"][0]["live_leases"], 2,
        "{standing}"
    );
    let lease = json(&succeeds(h, &["lease", "list", "--json"]));
    assert!(
        lease["leases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["kind"] == "secret" && l["resource"] == "git:github.com/acme/api"),
        "{lease}"
    );
    // Another repository of the same host, and no task at all: nothing, with the reason.
    for (path, task, why) in [
        (
            "acme/other.git",
            Some(token.as_str()),
            "works in `acme/api`",
        ),
        (
            "other/x.git",
            Some(token.as_str()),
            "not one of the repositories",
        ),
        ("acme/api.git", None, "no task"),
    ] {
        let o = git_fill(h, path, task);
        assert!(!o.status.success(), "{path}");
        assert!(!out(&o).contains("password="), "{path}: {}", out(&o));
        assert!(err(&o).contains(why), "{path}: {}", err(&o));
    }
    // Ended: nothing more.
    succeeds(h, &["task", "end", &task]);
    let o = git_fill(h, "acme/api.git", Some(&token));
    assert!(!out(&o).contains("password="));
    assert!(err(&o).contains("revoked"), "{}", err(&o));
    let log = out(&succeeds(h, &["audit", "export"]));
    assert!(
        log.contains("\"state\":\"issued\"") && log.contains("\"state\":\"denied\""),
        "{log}"
    );
    assert!(log.contains("\"state\":\"revoked\""), "{log}");
}

#[test]
fn a_retired_assistant_loses_its_tasks_leases_and_next_hook_call() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path().to_str().unwrap();
    succeeds(h, &["user", "add", "alice", "--role", "admin"]);
    // Registered for this host and OS user: the identity its hooks report.
    let id = registered(h, "coder", &["--kind", "claude-code"]);
    assert!(!claude_blocks(&ward_in(
        h,
        &["hook", "claude-code"],
        &claude_bash("ls", cwd, "r1"),
        &[]
    )));
    let (task, token) = start(h, &["--assistant", &id, "--repo", "acme/api"]);
    assert_eq!(introspect(h, &token)["active"], true);
    let o = succeeds(h, &["assistant", "retire", &id, "--json"]);
    let v = json(&o);
    assert_eq!(v["ended_tasks"][0], task.as_str(), "{v}");
    assert_eq!(introspect(h, &token)["active"], false);
    let live = json(&succeeds(h, &["lease", "list", "--json"]));
    assert_eq!(live["leases"].as_array().unwrap().len(), 0, "{live}");
    let o = ward_in(
        h,
        &["hook", "claude-code"],
        &claude_bash("ls", cwd, "r2"),
        &[],
    );
    assert!(claude_blocks(&o), "{}", out(&o));
    let o = ward_in(
        h,
        &["task", "start", "--assistant", &id, "--repo", "acme/api"],
        b"",
        &[],
    );
    assert!(err(&o).contains("retired"), "{}", err(&o));
}

#[test]
fn a_postgres_role_minted_for_a_task_logs_in_only_while_the_task_lives() {
    let pg = ward_store::testdb::FreshPg::create().unwrap_or_else(|e| panic!("{e}"));
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    succeeds(h, &["user", "add", "alice", "--role", "admin"]);
    let id = registered(h, "etl", &["--kind", "ci", "--env", "staging"]);
    std::fs::write(
        h.join("ward.toml"),
        format!(
            "[providers.app]\nkind = \"postgres\"\nadmin_url = \"{}\"\ngrants = [\"pg_read_all_data\"]\nenvs = [\"staging\"]\n",
            pg.url
        ),
    )
    .unwrap();
    let can_login = |url: &str| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(ward_store::provision::pg_can_login(url))
    };
    // A task outside the provider's environments gets nothing.
    let (other, _) = start(h, &["--assistant", &id, "--repo", "acme/etl"]);
    let o = ward_in(
        h,
        &["credential", "postgres", "app", "--task", &other, "--json"],
        b"",
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("E5007") && err(&o).contains("staging"),
        "{}",
        err(&o)
    );

    let (task, _) = start(
        h,
        &["--assistant", &id, "--repo", "acme/etl", "--env", "staging"],
    );
    let v = json(&succeeds(
        h,
        &["credential", "postgres", "app", "--task", &task, "--json"],
    ));
    for k in ["username", "password", "url", "expires_at", "lease_id"] {
        assert!(v[k].is_string(), "{k}: {v}");
    }
    let url = v["url"].as_str().unwrap();
    assert!(url.contains(v["username"].as_str().unwrap()), "{url}");
    assert!(can_login(url), "the role logs in during the task");
    let o = succeeds(h, &["task", "end", &task]);
    assert!(
        out(&o).contains("revoked postgres postgres:app"),
        "{}",
        out(&o)
    );
    assert!(!can_login(url), "the role is gone once the task ends");
    succeeds(h, &["audit", "verify"]);
}

#[test]
fn token_exchange_narrows_keeps_the_actor_chain_and_never_passes_a_token_on() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    succeeds(h, &["user", "add", "alice", "--role", "admin"]);
    std::fs::write(h.join("ward.toml"), "token_audiences = [\"mcp:*\"]\n").unwrap();
    let id = registered(h, "bot", &["--kind", "ci", "--repo", "acme/*"]);
    let helper = registered(h, "helper", &["--kind", "ci"]);
    let (root, _) = start(
        h,
        &[
            "--assistant",
            &id,
            "--repo",
            "acme/api",
            "--scope",
            "secret:npm-*",
        ],
    );
    let (_, sub) = start(
        h,
        &[
            "--assistant",
            &id,
            "--repo",
            "acme/api",
            "--parent",
            &root,
            "--agent",
            "reviewer",
        ],
    );
    let exchange = |subject: &str, extra: &[&str]| {
        let mut args = vec!["token", "exchange", "--subject-token", subject, "--json"];
        args.extend_from_slice(extra);
        ward_in(h, &args, b"", &[])
    };
    // Narrower, for a named audience; the chain survives.
    let o = exchange(
        &sub,
        &["--audience", "mcp:github", "--scope", "repo:acme/api"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v = json(&o);
    assert_eq!(
        v["issued_token_type"],
        "urn:ietf:params:oauth:token-type:jwt"
    );
    assert_eq!(v["scope"], "repo:acme/api");
    let narrow = v["access_token"].as_str().unwrap().to_string();
    let i = introspect(h, &narrow);
    assert_eq!(
        (i["active"].clone(), i["aud"].clone()),
        (json!(true), json!("mcp:github")),
        "{i}"
    );
    assert_eq!(i["act"]["sub"], "agent:reviewer", "{i}");
    assert_eq!(i["act"]["act"]["sub"], format!("assistant:{id}"), "{i}");
    // An actor token puts its assistant in front of the chain.
    let (_, helper_token) = start(h, &["--assistant", &helper, "--repo", "acme/api"]);
    let o = exchange(
        &sub,
        &["--audience", "mcp:github", "--actor-token", &helper_token],
    );
    let i = introspect(h, json(&o)["access_token"].as_str().unwrap());
    assert_eq!(i["act"]["sub"], format!("assistant:{helper}"), "{i}");
    assert_eq!(i["act"]["act"]["sub"], "agent:reviewer", "{i}");
    // Refused: wider scopes, an audience nobody configured, a token minted for another audience
    // (as subject, or handed to a helper), a tampered one.
    for (subject, extra, why) in [
        (
            sub.as_str(),
            vec!["--audience", "mcp:github", "--scope", "repo:acme/*"],
            "invalid_scope",
        ),
        (
            sub.as_str(),
            vec!["--audience", "mcp:github", "--scope", "secret:*"],
            "invalid_scope",
        ),
        (
            sub.as_str(),
            vec!["--audience", "api:payments"],
            "invalid_target",
        ),
        (narrow.as_str(), vec!["--audience", "mcp:other"], "audience"),
    ] {
        let o = exchange(subject, &extra);
        assert_eq!(o.status.code(), Some(1), "{extra:?}");
        assert!(
            err(&o).contains(why) && err(&o).contains("E5007"),
            "{extra:?}: {}",
            err(&o)
        );
    }
    let tampered = forged(&sub, |c| c["scope"] = "repo:acme/* secret:npm-*".into());
    let o = exchange(&tampered, &["--audience", "mcp:github"]);
    assert!(
        err(&o).contains("invalid_grant") && err(&o).contains("signature"),
        "{}",
        err(&o)
    );
    let o = ward_in(
        h,
        &["credential", "git", "get"],
        b"protocol=https\nhost=github.com\n\n",
        &[("WARD_TASK", &narrow)],
    );
    assert!(err(&o).contains("audience"), "{}", err(&o));
    // Renewal: a fresh ward token for the same task; ending the task kills every derived one.
    let o = exchange(&sub, &["--audience", "ward"]);
    let renewed = json(&o)["access_token"].as_str().unwrap().to_string();
    assert_eq!(introspect(h, &renewed)["active"], true);
    succeeds(h, &["task", "end", &root]);
    for t in [&narrow, &renewed, &sub] {
        assert_eq!(introspect(h, t)["active"], false);
    }
    let log = out(&succeeds(h, &["audit", "export"]));
    assert!(log.contains("issue token exchange for mcp:github"), "{log}");
    assert!(
        log.contains("refuse token exchange for api:payments"),
        "{log}"
    );
}

/// `ssh-keygen`, failing the test with what to install when it is missing.
fn ssh_keygen(args: &[&str]) -> std::process::Output {
    Command::new("ssh-keygen")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("ssh-keygen: {e} (install openssh-client)"))
}

#[test]
fn ssh_certificates_are_signed_for_minutes_for_the_tasks_principals() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    succeeds(h, &["user", "add", "alice", "--role", "admin"]);
    std::fs::write(
        h.join("ward.toml"),
        "[providers.prod-hosts]\nkind = \"ssh\"\nprincipals = [\"deploy\", \"{requester}\"]\nttl = \"5m\"\nenvs = [\"prod\"]\n",
    )
    .unwrap();
    let id = registered(h, "ops", &["--kind", "ci", "--env", "prod"]);
    let key = h.join("id_ed25519");
    let o = ssh_keygen(&[
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        "dev",
        "-f",
        key.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let pubkey = h.join("id_ed25519.pub");
    let cert = h.join("id_ed25519-cert.pub");
    let (task, _) = start(
        h,
        &[
            "--assistant",
            &id,
            "--repo",
            "acme/ops",
            "--env",
            "prod",
            "--requester",
            "alice",
        ],
    );
    let o = succeeds(
        h,
        &[
            "credential",
            "ssh",
            "prod-hosts",
            "--public-key",
            pubkey.to_str().unwrap(),
            "--task",
            &task,
            "--out",
            cert.to_str().unwrap(),
            "--json",
        ],
    );
    let v = json(&o);
    assert_eq!(v["principals"], json!(["deploy", "alice"]), "{v}");
    // OpenSSH's own reading of it.
    let o = ssh_keygen(&["-L", "-f", cert.to_str().unwrap()]);
    let shown = out(&o);
    assert!(o.status.success(), "{}", err(&o));
    assert!(shown.contains("user certificate"), "{shown}");
    assert!(
        shown.contains(&format!("Key ID: \"{task} requester=alice")),
        "{shown}"
    );
    assert!(
        shown.contains("deploy") && shown.contains("alice"),
        "{shown}"
    );
    assert!(
        shown.contains("permit-pty") && !shown.contains("permit-agent-forwarding"),
        "{shown}"
    );
    let ca = out(&succeeds(h, &["credential", "ssh-ca"]));
    std::fs::write(h.join("ca.pub"), &ca).unwrap();
    let fp = out(&ssh_keygen(&[
        "-l",
        "-f",
        h.join("ca.pub").to_str().unwrap(),
    ]));
    let fp = fp.split_whitespace().nth(1).unwrap();
    assert!(
        shown.contains(&format!("Signing CA: ED25519 {fp}")),
        "{shown}\n{fp}"
    );
    // Valid for minutes: from a minute ago to at most five from now.
    let line = shown
        .lines()
        .find(|l| l.trim_start().starts_with("Valid:"))
        .unwrap();
    let times: Vec<&str> = line
        .split_whitespace()
        .filter(|w| w.contains('T'))
        .collect();
    let secs = |t: &str| {
        let o = Command::new("date")
            .args(["-d", t, "+%s"])
            .output()
            .unwrap();
        out(&o).trim().parse::<i64>().unwrap()
    };
    let span = secs(times[1]) - secs(times[0]);
    assert!((300..=360).contains(&span), "{line}");
    // Outside the provider's environments, or after the task: nothing.
    let (dev_task, _) = start(h, &["--assistant", &id, "--repo", "acme/ops"]);
    let sign = |task: &str| {
        ward_in(
            h,
            &[
                "credential",
                "ssh",
                "prod-hosts",
                "--public-key",
                pubkey.to_str().unwrap(),
                "--task",
                task,
            ],
            b"",
            &[],
        )
    };
    let o = sign(&dev_task);
    assert!(
        err(&o).contains("E5007") && err(&o).contains("prod"),
        "{}",
        err(&o)
    );
    succeeds(h, &["task", "end", &task]);
    let o = sign(&task);
    assert!(err(&o).contains("ended"), "{}", err(&o));
}

#[test]
fn aws_docker_and_kubectl_get_secrets_through_their_own_protocols() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    succeeds(h, &["user", "add", "alice", "--role", "admin"]);
    for (name, value) in [
        (
            "aws-ci",
            "{\"AccessKeyId\":\"AKIAWARDTEST\",\"SecretAccessKey\":\"s3cr3t\"}",
        ),
        ("registry-token", "dckr_not_real"),
        ("kube-token", "kube_not_real"),
    ] {
        let o = ward_in(h, &["secret", "put", name], value.as_bytes(), &[]);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    }
    std::fs::write(
        h.join("ward.toml"),
        "[credentials.aws.\"ci\"]\nsecret = \"aws-ci\"\nenvs = [\"staging\"]\n\n[credentials.docker.\"registry.example.com\"]\nsecret = \"registry-token\"\nusername = \"robot\"\n\n[credentials.kubectl.\"dev\"]\nsecret = \"kube-token\"\nrepos = [\"acme/*\"]\n",
    )
    .unwrap();
    let id = registered(h, "bot", &["--kind", "ci", "--env", "staging"]);
    let (_, token) = start(
        h,
        &["--assistant", &id, "--repo", "acme/api", "--env", "staging"],
    );
    let (_, elsewhere) = start(h, &["--assistant", &id, "--repo", "other/api"]);
    let env = |task: &str| {
        vec![
            ("WARD_HOME", h.to_str().unwrap().to_string()),
            ("WARD_TASK", task.to_string()),
            ("HOME", h.to_str().unwrap().to_string()),
        ]
    };

    // AWS: botocore's own credential_process provider runs the helper.
    let aws_config = h.join("aws-config");
    std::fs::write(
        &aws_config,
        format!("[profile ci]\ncredential_process = {WARD} credential aws --profile ci\n"),
    )
    .unwrap();
    let boto = |task: &str| {
        Command::new("python3")
            .args([
                "-c",
                "import botocore.session as s; c = s.Session(profile='ci').get_credentials().get_frozen_credentials(); print(c.access_key, c.secret_key)",
            ])
            .envs(env(task))
            .env("AWS_CONFIG_FILE", &aws_config)
            .env("AWS_SHARED_CREDENTIALS_FILE", h.join("none"))
            .output()
            .expect("python3 with botocore (pip install botocore)")
    };
    let o = boto(&token);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o).trim(), "AKIAWARDTEST s3cr3t");
    let o = boto(&elsewhere);
    assert!(
        !o.status.success() && !out(&o).contains("s3cr3t"),
        "{}",
        out(&o)
    );
    assert!(err(&o).contains("staging"), "{}", err(&o));

    // Docker: the helper protocol, found by its name.
    let link = h.join("docker-credential-ward");
    std::os::unix::fs::symlink(WARD, &link).unwrap();
    let docker = |url: &str, task: &str| {
        let mut child = Command::new(&link)
            .arg("get")
            .envs(env(task))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), url.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let o = docker("https://registry.example.com/v2/", &token);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        json(&o),
        json!({"ServerURL": "https://registry.example.com/v2/", "Username": "robot", "Secret": "dckr_not_real"})
    );
    let o = docker("ghcr.io", &token);
    assert!(
        !o.status.success() && err(&o).contains("nothing is configured for docker `ghcr.io`"),
        "{}",
        err(&o)
    );

    // kubectl runs the exec plugin before it connects (to nowhere here): the log shows whether
    // it got a credential, and a refusal stops it before any connection.
    let kubeconfig = h.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: dev\n  cluster:\n    server: https://127.0.0.1:9\n    insecure-skip-tls-verify: true\ncontexts:\n- name: dev\n  context:\n    cluster: dev\n    user: ward\ncurrent-context: dev\nusers:\n- name: ward\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {WARD}\n      args: [credential, kubectl, --cluster, dev]\n      interactiveMode: Never\n"
        ),
    )
    .unwrap();
    let kubectl = |task: &str| {
        Command::new("kubectl")
            .args([
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
                "get",
                "namespaces",
                "--request-timeout=5s",
            ])
            .envs(env(task))
            .output()
            .expect("kubectl")
    };
    let o = kubectl(&token);
    assert!(!o.status.success());
    assert!(
        !err(&o).contains("exec plugin"),
        "the plugin's answer was accepted: {}",
        err(&o)
    );
    let o = kubectl(&elsewhere);
    assert!(
        err(&o).contains("exec plugin") || err(&o).contains("getting credentials"),
        "{}",
        err(&o)
    );
    let log = out(&succeeds(h, &["audit", "export"]));
    for line in [
        "issue secret kubectl:dev",
        "refuse secret kubectl:dev",
        "issue secret aws:ci",
        "refuse secret aws:ci",
        "issue secret docker:registry.example.com",
    ] {
        assert!(log.contains(line), "{line}");
    }
}

/// Claude Code's SessionStart and SessionEnd payloads (integrations.md §1.3).
fn claude_session(event: &str, session: &str, cwd: &str) -> Vec<u8> {
    let mut v = json!({"session_id": session, "transcript_path": "/tmp/t.jsonl", "cwd": cwd,
        "hook_event_name": event});
    if event == "SessionStart" {
        v["source"] = "startup".into();
    } else {
        v["reason"] = "prompt_input_exit".into();
    }
    v.to_string().into_bytes()
}

/// The (first) decision event of a session, as the log holds it.
fn decision_of(h: &Path, session: &str) -> Value {
    let events = out(&succeeds(h, &["audit", "export", "--format", "jsonl"]));
    events
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["unmapped"].clone())
        .find(|e| e["kind"] == "decision" && e["session_id"] == session)
        .unwrap_or_else(|| panic!("no decision in session {session}"))
}

#[test]
fn a_claude_code_session_is_a_task_from_start_to_end() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("api");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::write(
        repo.join(".git/config"),
        "[remote \"origin\"]\n\turl = git@github.com:acme/api.git\n",
    )
    .unwrap();
    let cwd = repo.to_str().unwrap();
    let env_file = h.join("claude-env.sh");
    let env = [
        ("CLAUDE_ENV_FILE", env_file.to_str().unwrap()),
        ("GITHUB_TOKEN", "ghp_standing_value"),
        ("DATABASE_URL", "postgres://app:hunter2@db/app"),
    ];
    // First use enrolls the home owner's assistant (active) and opens the session's task.
    let o = ward_in(
        h,
        &["hook", "claude-code"],
        &claude_session("SessionStart", "sess-1", cwd),
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let exported = std::fs::read_to_string(&env_file).unwrap();
    let task = exported
        .trim()
        .strip_prefix("export WARD_TASK=")
        .unwrap()
        .to_string();
    let t = json(&succeeds(h, &["task", "show", &task, "--json"]));
    assert_eq!(t["state"], "live", "{t}");
    assert_eq!(t["repo"], "acme/api", "{t}");
    assert_eq!(t["session_id"], "sess-1");
    assert!(
        t["actors"][1]
            .as_str()
            .unwrap()
            .starts_with("assistant:ward-ast-"),
        "{t}"
    );
    // Its calls carry the task and the actor chain; the shell's helpers find the task.
    let o = ward_in(
        h,
        &["hook", "claude-code"],
        &claude_bash("git status", cwd, "tu-1"),
        &[],
    );
    assert!(!claude_blocks(&o));
    let decision = decision_of(h, "s-test");
    assert_eq!(
        decision["task"],
        Value::Null,
        "another session has no task: {decision}"
    );
    let payload = json!({"session_id": "sess-1", "transcript_path": "/tmp/t.jsonl", "cwd": cwd,
        "permission_mode": "default", "hook_event_name": "PreToolUse", "tool_name": "Bash",
        "tool_input": {"command": "git status"}, "tool_use_id": "tu-2"});
    let o = ward_in(
        h,
        &["hook", "claude-code"],
        payload.to_string().as_bytes(),
        &[],
    );
    assert!(!claude_blocks(&o));
    let decision = decision_of(h, "sess-1");
    assert_eq!(decision["task"]["id"], task.as_str(), "{decision}");
    assert_eq!(decision["task"]["actors"], t["actors"], "{decision}");
    // A sub-agent's calls get a child task of their own: the session's scopes, the chain
    // extended by the agent; ending the session ends it too.
    let sub = json!({"session_id": "sess-1", "transcript_path": "/tmp/t.jsonl", "cwd": cwd,
        "permission_mode": "default", "hook_event_name": "PreToolUse", "tool_name": "Bash",
        "tool_input": {"command": "ls"}, "tool_use_id": "tu-3", "agent_id": "a-7",
        "agent_type": "Explore"});
    let o = ward_in(h, &["hook", "claude-code"], sub.to_string().as_bytes(), &[]);
    assert!(!claude_blocks(&o), "{}", out(&o));
    let events = out(&succeeds(h, &["audit", "export"]));
    let child_ref: Value = events
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["unmapped"].clone())
        .find(|e| e["tool_use_id"] == "tu-3")
        .unwrap()["task"]
        .clone();
    let child = child_ref["id"].as_str().unwrap().to_string();
    assert_ne!(child, task);
    let mut chain = t["actors"].as_array().unwrap().clone();
    chain.push(json!("agent:a-7"));
    assert_eq!(child_ref["actors"], json!(chain), "{child_ref}");
    let c = json(&succeeds(h, &["task", "show", &child, "--json"]));
    assert_eq!(
        (c["parent"].as_str(), c["scopes"].clone()),
        (Some(task.as_str()), t["scopes"].clone()),
        "{c}"
    );
    // The client's environment held standing secrets: reported by name, never by value.
    let o = succeeds(h, &["report", "standing", "--json"]);
    assert!(!out(&o).contains("ghp_standing_value") && !out(&o).contains("hunter2"));
    let r = json(&o);
    let vars = r["environment"][0]["variables"].as_array().unwrap();
    for name in ["DATABASE_URL", "GITHUB_TOKEN"] {
        assert!(vars.iter().any(|v| v == name), "{name}: {r}");
    }
    assert!(!vars.iter().any(|v| v == "CLAUDE_ENV_FILE"), "{r}");
    // SessionEnd ends it.
    let o = ward_in(
        h,
        &["hook", "claude-code"],
        &claude_session("SessionEnd", "sess-1", cwd),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let t = json(&succeeds(h, &["task", "show", &task, "--json"]));
    assert_eq!(
        (t["state"].as_str(), t["end_reason"].as_str()),
        (Some("ended"), Some("session ended")),
        "{t}"
    );
    let o = ward_in(h, &["token", "introspect", &task, "--json"], b"", &[]);
    assert_eq!(json(&o)["active"], false);
    let c = json(&succeeds(h, &["task", "show", &child, "--json"]));
    assert_eq!(c["state"], "ended", "{c}");
    succeeds(h, &["audit", "verify"]);
}

#[test]
fn credentials_are_decided_by_the_policy_pack() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    succeeds(h, &["user", "add", "alice", "--role", "admin"]);
    let id = registered(h, "bot", &["--kind", "ci", "--repo", "acme/*"]);
    let o = ward_in(h, &["secret", "put", "gh"], b"ghp_policy_test", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    std::fs::write(
        h.join("ward.toml"),
        "token_audiences = [\"mcp:*\"]\n[credentials.git.\"github.com\"]\nsecret = \"gh\"\nrepos = [\"acme/*\"]\n",
    )
    .unwrap();
    // The home's pack, plus a team's own rules about credentials.
    std::fs::write(
        h.join("policies/zz-credentials.cedar"),
        r#"@id("payments-stay-human")
@reason("the payments repository is pushed by people only")
forbid (principal, action == Action::"credential", resource == Target::"git:github.com/acme/payments");

@id("no-payments-mcp-for-bots")
@reason("bots get no token for the payments MCP server")
forbid (principal, action == Action::"credential", resource)
  when { context has credential && context.credential.provider == "token" && context.credential.name == "mcp:payments" && context.client == "ci" };
"#,
    )
    .unwrap();
    succeeds(h, &["policy", "check"]);
    let (_, api) = start(h, &["--assistant", &id, "--repo", "acme/api"]);
    let (_, payments) = start(h, &["--assistant", &id, "--repo", "acme/payments"]);
    let fill = |task: &str, repo: &str| {
        let input = format!("protocol=https\nhost=github.com\npath={repo}.git\n\n");
        ward_in(
            h,
            &["credential", "git", "get"],
            input.as_bytes(),
            &[("WARD_TASK", task)],
        )
    };
    let o = fill(&api, "acme/api");
    assert!(out(&o).contains("password=ghp_policy_test"), "{}", err(&o));
    let o = fill(&payments, "acme/payments");
    assert!(!out(&o).contains("password="), "{}", out(&o));
    assert!(err(&o).contains("payments-stay-human"), "{}", err(&o));
    // The exchange asks the same pack.
    let x = |aud: &str| {
        ward_in(
            h,
            &[
                "token",
                "exchange",
                "--subject-token",
                &api,
                "--audience",
                aud,
                "--json",
            ],
            b"",
            &[],
        )
    };
    assert_eq!(x("mcp:github").status.code(), Some(0));
    let o = x("mcp:payments");
    assert!(
        err(&o).contains("unauthorized_client") && err(&o).contains("no-payments-mcp-for-bots"),
        "{}",
        err(&o)
    );
}

#[test]
fn sshd_accepts_a_ward_certificate_and_nothing_else() {
    let sshd = Path::new("/usr/sbin/sshd");
    assert!(
        sshd.exists(),
        "sshd is missing: install openssh-server (scripts/test.sh does)"
    );
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let me = ward_server::ident::os_user();
    succeeds(h, &["user", "add", "alice", "--role", "admin"]);
    std::fs::write(
        h.join("ward.toml"),
        format!("[providers.here]\nkind = \"ssh\"\nprincipals = [\"{me}\"]\nttl = \"2m\"\n"),
    )
    .unwrap();
    let id = registered(h, "ops", &["--kind", "ci"]);
    let key = |name: &str| {
        let p = h.join(name);
        let o = ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-f", p.to_str().unwrap()]);
        assert!(o.status.success(), "{}", err(&o));
        p
    };
    let (host_key, user_key) = (key("host_key"), key("id_ed25519"));
    std::fs::write(
        h.join("ca.pub"),
        out(&succeeds(h, &["credential", "ssh-ca"])),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = h.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nTrustedUserCAKeys {}\nAuthorizedKeysFile none\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\n",
            host_key.display(),
            h.join("sshd.pid").display(),
            h.join("ca.pub").display()
        ),
    )
    .unwrap();
    let _ = std::fs::create_dir_all("/run/sshd");
    let mut server = Command::new(sshd)
        .args(["-D", "-e", "-f", config.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sshd");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let login = |cert: Option<&Path>| {
        let mut args = vec![
            "-F".to_string(),
            "/dev/null".into(),
            "-i".into(),
            user_key.display().to_string(),
            "-o".into(),
            "IdentitiesOnly=yes".into(),
            "-o".into(),
            "BatchMode=yes".into(),
            "-o".into(),
            "StrictHostKeyChecking=no".into(),
            "-o".into(),
            "UserKnownHostsFile=/dev/null".into(),
            "-p".into(),
            port.to_string(),
        ];
        if let Some(c) = cert {
            args.push("-o".into());
            args.push(format!("CertificateFile={}", c.display()));
        }
        args.push(format!("{me}@127.0.0.1"));
        args.push("echo".into());
        args.push("ward-ok".into());
        Command::new("ssh").args(&args).output().expect("ssh")
    };
    // No certificate: no way in.
    let o = login(None);
    assert!(!out(&o).contains("ward-ok"), "{}", out(&o));
    // A ward certificate for a live task: in.
    let (task, _) = start(h, &["--assistant", &id, "--repo", "acme/ops"]);
    let cert = h.join("id_ed25519-cert.pub");
    succeeds(
        h,
        &[
            "credential",
            "ssh",
            "here",
            "--public-key",
            h.join("id_ed25519.pub").to_str().unwrap(),
            "--task",
            &task,
            "--out",
            cert.to_str().unwrap(),
        ],
    );
    let o = login(Some(&cert));
    let _ = server.kill();
    let logs = server
        .wait_with_output()
        .map(|o| err(&o))
        .unwrap_or_default();
    assert!(
        out(&o).contains("ward-ok"),
        "ssh: {}\nsshd: {logs}",
        err(&o)
    );
    assert!(
        logs.contains(&task),
        "sshd logs the key id with the task: {logs}"
    );
}

#[test]
fn a_codex_session_and_its_sub_agent_are_tasks_too() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path().to_str().unwrap();
    // Codex's own SessionStart and PreToolUse shapes (realclient samples), in a sub-agent the
    // second time (`agent_id`, `agent_type`).
    let start = json!({"session_id": "cx-1", "transcript_path": "/tmp/r.jsonl", "cwd": cwd,
        "hook_event_name": "SessionStart", "model": "gpt-5.5", "permission_mode": "default",
        "source": "startup"});
    let o = ward_in(h, &["hook", "codex"], start.to_string().as_bytes(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let call = |id: &str, agent: Option<&str>| {
        let mut v = json!({"session_id": "cx-1", "turn_id": "t-1", "transcript_path": "/tmp/r.jsonl",
            "cwd": cwd, "hook_event_name": "PreToolUse", "model": "gpt-5.5",
            "permission_mode": "default", "tool_name": "Bash",
            "tool_input": {"command": "ls"}, "tool_use_id": id});
        if let Some(a) = agent {
            v["agent_id"] = a.into();
            v["agent_type"] = "worker".into();
        }
        let o = ward_in(h, &["hook", "codex"], v.to_string().as_bytes(), &[]);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    };
    call("c-1", None);
    call("c-2", Some("sub-1"));
    let events = out(&succeeds(h, &["audit", "export"]));
    let task_of = |id: &str| {
        events
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["unmapped"].clone())
            .find(|e| e["tool_use_id"] == id)
            .unwrap()["task"]
            .clone()
    };
    let (main, sub) = (task_of("c-1"), task_of("c-2"));
    assert!(
        main["id"].as_str().unwrap().starts_with("ward-task-"),
        "{main}"
    );
    assert_ne!(main["id"], sub["id"]);
    let chain = sub["actors"].as_array().unwrap();
    assert_eq!(chain.last().unwrap(), "agent:sub-1", "{sub}");
    assert!(
        chain[1].as_str().unwrap().starts_with("assistant:"),
        "{sub}"
    );
}

#[test]
fn tasks_secrets_and_tokens_live_in_a_postgres_store_too() {
    let pg = ward_store::testdb::FreshPg::create().unwrap_or_else(|e| panic!("{e}"));
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    std::fs::write(
        h.join("ward.toml"),
        format!(
            "database_url = \"{}\"\n[credentials.git.\"github.com\"]\nsecret = \"gh\"\nrepos = [\"acme/*\"]\n",
            pg.url
        ),
    )
    .unwrap();
    succeeds(h, &["user", "add", "alice", "--role", "admin"]);
    let id = registered(h, "bot", &["--kind", "ci"]);
    let o = ward_in(h, &["secret", "put", "gh"], b"ghp_on_postgres", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let (task, token) = start(h, &["--assistant", &id, "--repo", "acme/api"]);
    assert_eq!(introspect(h, &token)["active"], true);
    let o = ward_in(
        h,
        &["credential", "git", "get"],
        b"protocol=https\nhost=github.com\npath=acme/api.git\n\n",
        &[("WARD_TASK", &token)],
    );
    assert!(out(&o).contains("password=ghp_on_postgres"), "{}", err(&o));
    // The task, its leases and the sealed secret are in the Postgres database itself.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (stored, leases, sealed) = rt.block_on(async {
        let target = ward_store::Target::parse(&pg.url).unwrap();
        let mut c = ward_store::Conn::open(&target).await.unwrap();
        (
            ward_store::tasks::get_task(c.r(), &task).await.unwrap(),
            ward_store::tasks::leases_of(c.r(), &task).await.unwrap(),
            ward_store::tasks::sealed_secret(c.r(), "gh").await.unwrap(),
        )
    });
    assert_eq!(stored.map(|t| t.repo).as_deref(), Some("acme/api"));
    assert_eq!(
        leases.len(),
        2,
        "the token and the released secret: {leases:?}"
    );
    assert!(sealed.is_some_and(|s| !s.contains("ghp_on_postgres")));
    succeeds(h, &["task", "end", &task]);
    assert_eq!(introspect(h, &token)["active"], false);
    succeeds(h, &["audit", "verify"]);
}
