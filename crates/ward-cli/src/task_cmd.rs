//! `ward task`, `ward token`, `ward lease`, `ward secret` and `ward credential`: tasks and the
//! credentials issued inside them, administered by the owner of `$WARD_HOME` against its store
//! (as `ward assistant` is), and the credential helpers tools call just in time.

use crate::output::cell;
use crate::people_cmd::with_store;
use base64::Engine as _;
use serde_json::{Value, json};
use std::io::Read as _;
use ward_core::{ErrorCode, WardError};
use ward_server::config::Settings;
use ward_server::home::Home;
use ward_server::tasks::{self, Ended, StartTask};

/// The policy engines of the home's pack, for credential decisions.
fn engines(
    home: &Home,
) -> impl Fn(&'static str) -> Result<std::sync::Arc<ward_policy::Engine>, WardError> + Sync + '_ {
    move |action| home.engine(action).map(std::sync::Arc::new)
}

fn ctx<'a>(
    signer: &'a ward_audit::NoteSigner,
    key: &'a ward_broker::jwt::TokenKey,
    engines: ward_server::credentials::Engines<'a>,
    settings: &'a Settings,
) -> ward_server::credentials::Ctx<'a> {
    ward_server::credentials::Ctx {
        signer,
        key,
        engines,
        broker: &settings.broker,
        approval_ttl_ms: u64::try_from(settings.approval_ttl.as_millis()).unwrap_or(u64::MAX),
    }
}

fn settings(home: &Home) -> Result<Settings, WardError> {
    ward_server::serve::settings(home, &ward_server::config::Flags::default())
}

/// The requester of a task started from the command line: `--requester`, else the OS user
/// mapped through `[requesters]`.
fn requester(explicit: Option<String>, s: &Settings) -> String {
    explicit.unwrap_or_else(|| {
        let me = ward_server::ident::os_user();
        s.requesters.get(&me).cloned().unwrap_or(me)
    })
}

pub fn start(
    req: StartTask,
    requester_flag: Option<String>,
    json_out: bool,
) -> Result<i32, WardError> {
    let home = Home::resolve()?;
    let s = settings(&home)?;
    let who = requester(requester_flag, &s);
    let started = with_store(async |c| {
        let (signer, key) = (home.signer()?, home.token_key()?);
        tasks::start(c.r(), &signer, &key, &req, &who).await
    })?;
    if json_out {
        println!(
            "{}",
            json!({
                "id": started.task.id,
                "token": started.token,
                "expires": ward_core::event::rfc3339_ms(started.task.expires_ms),
                "token_expires": ward_core::event::rfc3339_ms(started.lease.expires_ms),
                "scopes": started.task.scopes,
            })
        );
    } else {
        println!(
            "task {} for `{}` in {} until {}; scopes {}",
            started.task.id,
            started.task.assistant,
            started.task.repo,
            ward_core::event::rfc3339_ms(started.task.expires_ms),
            started.task.scopes.join(" ")
        );
        println!("export WARD_TASK={}", started.token);
    }
    Ok(0)
}

/// End every task of an assistant on `c` (it was suspended or retired).
pub async fn end_of_assistant(
    c: &mut ward_store::Conn,
    assistant: &str,
    reason: &str,
) -> Result<Ended, WardError> {
    let home = Home::resolve()?;
    let s = settings(&home)?;
    tasks::end_of_assistant(c.r(), &home.signer()?, assistant, reason, &s.broker).await
}

/// Tell what ending tasks did, and what could not be revoked outside ward.
pub fn print_ended(e: &Ended) {
    for t in &e.tasks {
        println!("task {t} ended");
    }
    for (l, r) in &e.leases {
        match r {
            Ok(()) => println!("  revoked {} {} ({})", l.kind, l.resource, l.id),
            Err(why) => eprintln!(
                "  NOT revoked outside ward: {} {} ({}): {why}",
                l.kind, l.resource, l.id
            ),
        }
    }
}

pub fn end(id: &str, json_out: bool) -> Result<i32, WardError> {
    let home = Home::resolve()?;
    let s = settings(&home)?;
    let ended = with_store(async |c| {
        tasks::end(c.r(), &home.signer()?, id, "ended by command", &s.broker).await
    })?;
    let failed = ended.leases.iter().any(|(_, r)| r.is_err());
    if json_out {
        println!(
            "{}",
            json!({
                "ended": ended.tasks,
                "revoked": ended.revoked_json(),
            })
        );
    } else {
        print_ended(&ended);
    }
    Ok(if failed { 1 } else { 0 })
}

pub fn list(all: bool, json_out: bool) -> Result<i32, WardError> {
    let home = Home::resolve()?;
    let s = settings(&home)?;
    let list = with_store(async |c| {
        // Expired tasks end here too, so what lives outside ward goes with them.
        tasks::sweep(c.r(), &home.signer()?, &s.broker).await?;
        ward_store::tasks::list_tasks(c.r(), !all)
            .await
            .map_err(ward_store::read_err)
    })?;
    let now = ward_server::service::now_ms();
    if json_out {
        let v: Vec<Value> = list.iter().map(|t| tasks::to_json(t, now)).collect();
        println!("{}", json!({ "tasks": v }));
    } else if list.is_empty() {
        println!("no live tasks; start one with `ward task start --assistant ID --repo R`");
    } else {
        println!(
            "{} {} {} {} {} EXPIRES",
            cell("ID", 34),
            cell("STATE", 8),
            cell("ASSISTANT", 34),
            cell("REQUESTER", 12),
            cell("REPO", 24)
        );
        for t in &list {
            println!(
                "{} {} {} {} {} {}",
                cell(&t.id, 34),
                cell(t.state(now).as_str(), 8),
                cell(&t.assistant, 34),
                cell(&t.requester, 12),
                cell(&t.repo, 24),
                ward_core::event::rfc3339_ms(t.expires_ms)
            );
        }
    }
    Ok(0)
}

pub fn show(id: &str, json_out: bool) -> Result<i32, WardError> {
    let (t, leases) = with_store(async |c| tasks::get_with_leases(c.r(), id).await)?;
    let now = ward_server::service::now_ms();
    let v = tasks::to_json_with_leases(&t, &leases, now);
    if json_out {
        println!("{v}");
    } else {
        println!("task        {} ({})", t.id, t.state(now).as_str());
        if let Some(p) = &t.parent {
            println!("parent      {p}");
        }
        println!("requester   {}", t.requester);
        println!("assistant   {}", t.assistant);
        println!("actors      {}", t.actors.join(" → "));
        println!("repo        {}", t.repo);
        println!("env         {}", t.env.as_deref().unwrap_or("-"));
        println!("scopes      {}", t.scopes.join(" "));
        println!("expires     {}", ward_core::event::rfc3339_ms(t.expires_ms));
        if let Some(e) = t.ended_ms {
            println!(
                "ended       {} ({})",
                ward_core::event::rfc3339_ms(e),
                t.end_reason.as_deref().unwrap_or("")
            );
        }
        for l in &leases {
            println!(
                "lease       {} {} {} {}",
                l.id,
                l.kind,
                l.resource,
                if l.live(now) { "live" } else { "dead" }
            );
        }
    }
    Ok(0)
}

pub fn introspect(token: &str, json_out: bool) -> Result<i32, WardError> {
    let token = if token == "-" {
        read_stdin(16 * 1024)?
    } else {
        token.to_string()
    };
    let home = Home::resolve()?;
    let answer = with_store(async |c| {
        tasks::check_token(
            c.r(),
            &home.token_key()?,
            home.signer()?.name(),
            &token,
            None,
        )
        .await
    })?;
    let v = match &answer {
        Ok(a) => tasks::introspection(a),
        Err(_) => json!({ "active": false }),
    };
    if json_out {
        println!("{v}");
    } else {
        match &answer {
            Ok(a) => println!(
                "active: task {} for {} by {}, scopes {}, expires {}",
                a.task.id,
                a.task.requester,
                a.assistant.id,
                a.claims.scope.join(" "),
                ward_core::event::rfc3339_ms(a.claims.exp * 1000)
            ),
            Err(_) => println!("inactive"),
        }
    }
    // RFC 7662 says nothing more about an inactive token; the person asking learns why.
    if let Err(why) = &answer {
        eprintln!("ward: inactive: {why}");
    }
    Ok(0)
}

pub fn jwks() -> Result<i32, WardError> {
    let key = Home::resolve()?.token_key()?;
    println!("{}", ward_broker::jwt::jwks(&[key.verifying_key()]));
    Ok(0)
}

pub fn exchange(
    subject: Option<String>,
    actor: Option<String>,
    audience: &str,
    scopes: &[String],
    json_out: bool,
) -> Result<i32, WardError> {
    let subject = match subject.as_deref() {
        Some("-") => read_stdin(16 * 1024)?,
        Some(t) => t.to_string(),
        None => std::env::var("WARD_TASK").unwrap_or_default(),
    };
    let home = Home::resolve()?;
    let s = settings(&home)?;
    let x = tasks::Exchange {
        grant_type: tasks::GRANT_TOKEN_EXCHANGE.into(),
        subject_token: subject,
        subject_token_type: tasks::TOKEN_TYPE_JWT.into(),
        actor_token_type: actor.as_ref().map(|_| tasks::TOKEN_TYPE_JWT.to_string()),
        actor_token: actor,
        audience: audience.to_string(),
        scope: scopes.join(" "),
        requested_token_type: None,
    };
    let answer = with_store(async |c| {
        tasks::exchange(
            c.r(),
            &home.signer()?,
            &home.token_key()?,
            &engines(&home),
            &s.token_audiences,
            &x,
        )
        .await
    })?;
    match answer {
        Ok(t) if json_out => println!("{}", tasks::exchange_json(&t)),
        Ok(t) => println!("{}", t.token),
        Err(r) => {
            return Err(WardError::new(
                ErrorCode::CredentialDenied,
                format!("{}: {}", r.error, r.description),
            ));
        }
    }
    Ok(0)
}

pub fn lease_list(all: bool, json_out: bool) -> Result<i32, WardError> {
    let home = Home::resolve()?;
    let s = settings(&home)?;
    let leases = with_store(async |c| {
        tasks::sweep(c.r(), &home.signer()?, &s.broker).await?;
        if all {
            ward_store::tasks::all_leases(c.r()).await
        } else {
            ward_store::tasks::unrevoked_leases(c.r(), &[]).await
        }
        .map_err(ward_store::read_err)
    })?;
    let now = ward_server::service::now_ms();
    let shown: Vec<_> = leases.iter().filter(|l| all || l.live(now)).collect();
    if json_out {
        let v: Vec<Value> = shown.iter().map(|l| tasks::lease_json(l, now)).collect();
        println!("{}", json!({ "leases": v }));
    } else if shown.is_empty() {
        println!("no live leases");
    } else {
        println!(
            "{} {} {} {} EXPIRES",
            cell("LEASE", 35),
            cell("TASK", 34),
            cell("KIND", 9),
            cell("RESOURCE", 32)
        );
        for l in shown {
            println!(
                "{} {} {} {} {}",
                cell(&l.id, 35),
                cell(&l.task, 34),
                cell(&l.kind, 9),
                cell(&l.resource, 32),
                ward_core::event::rfc3339_ms(l.expires_ms)
            );
        }
    }
    Ok(0)
}

fn read_stdin(max: usize) -> Result<String, WardError> {
    let mut buf = Vec::new();
    std::io::stdin()
        .take(max as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| WardError::new(ErrorCode::Io, format!("cannot read stdin: {e}")))?;
    if buf.len() > max {
        return Err(WardError::new(
            ErrorCode::BadInput,
            format!("stdin is over {max} bytes"),
        ));
    }
    String::from_utf8(buf)
        .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
        .map_err(|_| WardError::new(ErrorCode::BadInput, "stdin is not UTF-8"))
}

fn check_secret_name(name: &str) -> Result<(), WardError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if ok {
        Ok(())
    } else {
        Err(WardError::new(
            ErrorCode::BadInput,
            format!("`{name}` is not a secret name; use letters, digits, `-`, `_`, `.` and `/`"),
        ))
    }
}

pub fn secret_put(name: &str) -> Result<i32, WardError> {
    check_secret_name(name)?;
    let value = read_stdin(64 * 1024)?;
    if value.is_empty() {
        return Err(WardError::new(
            ErrorCode::BadInput,
            "no secret on stdin; pipe it in: `ward secret put NAME < file`",
        ));
    }
    let home = Home::resolve()?;
    let by = format!("os:{}", ward_server::ident::os_user());
    with_store(async |c| {
        let sealed = home
            .seal_key()?
            .seal(name, value.as_bytes())
            .map_err(|e| WardError::new(ErrorCode::Io, format!("cannot seal the secret: {e}")))?;
        let text = base64::engine::general_purpose::STANDARD.encode(sealed);
        ward_store::tasks::put_secret(c.r(), name, &text, ward_server::service::now_ms(), &by)
            .await
            .map_err(ward_store::append_err)
    })?;
    println!(
        "stored secret `{name}` (sealed with {})",
        home.seal_key_path().display()
    );
    Ok(0)
}

pub fn secret_list(json_out: bool) -> Result<i32, WardError> {
    let list = with_store(async |c| {
        ward_store::tasks::list_secrets(c.r())
            .await
            .map_err(ward_store::read_err)
    })?;
    if json_out {
        let v: Vec<Value> = list
            .iter()
            .map(|s| json!({"name": s.name, "created": ward_core::event::rfc3339_ms(s.created_ms), "created_by": s.created_by}))
            .collect();
        println!("{}", json!({ "secrets": v }));
    } else if list.is_empty() {
        println!("no secrets; store one with `ward secret put NAME < file`");
    } else {
        for s in &list {
            println!(
                "{} {} {}",
                cell(&s.name, 32),
                ward_core::event::rfc3339_ms(s.created_ms),
                s.created_by
            );
        }
    }
    Ok(0)
}

pub fn secret_rm(name: &str) -> Result<i32, WardError> {
    let removed = with_store(async |c| {
        ward_store::tasks::rm_secret(c.r(), name)
            .await
            .map_err(ward_store::append_err)
    })?;
    if !removed {
        return Err(WardError::new(
            ErrorCode::NotFound,
            format!("no secret `{name}`; `ward secret list` shows them"),
        ));
    }
    println!("removed secret `{name}`");
    Ok(0)
}

/// `ward credential git [get|store|erase]`: git's credential-helper protocol. Only `get`
/// answers; a refusal prints `quit=1` (git asks no other helper and no prompt) and the reason on
/// stderr.
pub fn credential_git(op: &str) -> Result<i32, WardError> {
    let input = read_stdin(64 * 1024)?;
    if op != "get" {
        // ward is the source of truth: nothing to store or erase.
        return Ok(0);
    }
    let req = ward_server::credentials::parse_git_request(&input)
        .map_err(|e| WardError::new(ErrorCode::BadInput, e))?;
    let reference = std::env::var("WARD_TASK").unwrap_or_default();
    let home = Home::resolve()?;
    let s = settings(&home)?;
    let answer = with_store(async |c| {
        let (signer, key) = (home.signer()?, home.token_key()?);
        ward_server::credentials::git_get(
            c.r(),
            ctx(&signer, &key, &engines(&home), &s),
            &home.seal_key()?,
            &reference,
            &req,
        )
        .await
    });
    match answer {
        Ok((user, password)) => {
            println!("username={user}\npassword={password}");
            Ok(0)
        }
        Err(e) => {
            println!("quit=1");
            Err(e)
        }
    }
}

pub fn credential_postgres(
    name: &str,
    task: Option<String>,
    json_out: bool,
) -> Result<i32, WardError> {
    let reference = task
        .or_else(|| std::env::var("WARD_TASK").ok())
        .unwrap_or_default();
    let home = Home::resolve()?;
    let s = settings(&home)?;
    let cred = with_store(async |c| {
        let (signer, key) = (home.signer()?, home.token_key()?);
        ward_server::credentials::postgres(
            c.r(),
            ctx(&signer, &key, &engines(&home), &s),
            name,
            &reference,
        )
        .await
    })?;
    let expires = ward_core::event::rfc3339_ms(cred.expires_ms);
    if json_out {
        println!(
            "{}",
            json!({"username": cred.username, "password": cred.password, "url": cred.url, "expires_at": expires, "lease_id": cred.lease_id})
        );
    } else {
        println!("{}", cred.url);
        eprintln!(
            "role {} until {expires} (lease {})",
            cred.username, cred.lease_id
        );
    }
    Ok(0)
}

pub fn credential_ssh(
    name: &str,
    public_key: &std::path::Path,
    task: Option<String>,
    out: Option<&std::path::Path>,
    json_out: bool,
) -> Result<i32, WardError> {
    let key_text = std::fs::read_to_string(public_key).map_err(|e| {
        WardError::new(
            ErrorCode::Io,
            format!("cannot read `{}`: {e}", public_key.display()),
        )
    })?;
    let reference = task
        .or_else(|| std::env::var("WARD_TASK").ok())
        .unwrap_or_default();
    let home = Home::resolve()?;
    let s = settings(&home)?;
    let cred = with_store(async |c| {
        let (signer, key) = (home.signer()?, home.token_key()?);
        ward_server::credentials::ssh(
            c.r(),
            ctx(&signer, &key, &engines(&home), &s),
            &home.ssh_ca()?,
            name,
            &reference,
            &key_text,
        )
        .await
    })?;
    let valid_before = ward_core::event::rfc3339_ms(cred.valid_before_ms);
    if let Some(path) = out {
        std::fs::write(path, format!("{}\n", cred.certificate)).map_err(|e| {
            WardError::new(
                ErrorCode::Io,
                format!("cannot write `{}`: {e}", path.display()),
            )
        })?;
    }
    if json_out {
        println!(
            "{}",
            json!({"certificate": cred.certificate, "principals": cred.principals, "serial": cred.serial, "valid_before": valid_before, "lease_id": cred.lease_id})
        );
    } else if out.is_none() {
        println!("{}", cred.certificate);
    } else {
        eprintln!(
            "certificate for {} until {valid_before} (lease {})",
            cred.principals.join(","),
            cred.lease_id
        );
    }
    Ok(0)
}

pub fn ssh_ca() -> Result<i32, WardError> {
    let ca = Home::resolve()?.ssh_ca()?;
    let line = ca
        .public_openssh()
        .map_err(|e| WardError::new(ErrorCode::Io, format!("cannot encode the CA key: {e}")))?;
    println!("{line}");
    Ok(0)
}

/// Release a static secret to a tool for the task in `WARD_TASK`, or refuse.
fn released(
    kind: &str,
    name: &str,
) -> Result<(ward_server::credentials::Release, String, u64), WardError> {
    let reference = std::env::var("WARD_TASK").unwrap_or_default();
    let home = Home::resolve()?;
    let s = settings(&home)?;
    with_store(async |c| {
        let (signer, key) = (home.signer()?, home.token_key()?);
        ward_server::credentials::release(
            c.r(),
            ctx(&signer, &key, &engines(&home), &s),
            &home.seal_key()?,
            kind,
            name,
            &reference,
        )
        .await
    })
}

/// `ward credential aws --profile P` (AWS `credential_process`) and `ward credential kubectl
/// --cluster C` (an exec credential plugin): the protocol's JSON on stdout, or an error and a
/// non-zero exit, which both tools treat as "no credentials".
pub fn credential_tool(kind: &str, name: &str) -> Result<i32, WardError> {
    let (_, secret, expires_ms) = released(kind, name)?;
    let v = match kind {
        "aws" => ward_server::credentials::aws_process_output(&secret, expires_ms)
            .map_err(|e| WardError::new(ErrorCode::CredentialDenied, e))?,
        _ => ward_server::credentials::kube_exec_credential(&secret, expires_ms),
    };
    println!("{v}");
    Ok(0)
}

/// The Docker credential-helper protocol: `get` reads the server URL on stdin and answers
/// `{"ServerURL", "Username", "Secret"}`; `store`, `erase` and `list` change and show nothing.
pub fn credential_docker(op: &str) -> Result<i32, WardError> {
    let input = read_stdin(4096)?;
    match op {
        "get" => {
            let registry = ward_server::credentials::docker_registry(&input);
            let (r, secret, _) = released("docker", &registry)?;
            println!(
                "{}",
                json!({"ServerURL": input.trim(), "Username": r.username, "Secret": secret})
            );
            Ok(0)
        }
        "list" => {
            println!("{{}}");
            Ok(0)
        }
        "store" | "erase" => Ok(0),
        other => Err(WardError::new(
            ErrorCode::BadInput,
            format!(
                "`{other}` is not a credential-helper operation; docker sends get, store, erase or list"
            ),
        )),
    }
}

/// A JSON list of strings as `a, b, c`.
fn joined(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// `ward report standing`: what an assistant can reach that outlives a task. Static secrets
/// (sealed in ward, each with what releases it and its live leases) and the secret-looking
/// variables each assistant's client environment held at its last SessionStart (names only).
pub fn report_standing(json_out: bool) -> Result<i32, WardError> {
    let home = Home::resolve()?;
    let s = settings(&home)?;
    let (secrets, leases, seen, assistants) = with_store(async |c| {
        let r = ward_store::read_err;
        Ok((
            ward_store::tasks::list_secrets(c.r()).await.map_err(r)?,
            ward_store::tasks::unrevoked_leases(c.r(), &[])
                .await
                .map_err(r)?,
            ward_store::tasks::exposures(c.r()).await.map_err(r)?,
            ward_store::registry::list(c.r()).await.map_err(r)?,
        ))
    })?;
    let now = ward_server::service::now_ms();
    let released_as = |name: &str| -> Vec<String> {
        s.broker
            .releases
            .iter()
            .flat_map(|(kind, m)| {
                m.iter()
                    .filter(|(_, r)| r.secret == name)
                    .map(move |(n, _)| format!("{kind}:{n}"))
            })
            .collect()
    };
    let statics: Vec<Value> = secrets
        .iter()
        .map(|x| {
            let live = leases
                .iter()
                .filter(|l| {
                    l.live(now)
                        && serde_json::from_str::<Value>(&l.detail)
                            .is_ok_and(|d| d["secret"] == x.name.as_str())
                })
                .count();
            json!({"name": x.name, "created": ward_core::event::rfc3339_ms(x.created_ms), "released_as": released_as(&x.name), "live_leases": live})
        })
        .collect();
    let mut env: Vec<Value> = Vec::new();
    for a in &assistants {
        let names: Vec<&ward_store::tasks::Exposure> =
            seen.iter().filter(|e| e.assistant == a.id).collect();
        if names.is_empty() || a.status == ward_store::registry::Status::Retired {
            continue;
        }
        let last = names.iter().map(|e| e.last_seen_ms).max().unwrap_or(0);
        env.push(json!({
            "assistant": a.id,
            "name": a.name,
            "identity": format!("{}@{}/{}", a.kind, a.host, a.os_user),
            "variables": names.iter().map(|e| &e.name).collect::<Vec<_>>(),
            "last_seen": ward_core::event::rfc3339_ms(last),
        }));
    }
    if json_out {
        println!("{}", json!({"static_secrets": statics, "environment": env}));
        return Ok(0);
    }
    if statics.is_empty() && env.is_empty() {
        println!("no standing secrets seen");
        return Ok(0);
    }
    if !statics.is_empty() {
        println!(
            "static secrets (sealed in ward, released per task; rotate them, or prefer a provider that mints per task):"
        );
        for v in &statics {
            println!(
                "  {}  released as {}  live leases {}",
                v["name"].as_str().unwrap_or(""),
                Some(joined(&v["released_as"]))
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "nothing".into()),
                v["live_leases"]
            );
        }
    }
    if !env.is_empty() {
        println!(
            "in assistants' environments (reachable without ward; move them into `ward secret put` and a helper):"
        );
        for v in &env {
            println!(
                "  {} ({}): {}  (last seen {})",
                v["name"].as_str().unwrap_or(""),
                v["identity"].as_str().unwrap_or(""),
                joined(&v["variables"]),
                v["last_seen"].as_str().unwrap_or("")
            );
        }
    }
    Ok(0)
}
