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

/// One git host ward answers for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHost {
    /// The static secret released as the password.
    pub secret: String,
    /// `owner/name` globs it may be released for.
    pub repos: Vec<String>,
    pub username: String,
}

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

/// What the broker is configured with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Broker {
    pub git: BTreeMap<String, GitHost>,
    pub providers: BTreeMap<String, PgProvider>,
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
        for (kind, hosts) in table.iter() {
            if kind != "git" {
                err(
                    format!("credentials.{kind}"),
                    "unknown credential kind; known: git".into(),
                );
                continue;
            }
            let Some(hosts) = hosts.as_table_like() else {
                err("credentials.git".into(), "must be a table of hosts".into());
                continue;
            };
            for (host, t) in hosts.iter() {
                let at = format!("credentials.git.\"{host}\"");
                let Some(t) = t.as_table_like() else {
                    err(at, "must be a table with `secret` and `repos`".into());
                    continue;
                };
                let mut h = GitHost {
                    secret: String::new(),
                    repos: Vec::new(),
                    username: "x-access-token".into(),
                };
                for (k, v) in t.iter() {
                    match (k, v.as_str(), strings(v)) {
                        ("secret", Some(s), _) if !s.trim().is_empty() => h.secret = s.into(),
                        ("username", Some(s), _) if !s.trim().is_empty() => h.username = s.into(),
                        ("repos", _, Some(r)) if !r.is_empty() => h.repos = r,
                        ("secret" | "username", _, _) => {
                            err(format!("{at}.{k}"), "must be a non-empty string".into())
                        }
                        ("repos", _, _) => err(
                            format!("{at}.repos"),
                            "must be a non-empty array of `owner/name` globs".into(),
                        ),
                        _ => err(
                            format!("{at}.{k}"),
                            "unknown key; known: secret, repos, username".into(),
                        ),
                    }
                }
                if h.secret.is_empty() || h.repos.is_empty() {
                    err(
                        at,
                        "needs `secret` (a `ward secret put` name) and `repos` (owner/name globs)"
                            .into(),
                    );
                    continue;
                }
                out.git.insert(host.to_lowercase(), h);
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
        for (k, v) in t.iter() {
            match (k, v.as_str(), strings(v)) {
                ("kind", Some(s), _) => kind = Some(s.to_string()),
                ("admin_url", Some(s), _) => url = Some(s.to_string()),
                ("grants", _, Some(g)) => grants = g,
                ("repos", _, Some(g)) => repos = g,
                ("envs", _, Some(g)) => envs = g,
                ("grants" | "repos" | "envs", _, None) => {
                    err(format!("{at}.{k}"), "must be an array of strings".into())
                }
                _ => err(
                    format!("{at}.{k}"),
                    "unknown key or wrong type; known: kind, admin_url (strings), grants, repos, envs (arrays)"
                        .into(),
                ),
            }
        }
        match kind.as_deref() {
            Some("postgres") => {}
            Some(k) => {
                err(
                    format!("{at}.kind"),
                    format!("unknown provider kind `{k}`; known: postgres"),
                );
                continue;
            }
            None => {
                err(at, "needs `kind = \"postgres\"`".into());
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
    signer: &NoteSigner,
    key: &TokenKey,
    seal: &ward_broker::seal::SealKey,
    broker: &Broker,
    reference: &str,
    req: &BTreeMap<String, String>,
) -> Result<(String, String), WardError> {
    let host = req
        .get("host")
        .map(|h| h.to_lowercase())
        .unwrap_or_default();
    let task = tasks_or_reason(c.reborrow(), key, signer, reference).await?;
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
    let verdict: Result<&GitHost, String> = (|| {
        if req.get("protocol").map(String::as_str) != Some("https") {
            return Err(format!(
                "ward releases git credentials over https only (asked for `{}`)",
                req.get("protocol").map(String::as_str).unwrap_or("")
            ));
        }
        let h = broker.git.get(&host).ok_or_else(|| {
            format!("no git credential is configured for `{host}`; add `[credentials.git.\"{host}\"]` to ward.toml")
        })?;
        if !h.repos.iter().any(|g| ward_core::glob::matches(g, &repo)) {
            return Err(format!(
                "`{repo}` is not one of the repositories `{host}`'s credential is for ({})",
                h.repos.join(", ")
            ));
        }
        let scopes = scope::parse_all(&task.0.scopes).unwrap_or_default();
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
    let password = match open_secret(c.reborrow(), seal, &h.secret).await? {
        Ok(p) => p,
        Err(why) => {
            return Err(refuse(c, signer, Some(&task), "secret", &resource, why).await);
        }
    };
    let lease = Lease {
        id: tasks::new_lease_id()?,
        task: task.0.id.clone(),
        parent: None,
        kind: "secret".into(),
        resource: resource.clone(),
        detail: json!({ "secret": h.secret }).to_string(),
        issued_ms: now_ms(),
        expires_ms: task.0.expires_ms,
        revoked_ms: None,
        revoke_reason: None,
    };
    ward_store::tasks::insert_lease(c.reborrow(), &lease)
        .await
        .map_err(append_err)?;
    audit(c, signer, Some(&task), "secret", &resource, Ok(&lease)).await?;
    Ok((h.username, password))
}

/// The task, or why there is none (an error only when the store fails).
async fn tasks_or_reason(
    c: ConnRef<'_>,
    key: &TokenKey,
    signer: &NoteSigner,
    reference: &str,
) -> Result<Result<(Task, Assistant), String>, WardError> {
    resolve_task(c, key, signer.name(), reference).await
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
    signer: &NoteSigner,
    key: &TokenKey,
    broker: &Broker,
    name: &str,
    reference: &str,
) -> Result<PgCredential, WardError> {
    let resource = format!("postgres:{name}");
    let task = match tasks_or_reason(c.reborrow(), key, signer, reference).await? {
        Ok(t) => t,
        Err(why) => {
            return Err(refuse(c, signer, None, "postgres", &resource, why).await);
        }
    };
    let t = &task.0;
    let verdict = (|| {
        let p = broker.providers.get(name).ok_or_else(|| {
            format!("no provider `{name}`; add `[providers.{name}]` with kind = \"postgres\" to ward.toml")
        })?;
        let scopes = scope::parse_all(&t.scopes).unwrap_or_default();
        if scopes.iter().any(|s| s.kind == "postgres") && !scope::permits(&scopes, "postgres", name)
        {
            return Err(format!("task {} is not scoped to `{resource}`", t.id));
        }
        if !p.repos.is_empty() && !p.repos.iter().any(|g| ward_core::glob::matches(g, &t.repo)) {
            return Err(format!(
                "provider `{name}` serves {}, not `{}`",
                p.repos.join(", "),
                t.repo
            ));
        }
        if !p.envs.is_empty() {
            let env = t.env.as_deref().unwrap_or("");
            if !p.envs.iter().any(|g| ward_core::glob::matches(g, env)) {
                return Err(format!(
                    "provider `{name}` serves the environments {}; task {} is in {}",
                    p.envs.join(", "),
                    t.id,
                    t.env
                        .as_deref()
                        .map(|e| format!("`{e}`"))
                        .unwrap_or_else(|| "none".into())
                ));
            }
        }
        Ok(p.clone())
    })();
    let p = match verdict {
        Ok(p) => p,
        Err(why) => {
            return Err(refuse(c, signer, Some(&task), "postgres", &resource, why).await);
        }
    };
    let role = format!("ward_{}", hex::encode(random_text(8)?));
    let password = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_text(24)?);
    let expires_ms = t.expires_ms;
    // The lease is stored first, so a role is never made that ending the task would not find.
    let lease = Lease {
        id: tasks::new_lease_id()?,
        task: t.id.clone(),
        parent: None,
        kind: "postgres".into(),
        resource: resource.clone(),
        detail: json!({ "provider": name, "role": role }).to_string(),
        issued_ms: now_ms(),
        expires_ms,
        revoked_ms: None,
        revoke_reason: None,
    };
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
