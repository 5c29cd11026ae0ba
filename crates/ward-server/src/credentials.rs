//! The broker's configuration and its credential providers: git hosts whose secret ward releases
//! through git's credential-helper protocol, and Postgres databases where ward creates a login
//! role per task and drops it when the task ends.
//!
//! ```toml
//! [credentials.git."github.com"]
//! secret = "github-token"          # a `ward secret put` name
//! repos = ["acme/*"]               # owner/name globs it may be released for
//! username = "x-access-token"      # optional
//!
//! [providers.analytics]
//! kind = "postgres"
//! admin_url = "postgres://postgres@127.0.0.1:5432/app"
//! grants = ["app_reader", "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {{name}}"]
//! envs = ["staging"]               # optional: only tasks in these environments (repos too)
//! ```

use crate::config::ConfigError;
use crate::pipeline::now_ms;
use crate::tasks::{self, task_event};
use base64::Engine as _;
use serde_json::json;
use std::collections::BTreeMap;
use ward_audit::NoteSigner;
use ward_broker::jwt::TokenKey;
use ward_broker::scope;
use ward_core::event::LeaseRef;
use ward_core::{ErrorCode, EventKind, WardError};
use ward_store::conn::ConnRef;
use ward_store::registry::{Assistant, Status};
use ward_store::tasks::{Lease, State, Task};
use ward_store::{append_err, read_err};

/// A static secret ward releases through one tool's credential protocol: a git host, an AWS
/// profile, a Docker registry, a Kubernetes cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The `ward secret put` name released.
    pub secret: String,
    /// git: `owner/name` globs it may be released for (required). Others: globs of the
    /// repositories of the tasks it serves (empty: any).
    pub repos: Vec<String>,
    /// Globs of the environments of the tasks it serves (empty: any).
    pub envs: Vec<String>,
    /// git and Docker: the user name given with the secret.
    pub username: String,
}

impl Broker {
    /// The release configured as `[credentials.KIND."NAME"]`.
    pub fn release(&self, kind: &str, name: &str) -> Option<&Release> {
        self.releases.get(kind)?.get(name)
    }
}

/// The tools ward releases static secrets to, as `[credentials.KIND."NAME"]`.
pub const RELEASE_KINDS: [&str; 4] = ["git", "aws", "docker", "kubectl"];

/// A Postgres database where ward mints task roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgProvider {
    /// A role allowed to `CREATE ROLE` (and grant what `grants` names).
    pub admin_url: String,
    /// Roles granted to the new role (a plain name), or statements run for it with `{{name}}`
    /// standing for the role.
    pub grants: Vec<String>,
    /// Repository and environment globs of the tasks it serves (empty: any).
    pub repos: Vec<String>,
    pub envs: Vec<String>,
}

/// An SSH account set that ward's CA signs user certificates for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshProvider {
    /// Principals (accounts) a certificate is valid for; `{requester}` stands for the task's
    /// requester.
    pub principals: Vec<String>,
    /// How long a certificate is valid (never past its task).
    pub ttl_ms: u64,
    pub repos: Vec<String>,
    pub envs: Vec<String>,
}

/// A certificate is valid this long unless the provider says otherwise.
pub const DEFAULT_SSH_TTL_MS: u64 = 5 * 60 * 1000;

/// What the broker is configured with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Broker {
    /// `[credentials.KIND."NAME"]` by kind (`git`, `aws`, `docker`, `kubectl`), then name (a
    /// git host, an AWS profile, a registry, a cluster).
    pub releases: BTreeMap<String, BTreeMap<String, Release>>,
    /// Postgres providers.
    pub providers: BTreeMap<String, PgProvider>,
    /// SSH providers (`kind = "ssh"`).
    pub ssh: BTreeMap<String, SshProvider>,
}

fn strings(item: &toml_edit::Item) -> Option<Vec<String>> {
    item.as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Read `[credentials.git."HOST"]` (`section` = `credentials`) or `[providers.NAME]`
/// (`section` = `providers`) into `out`, every problem into `errors` at `location`.
pub fn read_section(
    section: &str,
    item: &toml_edit::Item,
    location: &dyn Fn(&str) -> String,
    out: &mut Broker,
    errors: &mut Vec<ConfigError>,
) {
    let mut err = |at: String, message: String| {
        errors.push(ConfigError {
            location: location(&at),
            message,
        })
    };
    let Some(table) = item.as_table_like() else {
        err(section.into(), "must be a table".into());
        return;
    };
    if section == "credentials" {
        for (kind, names) in table.iter() {
            if !RELEASE_KINDS.contains(&kind) {
                err(
                    format!("credentials.{kind}"),
                    format!(
                        "unknown credential kind; known: {}",
                        RELEASE_KINDS.join(", ")
                    ),
                );
                continue;
            }
            let Some(names) = names.as_table_like() else {
                err(
                    format!("credentials.{kind}"),
                    "must be a table of names".into(),
                );
                continue;
            };
            for (name, t) in names.iter() {
                let at = format!("credentials.{kind}.\"{name}\"");
                let Some(t) = t.as_table_like() else {
                    err(at, "must be a table with `secret`".into());
                    continue;
                };
                let mut r = Release {
                    secret: String::new(),
                    repos: Vec::new(),
                    envs: Vec::new(),
                    username: if kind == "git" { "x-access-token" } else { "" }.into(),
                };
                for (k, v) in t.iter() {
                    match (k, v.as_str(), strings(v)) {
                        ("secret", Some(s), _) if !s.trim().is_empty() => r.secret = s.into(),
                        ("username", Some(s), _) if !s.trim().is_empty() => r.username = s.into(),
                        ("repos", _, Some(g)) => r.repos = g,
                        ("envs", _, Some(g)) => r.envs = g,
                        ("secret" | "username", _, _) => {
                            err(format!("{at}.{k}"), "must be a non-empty string".into())
                        }
                        ("repos" | "envs", _, _) => {
                            err(format!("{at}.{k}"), "must be an array of globs".into())
                        }
                        _ => err(
                            format!("{at}.{k}"),
                            "unknown key; known: secret, repos, envs, username".into(),
                        ),
                    }
                }
                if r.secret.is_empty() {
                    err(at, "needs `secret` (a `ward secret put` name)".into());
                    continue;
                }
                if kind == "git" && r.repos.is_empty() {
                    err(at, "needs `repos` (the owner/name globs it is for)".into());
                    continue;
                }
                let key = if kind == "git" {
                    name.to_lowercase()
                } else {
                    name.to_string()
                };
                out.releases
                    .entry(kind.to_string())
                    .or_default()
                    .insert(key, r);
            }
        }
        return;
    }
    for (name, t) in table.iter() {
        let at = format!("providers.{name}");
        let Some(t) = t.as_table_like() else {
            err(
                at,
                "must be a table with `kind`, `admin_url` and `grants`".into(),
            );
            continue;
        };
        let (mut kind, mut url, mut grants) = (None, None, Vec::new());
        let (mut repos, mut envs) = (Vec::new(), Vec::new());
        let (mut principals, mut ttl) = (None, None);
        for (k, v) in t.iter() {
            match (k, v.as_str(), strings(v)) {
                ("kind", Some(s), _) => kind = Some(s.to_string()),
                ("admin_url", Some(s), _) => url = Some(s.to_string()),
                ("ttl", Some(s), _) => match ward_broker::task::parse_ttl(s) {
                    Ok(ms) => ttl = Some(ms),
                    Err(e) => err(format!("{at}.ttl"), e),
                },
                ("grants", _, Some(g)) => grants = g,
                ("principals", _, Some(g)) if !g.is_empty() => principals = Some(g),
                ("repos", _, Some(g)) => repos = g,
                ("envs", _, Some(g)) => envs = g,
                ("grants" | "repos" | "envs" | "principals", _, _) => err(
                    format!("{at}.{k}"),
                    "must be a (non-empty) array of strings".into(),
                ),
                _ => err(
                    format!("{at}.{k}"),
                    "unknown key or wrong type; known: kind, admin_url, ttl (strings), grants, principals, repos, envs (arrays)"
                        .into(),
                ),
            }
        }
        match kind.as_deref() {
            Some("postgres") => {}
            Some("ssh") => {
                out.ssh.insert(
                    name.to_string(),
                    SshProvider {
                        principals: principals.unwrap_or_else(|| vec!["{requester}".into()]),
                        ttl_ms: ttl.unwrap_or(DEFAULT_SSH_TTL_MS),
                        repos,
                        envs,
                    },
                );
                continue;
            }
            Some(k) => {
                err(
                    format!("{at}.kind"),
                    format!("unknown provider kind `{k}`; known: postgres, ssh"),
                );
                continue;
            }
            None => {
                err(at, "needs `kind = \"postgres\"` or `kind = \"ssh\"`".into());
                continue;
            }
        }
        match url {
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                out.providers.insert(
                    name.to_string(),
                    PgProvider {
                        admin_url: u,
                        grants,
                        repos,
                        envs,
                    },
                );
            }
            Some(_) => err(
                format!("{at}.admin_url"),
                "must be a `postgres://` URL".into(),
            ),
            None => err(at, "needs `admin_url = \"postgres://…\"`".into()),
        }
    }
}

/// Where the policy engine for an action comes from (the home's compiled pack, or the daemon's
/// warm engines).
pub type Engines<'a> =
    &'a (dyn Fn(&'static str) -> Result<std::sync::Arc<ward_policy::Engine>, WardError> + Sync);

/// What every broker operation needs: the audit signer, the task-token key, the policy engines
/// and the broker's configuration.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub signer: &'a NoteSigner,
    pub key: &'a TokenKey,
    pub engines: Engines<'a>,
    pub broker: &'a Broker,
    /// How long an approval request for a credential lives (`approval_ttl`).
    pub approval_ttl_ms: u64,
}

/// What the policy pack says of a credential request.
#[derive(Debug, Clone)]
pub enum Verdict {
    Allow,
    /// Refused, and why.
    Deny(String),
    /// Released only on an approver's grant (`@outcome("ask")`).
    Ask(ward_core::Decision),
}

/// Decide a credential request through the policy pack (Cedar action `credential`, principal
/// `Assistant::"ward-ast-…"`, resource `Target::"PROVIDER:NAME"`, `context.credential` the
/// task's repository, environment, requester, id and scopes).
pub fn decide(
    engines: Engines<'_>,
    t: &Task,
    a: &Assistant,
    provider: &str,
    name: &str,
) -> Result<Verdict, WardError> {
    let call = ward_core::ToolCall {
        assistant: ward_core::Assistant {
            client: ward_core::ClientKind::ClaudeCode,
            host: a.host.clone(),
            os_user: a.os_user.clone(),
        },
        session_id: t.session_id.clone().unwrap_or_else(|| t.id.clone()),
        tool_use_id: None,
        tool_name: "credential".into(),
        action: ward_core::Action::Credential {
            provider: provider.to_string(),
            name: name.to_string(),
        },
        input: json!({
            "repo": t.repo,
            "env": t.env.clone().unwrap_or_default(),
            "requester": t.requester,
            "assistant": a.id,
            "kind": a.kind,
            "task": t.id,
            "scopes": t.scopes,
        }),
        cwd: String::new(),
        repo_root: None,
        agent_id: None,
    };
    let engine = engines("credential")?;
    let d = ward_policy::decide(&engine, &call, &ward_policy::Facts::default())?;
    Ok(match d.outcome {
        ward_core::Outcome::Allow => Verdict::Allow,
        ward_core::Outcome::Deny => Verdict::Deny(d.reason),
        ward_core::Outcome::Ask => Verdict::Ask(d),
    })
}

/// The policy's answer for a release, with approvals: an `ask` is released once an approver
/// (not the task's requester) has granted this very request (assistant, task and credential),
/// and each grant is used once. `Ok(Err(why))`: not released (refused, or waiting for a grant,
/// with the command that gives it).
async fn policy_allows(
    mut c: ConnRef<'_>,
    ctx: Ctx<'_>,
    task: &(Task, Assistant),
    provider: &str,
    name: &str,
) -> Result<Result<(), String>, WardError> {
    use ward_store::people::{self, Approval, ApprovalState};
    let (t, a) = task;
    let asked = match decide(ctx.engines, t, a, provider, name)? {
        Verdict::Allow => return Ok(Ok(())),
        Verdict::Deny(why) => return Ok(Err(why)),
        Verdict::Ask(d) => d,
    };
    let target = format!("{provider}:{name}");
    let hash = ward_core::canonical::canonical_hash(
        &json!({"assistant": a.id, "task": t.id, "credential": target}),
    );
    let now = now_ms();
    let approval_event = |ap: &Approval, state: &str| {
        let mut ev = task_event(
            EventKind::Approval,
            t,
            Some(a),
            format!("credential {target}"),
        );
        ev.approval = Some(ward_core::event::ApprovalRef {
            id: ap.id.clone(),
            state: state.into(),
            requester: ap.requester.clone(),
            approver: ap.decided_by.clone(),
            note: ap.note.clone(),
            action_hash: ap.action_hash.clone(),
        });
        ev
    };
    let pending = |id: &str| {
        format!(
            "approval {id} pending: ask an approver to run `ward approve {id}`, then ask again ({})",
            asked.reason
        )
    };
    let live = people::live_approval_for(c.reborrow(), &hash, now)
        .await
        .map_err(read_err)?;
    if let Some(ap) = live {
        if ap.state != ApprovalState::Approved {
            return Ok(Err(pending(&ap.id)));
        }
        if people::use_approval(c.reborrow(), &ap.id, now)
            .await
            .map_err(read_err)?
        {
            tasks::record(c, ctx.signer, &approval_event(&ap, "used")).await?;
            return Ok(Ok(()));
        }
        // Someone used the grant first: this request needs one of its own.
    }
    let mut ap = Approval {
        id: crate::keys::new_approval_id()?,
        action_hash: hash,
        requester: t.requester.clone(),
        assistant: a.id.clone(),
        session_id: t.id.clone(),
        tool_name: Some("credential".into()),
        action: Some(target.clone()),
        reason: asked.reason.clone(),
        policies: asked.policies.join(","),
        state: ApprovalState::Pending,
        created_ms: now,
        expires_ms: now.saturating_add(ctx.approval_ttl_ms),
        decided_by: None,
        decided_ms: None,
        note: None,
        used_ms: None,
        request_event: None,
    };
    // The request is an audit event before anyone can act on it.
    let ev = approval_event(&ap, "requested");
    ap.request_event = Some(ev.id.clone());
    tasks::record(c.reborrow(), ctx.signer, &ev).await?;
    people::insert_approval(c, &ap)
        .await
        .map_err(ward_store::append_err)?;
    Ok(Err(pending(&ap.id)))
}

/// The live task `reference` names: a task token (checked completely) or a task id.
/// `Ok(Err(why))`: no live task.
pub async fn resolve_task(
    mut c: ConnRef<'_>,
    key: &TokenKey,
    issuer: &str,
    reference: &str,
) -> Result<Result<(Task, Assistant), String>, WardError> {
    let reference = reference.trim();
    if reference.is_empty() {
        return Ok(Err(
            "no task: set `WARD_TASK` to a task token or id from `ward task start`".into(),
        ));
    }
    if !reference.starts_with("ward-task-") {
        return Ok(
            tasks::check_token(c, key, issuer, reference, Some(tasks::AUDIENCE))
                .await?
                .map(|a| (a.task, a.assistant))
                .map_err(|why| format!("the task token is not active: {why}")),
        );
    }
    let Some(t) = ward_store::tasks::get_task(c.reborrow(), reference)
        .await
        .map_err(read_err)?
    else {
        return Ok(Err(format!("no task `{reference}`")));
    };
    if t.state(now_ms()) != State::Live {
        return Ok(Err(format!(
            "task {} has {}",
            t.id,
            t.state(now_ms()).as_str()
        )));
    }
    let a = crate::assistants::get(c.reborrow(), &t.assistant).await?;
    if a.status != Status::Active {
        return Ok(Err(format!(
            "its assistant {} is {}",
            a.id,
            a.status.as_str()
        )));
    }
    Ok(Ok((t, a)))
}

/// Record a credential issued (`lease`) or refused (`why`).
async fn audit(
    c: ConnRef<'_>,
    signer: &NoteSigner,
    task: Option<&(Task, Assistant)>,
    kind: &str,
    resource: &str,
    outcome: Result<&Lease, &str>,
) -> Result<(), WardError> {
    let action = match outcome {
        Ok(_) => format!("issue {kind} {resource}"),
        Err(_) => format!("refuse {kind} {resource}"),
    };
    let mut ev = match task {
        Some((t, a)) => task_event(EventKind::Credential, t, Some(a), action),
        None => {
            let mut ev = crate::pipeline::bare_event(
                EventKind::Credential,
                &format!(
                    "custom@{}/{}",
                    crate::ident::hostname(),
                    crate::ident::os_user()
                ),
                "ward-broker",
                &crate::ident::hostname(),
                &crate::ident::os_user(),
            );
            ev.action_kind = Some("credential".into());
            ev.action = Some(action);
            ev
        }
    };
    ev.lease = Some(LeaseRef {
        id: outcome.ok().map(|l| l.id.clone()),
        kind: kind.to_string(),
        resource: resource.to_string(),
        state: if outcome.is_ok() { "issued" } else { "denied" }.into(),
        reason: outcome.err().map(str::to_string),
    });
    tasks::record(c, signer, &ev).await
}

/// Record a refusal; the error to report (the refusal, or that it could not be recorded).
async fn refuse(
    c: ConnRef<'_>,
    signer: &NoteSigner,
    task: Option<&(Task, Assistant)>,
    kind: &str,
    resource: &str,
    why: String,
) -> WardError {
    match audit(c, signer, task, kind, resource, Err(&why)).await {
        Ok(()) => WardError::new(ErrorCode::CredentialDenied, why),
        Err(e) => e,
    }
}

/// One request of git's credential-helper protocol: `key=value` lines up to a blank line.
pub fn parse_git_request(text: &str) -> Result<BTreeMap<String, String>, String> {
    const MAX: usize = 64 * 1024;
    if text.len() > MAX {
        return Err("the credential request is over 64 KiB".into());
    }
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!("`{line}` is not key=value"));
        };
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// `owner/name` of a git path (`acme/api.git/` → `acme/api`).
fn repo_of_path(path: &str) -> String {
    let p = path.trim_matches('/');
    p.strip_suffix(".git").unwrap_or(p).to_string()
}

/// Decide a git credential request for the task `reference` names: released (username,
/// password) only over https, for a configured host, for a repository the host's `repos` and
/// the task's scopes both cover. Issuance and refusal are audit events.
#[allow(
    clippy::too_many_arguments,
    reason = "each is a distinct input of the decision"
)]
pub async fn git_get(
    mut c: ConnRef<'_>,
    ctx: Ctx<'_>,
    seal: &ward_broker::seal::SealKey,
    reference: &str,
    req: &BTreeMap<String, String>,
) -> Result<(String, String), WardError> {
    let Ctx {
        signer,
        key,
        broker,
        ..
    } = ctx;
    let host = req
        .get("host")
        .map(|h| h.to_lowercase())
        .unwrap_or_default();
    let task = resolve_task(c.reborrow(), key, signer.name(), reference).await?;
    let repo = match (req.get("path"), &task) {
        (Some(p), _) if !p.is_empty() => repo_of_path(p),
        (_, Ok((t, _))) => {
            let r = t.repo.trim_end_matches(".git");
            r.strip_prefix(&format!("{host}/")).unwrap_or(r).to_string()
        }
        _ => String::new(),
    };
    let resource = format!("git:{host}/{repo}");
    let task = match task {
        Ok(t) => t,
        Err(why) => return Err(refuse(c, signer, None, "secret", &resource, why).await),
    };
    let verdict: Result<&Release, String> = (|| {
        if req.get("protocol").map(String::as_str) != Some("https") {
            return Err(format!(
                "ward releases git credentials over https only (asked for `{}`)",
                req.get("protocol").map(String::as_str).unwrap_or("")
            ));
        }
        let h = broker.release("git", &host).ok_or_else(|| {
            format!("no git credential is configured for `{host}`; add `[credentials.git.\"{host}\"]` to ward.toml")
        })?;
        if !h.repos.iter().any(|g| ward_core::glob::matches(g, &repo)) {
            return Err(format!(
                "`{repo}` is not one of the repositories `{host}`'s credential is for ({})",
                h.repos.join(", ")
            ));
        }
        let scopes = task_scopes(&task.0)?;
        let full = format!("{host}/{repo}");
        let in_scope = scope::permits(&scopes, "repo", &repo)
            || scope::permits(&scopes, "repo", &full)
            || scope::permits(&scopes, "git", &full);
        if !in_scope {
            return Err(format!(
                "task {} works in `{}`, not in `{full}`",
                task.0.id, task.0.repo
            ));
        }
        Ok(h)
    })();
    let h = match verdict {
        Ok(h) => h.clone(),
        Err(why) => {
            return Err(refuse(c, signer, Some(&task), "secret", &resource, why).await);
        }
    };
    if let Err(why) =
        policy_allows(c.reborrow(), ctx, &task, "git", &format!("{host}/{repo}")).await?
    {
        return Err(refuse(c, signer, Some(&task), "secret", &resource, why).await);
    }
    let password = issue_secret(c, signer, seal, &task, &h.secret, &resource).await?;
    Ok((h.username, password))
}

/// Open static secret `secret` for `task` and record its release as a lease of the task
/// (refused, and recorded as such, if it is not stored).
async fn issue_secret(
    mut c: ConnRef<'_>,
    signer: &NoteSigner,
    seal: &ward_broker::seal::SealKey,
    task: &(Task, Assistant),
    secret: &str,
    resource: &str,
) -> Result<String, WardError> {
    let value = match open_secret(c.reborrow(), seal, secret).await? {
        Ok(v) => v,
        Err(why) => return Err(refuse(c, signer, Some(task), "secret", resource, why).await),
    };
    let lease = tasks::new_lease(
        &task.0,
        "secret",
        resource,
        json!({ "secret": secret }),
        task.0.expires_ms,
        None,
    )?;
    ward_store::tasks::insert_lease(c.reborrow(), &lease)
        .await
        .map_err(append_err)?;
    audit(c, signer, Some(task), "secret", resource, Ok(&lease)).await?;
    Ok(value)
}

/// A static secret, opened; `Ok(Err(why))` if it is not stored.
pub async fn open_secret(
    c: ConnRef<'_>,
    seal: &ward_broker::seal::SealKey,
    name: &str,
) -> Result<Result<String, String>, WardError> {
    let Some(text) = ward_store::tasks::sealed_secret(c, name)
        .await
        .map_err(read_err)?
    else {
        return Ok(Err(format!(
            "secret `{name}` is not stored; an admin stores it with `ward secret put {name}`"
        )));
    };
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| {
            WardError::new(
                ErrorCode::AuditVerify,
                format!("secret `{name}` is damaged: {e}"),
            )
        })?;
    let plain = seal.open(name, &sealed).map_err(|e| {
        WardError::new(
            ErrorCode::AuditVerify,
            format!("secret `{name}` does not open with this home's key: {e}"),
        )
    })?;
    String::from_utf8(plain)
        .map(Ok)
        .map_err(|_| WardError::new(ErrorCode::BadInput, format!("secret `{name}` is not UTF-8")))
}

/// A task's scopes; one that does not parse refuses the request (a scope ward cannot read must
/// not silently stop restricting).
fn task_scopes(t: &Task) -> Result<Vec<scope::Scope>, String> {
    scope::parse_all(&t.scopes).map_err(|s| {
        format!(
            "task {} has a malformed scope `{s}`; start a new task",
            t.id
        )
    })
}

/// Whether provider `name` (of scope kind `kind`) serves task `t`: the task's scopes of that
/// kind (if it has any) must name it, and its repository and environment must match the
/// provider's globs (where it lists any).
fn serves(
    t: &Task,
    kind: &str,
    name: &str,
    repos: &[String],
    envs: &[String],
) -> Result<(), String> {
    let scopes = task_scopes(t)?;
    if scopes.iter().any(|s| s.kind == kind) && !scope::permits(&scopes, kind, name) {
        return Err(format!("task {} is not scoped to `{kind}:{name}`", t.id));
    }
    if !repos.is_empty() && !repos.iter().any(|g| ward_core::glob::matches(g, &t.repo)) {
        return Err(format!(
            "provider `{name}` serves {}, not `{}`",
            repos.join(", "),
            t.repo
        ));
    }
    if !envs.is_empty() {
        let env = t.env.as_deref().unwrap_or("");
        if !envs.iter().any(|g| ward_core::glob::matches(g, env)) {
            return Err(format!(
                "provider `{name}` serves the environments {}; task {} is in {}",
                envs.join(", "),
                t.id,
                t.env
                    .as_deref()
                    .map(|e| format!("`{e}`"))
                    .unwrap_or_else(|| "none".into())
            ));
        }
    }
    Ok(())
}

/// Release the static secret of `[credentials.KIND."NAME"]` (`aws`, `docker`, `kubectl`) to the
/// task `reference` names, if the task's repository, environment and scopes are ones it serves.
/// The answer is the release and the secret; issuance and refusal are audit events.
pub async fn release(
    mut c: ConnRef<'_>,
    ctx: Ctx<'_>,
    seal: &ward_broker::seal::SealKey,
    kind: &str,
    name: &str,
    reference: &str,
) -> Result<(Release, String, u64), WardError> {
    let Ctx {
        signer,
        key,
        broker,
        ..
    } = ctx;
    let resource = format!("{kind}:{name}");
    let task = match resolve_task(c.reborrow(), key, signer.name(), reference).await? {
        Ok(t) => t,
        Err(why) => return Err(refuse(c, signer, None, "secret", &resource, why).await),
    };
    let r = match broker
        .release(kind, name)
        .ok_or_else(|| {
            format!("nothing is configured for {kind} `{name}`; add `[credentials.{kind}.\"{name}\"]` to ward.toml")
        })
        .and_then(|r| {
            serves(&task.0, kind, name, &r.repos, &r.envs)?;
            Ok(r.clone())
        }) {
        Ok(r) => r,
        Err(why) => return Err(refuse(c, signer, Some(&task), "secret", &resource, why).await),
    };
    if let Err(why) = policy_allows(c.reborrow(), ctx, &task, kind, name).await? {
        return Err(refuse(c, signer, Some(&task), "secret", &resource, why).await);
    }
    let secret = issue_secret(c, signer, seal, &task, &r.secret, &resource).await?;
    let expires_ms = task.0.expires_ms;
    Ok((r, secret, expires_ms))
}

/// AWS `credential_process` output from a secret holding `{"AccessKeyId", "SecretAccessKey",
/// "SessionToken"?}`, expiring with the task (the SDK asks again then).
pub fn aws_process_output(secret: &str, expires_ms: u64) -> Result<serde_json::Value, String> {
    let v: serde_json::Value = serde_json::from_str(secret).map_err(|_| {
        "the secret is not JSON; store {\"AccessKeyId\": …, \"SecretAccessKey\": …}".to_string()
    })?;
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).filter(|x| !x.is_empty());
    let (Some(id), Some(key)) = (field("AccessKeyId"), field("SecretAccessKey")) else {
        return Err("the secret lacks AccessKeyId or SecretAccessKey".into());
    };
    let mut out = json!({
        "Version": 1,
        "AccessKeyId": id,
        "SecretAccessKey": key,
        "Expiration": ward_core::event::rfc3339_ms(expires_ms),
    });
    if let Some(t) = field("SessionToken") {
        out["SessionToken"] = json!(t);
    }
    Ok(out)
}

/// The registry a Docker credential request names (`https://index.docker.io/v1/` →
/// `index.docker.io`).
pub fn docker_registry(server_url: &str) -> String {
    let s = server_url.trim();
    let s = s.split_once("://").map(|(_, r)| r).unwrap_or(s);
    s.split('/').next().unwrap_or(s).to_lowercase()
}

/// A Kubernetes `ExecCredential` (client.authentication.k8s.io/v1) carrying a bearer token.
pub fn kube_exec_credential(token: &str, expires_ms: u64) -> serde_json::Value {
    let ts = ward_core::event::rfc3339_ms(expires_ms);
    // Kubernetes wants RFC 3339 without fractional seconds.
    let ts = match ts.split_once('.') {
        Some((head, _)) => format!("{head}Z"),
        None => ts,
    };
    json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": { "token": token.trim(), "expirationTimestamp": ts },
    })
}

/// An SSH certificate signed for a task.
#[derive(Debug, Clone)]
pub struct SshCredential {
    pub certificate: String,
    pub principals: Vec<String>,
    pub serial: u64,
    pub valid_before_ms: u64,
    pub lease_id: String,
}

/// Sign `public_key` with ward's SSH CA for the task `reference` names, from provider `name`:
/// valid from a minute ago (clock skew) for the provider's TTL, never past the task.
pub async fn ssh(
    mut c: ConnRef<'_>,
    ctx: Ctx<'_>,
    ca: &ward_broker::ssh::SshCa,
    name: &str,
    reference: &str,
    public_key: &str,
) -> Result<SshCredential, WardError> {
    let Ctx {
        signer,
        key,
        broker,
        ..
    } = ctx;
    let resource = format!("ssh:{name}");
    let task = match resolve_task(c.reborrow(), key, signer.name(), reference).await? {
        Ok(t) => t,
        Err(why) => return Err(refuse(c, signer, None, "ssh", &resource, why).await),
    };
    let t = &task.0;
    let p = match broker
        .ssh
        .get(name)
        .ok_or_else(|| {
            format!(
                "no provider `{name}`; add `[providers.{name}]` with kind = \"ssh\" to ward.toml"
            )
        })
        .and_then(|p| {
            serves(t, "ssh", name, &p.repos, &p.envs)?;
            Ok(p.clone())
        }) {
        Ok(p) => p,
        Err(why) => return Err(refuse(c, signer, Some(&task), "ssh", &resource, why).await),
    };
    if let Err(why) = policy_allows(c.reborrow(), ctx, &task, "ssh", name).await? {
        return Err(refuse(c, signer, Some(&task), "ssh", &resource, why).await);
    }
    let now = now_ms();
    let valid_before_ms = now.saturating_add(p.ttl_ms).min(t.expires_ms);
    let principals: Vec<String> = p
        .principals
        .iter()
        .map(|x| x.replace("{requester}", &t.requester))
        .collect();
    let bytes = random_text(24)?;
    let mut serial = [0u8; 8];
    serial.copy_from_slice(&bytes[..8]);
    let mut nonce = [0u8; 16];
    nonce.copy_from_slice(&bytes[8..]);
    let serial = u64::from_be_bytes(serial) >> 1;
    let key_id = format!(
        "{} requester={} assistant={}",
        t.id, t.requester, t.assistant
    );
    let certificate = match ca.sign_user(&ward_broker::ssh::UserCert {
        public_key,
        key_id: &key_id,
        principals: &principals,
        valid_after: (now / 1000).saturating_sub(60),
        valid_before: valid_before_ms / 1000,
        serial,
        nonce,
    }) {
        Ok(c) => c,
        Err(why) => return Err(refuse(c, signer, Some(&task), "ssh", &resource, why).await),
    };
    let lease = tasks::new_lease(
        t,
        "ssh",
        &resource,
        json!({ "serial": serial, "principals": principals }),
        valid_before_ms,
        None,
    )?;
    ward_store::tasks::insert_lease(c.reborrow(), &lease)
        .await
        .map_err(append_err)?;
    audit(c, signer, Some(&task), "ssh", &resource, Ok(&lease)).await?;
    Ok(SshCredential {
        certificate,
        principals,
        serial,
        valid_before_ms,
        lease_id: lease.id,
    })
}

/// A database login minted for a task.
#[derive(Debug, Clone)]
pub struct PgCredential {
    pub username: String,
    pub password: String,
    pub url: String,
    pub expires_ms: u64,
    pub lease_id: String,
}

/// `url` with its user and password replaced.
fn with_login(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let host = rest[..authority_end]
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(&rest[..authority_end]);
    format!(
        "{scheme}://{user}:{password}@{host}{}",
        &rest[authority_end..]
    )
}

fn random_text(n: usize) -> Result<Vec<u8>, WardError> {
    let mut b = vec![0u8; n];
    rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut b)
        .map_err(|e| WardError::new(ErrorCode::Io, format!("no randomness available: {e}")))?;
    Ok(b)
}

/// Mint a Postgres login role for the task `reference` names, from provider `name`.
pub async fn postgres(
    mut c: ConnRef<'_>,
    ctx: Ctx<'_>,
    name: &str,
    reference: &str,
) -> Result<PgCredential, WardError> {
    let Ctx {
        signer,
        key,
        broker,
        ..
    } = ctx;
    let resource = format!("postgres:{name}");
    let task = match resolve_task(c.reborrow(), key, signer.name(), reference).await? {
        Ok(t) => t,
        Err(why) => {
            return Err(refuse(c, signer, None, "postgres", &resource, why).await);
        }
    };
    let t = &task.0;
    let verdict = broker
        .providers
        .get(name)
        .ok_or_else(|| {
            format!(
                "no provider `{name}`; add `[providers.{name}]` with kind = \"postgres\" to ward.toml"
            )
        })
        .and_then(|p| {
            serves(t, "postgres", name, &p.repos, &p.envs)?;
            Ok(p.clone())
        });
    let p = match verdict {
        Ok(p) => p,
        Err(why) => {
            return Err(refuse(c, signer, Some(&task), "postgres", &resource, why).await);
        }
    };
    if let Err(why) = policy_allows(c.reborrow(), ctx, &task, "postgres", name).await? {
        return Err(refuse(c, signer, Some(&task), "postgres", &resource, why).await);
    }
    let role = format!("ward_{}", hex::encode(random_text(8)?));
    let password = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_text(24)?);
    let expires_ms = t.expires_ms;
    // The lease is stored first, so a role is never made that ending the task would not find.
    let lease = tasks::new_lease(
        t,
        "postgres",
        &resource,
        json!({ "provider": name, "role": role }),
        expires_ms,
        None,
    )?;
    ward_store::tasks::insert_lease(c.reborrow(), &lease)
        .await
        .map_err(append_err)?;
    if let Err(e) = ward_store::provision::pg_create_role(
        &p.admin_url,
        &role,
        &password,
        &ward_core::event::rfc3339_ms(expires_ms),
        &p.grants,
    )
    .await
    {
        let why = format!("provider `{name}` could not create the role: {e}");
        let _ =
            ward_store::tasks::revoke_lease(c.reborrow(), &lease.id, now_ms(), "not created").await;
        return Err(refuse(c, signer, Some(&task), "postgres", &resource, why).await);
    }
    if let Err(e) = audit(
        c.reborrow(),
        signer,
        Some(&task),
        "postgres",
        &resource,
        Ok(&lease),
    )
    .await
    {
        // Unrecorded: take it back.
        let _ = ward_store::provision::pg_drop_role(&p.admin_url, &role).await;
        let _ =
            ward_store::tasks::revoke_lease(c.reborrow(), &lease.id, now_ms(), "unrecorded").await;
        return Err(e);
    }
    Ok(PgCredential {
        url: with_login(&p.admin_url, &role, &password),
        username: role,
        password,
        expires_ms,
        lease_id: lease.id,
    })
}

/// Undo outside ward what a lease granted: drop a Postgres role. Tokens and released secrets
/// need nothing (their checks read the lease).
pub async fn revoke(broker: &Broker, l: &Lease) -> Result<(), String> {
    if l.kind != "postgres" {
        return Ok(());
    }
    let detail: serde_json::Value =
        serde_json::from_str(&l.detail).map_err(|e| format!("lease detail: {e}"))?;
    let (Some(provider), Some(role)) = (detail["provider"].as_str(), detail["role"].as_str())
    else {
        return Err("the lease does not name its provider and role".into());
    };
    let p = broker.providers.get(provider).ok_or_else(|| {
        format!("provider `{provider}` is no longer configured; drop role `{role}` by hand")
    })?;
    ward_store::provision::pg_drop_role(&p.admin_url, role)
        .await
        .map_err(|e| format!("could not drop role `{role}`: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn git_requests_parse_and_paths_name_repositories() {
        let r =
            parse_git_request("protocol=https\nhost=github.com\npath=acme/api.git\n\nignored=1\n")
                .unwrap();
        assert_eq!(r["host"], "github.com");
        assert_eq!(r.get("ignored"), None);
        assert!(parse_git_request("nonsense\n").is_err());
        assert_eq!(repo_of_path("acme/api.git"), "acme/api");
        assert_eq!(repo_of_path("/acme/api/"), "acme/api");
    }

    #[test]
    fn protocol_answers_have_the_shapes_tools_read() {
        let v = aws_process_output(r#"{"AccessKeyId":"AKIA1","SecretAccessKey":"s"}"#, 0).unwrap();
        assert_eq!(v["Version"], 1);
        assert_eq!(v["Expiration"], "1970-01-01T00:00:00.000Z");
        assert!(v.get("SessionToken").is_none());
        assert!(aws_process_output("AKIA1:s", 0).is_err());
        assert!(aws_process_output(r#"{"AccessKeyId":"AKIA1"}"#, 0).is_err());
        assert_eq!(
            docker_registry("https://index.docker.io/v1/"),
            "index.docker.io"
        );
        assert_eq!(
            docker_registry("Registry.Example.com:5000"),
            "registry.example.com:5000"
        );
        let k = kube_exec_credential("tok\n", 1_500);
        assert_eq!(k["status"]["expirationTimestamp"], "1970-01-01T00:00:01Z");
        assert_eq!(k["status"]["token"], "tok");
    }

    #[test]
    fn a_malformed_scope_refuses_instead_of_restricting_nothing() {
        let mut t = Task {
            id: "ward-task-1".into(),
            parent: None,
            requester: "alice".into(),
            assistant: "ward-ast-1".into(),
            repo: "acme/api".into(),
            env: None,
            scopes: vec!["repo:acme/api".into(), "postgres:reports".into()],
            actors: Vec::new(),
            session_id: None,
            created_ms: 0,
            expires_ms: 1,
            ended_ms: None,
            end_reason: None,
        };
        assert!(serves(&t, "postgres", "reports", &[], &[]).is_ok());
        assert!(serves(&t, "postgres", "billing", &[], &[]).is_err());
        t.scopes[1] = "postgres reports".into();
        let why = serves(&t, "postgres", "billing", &[], &[]).unwrap_err();
        assert!(why.contains("malformed scope"), "{why}");
    }

    #[test]
    fn logins_replace_the_admin_user() {
        assert_eq!(
            with_login(
                "postgres://postgres:pw@127.0.0.1:5432/app?sslmode=disable",
                "ward_1",
                "s"
            ),
            "postgres://ward_1:s@127.0.0.1:5432/app?sslmode=disable"
        );
        assert_eq!(
            with_login("postgresql://db.example/app", "ward_1", "s"),
            "postgresql://ward_1:s@db.example/app"
        );
    }
}
