//! The assistant registry's rules: the one implementation behind the CLI (which the owner of
//! `$WARD_HOME` runs without a key) and the API (`/v1/assistants`, with an admin key).
//!
//! Lifecycle: `register` (by an admin, with an owner) makes an assistant active; one first seen
//! by a hook is enrolled ([`resolve`]: active for the home owner's own by default, else pending)
//! and `approve` activates a pending one, naming its owner. [`gate`] is what every decision
//! makes of the registration. `suspend`
//! stops a pending or active one, `resume` restarts a suspended one, `retire` ends any of them
//! for good. Every change is one conditional update, so a concurrent change is reported, never
//! overwritten.

use crate::service::now_ms;
use crate::users::check_name;
use ward_core::{ErrorCode, WardError};
use ward_store::conn::ConnRef;
use ward_store::people;
use ward_store::registry::{self, Assistant, KINDS, Refused, Status};
use ward_store::{append_err, read_err};

/// What a registration asks for.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub name: String,
    pub kind: String,
    pub owner: String,
    /// The host and OS user its hooks run as (defaults: this host, the caller's user).
    pub host: String,
    pub os_user: String,
    pub purpose: String,
    pub repos: Vec<String>,
    pub envs: Vec<String>,
    pub review_by_ms: Option<u64>,
}

/// Prefix of assistant ids; no name may start with it, so a name never reads as another's id.
const ID_PREFIX: &str = "ward-ast-";

/// A new assistant id: [`ID_PREFIX`] and 16 hex digits.
fn new_id() -> String {
    let mut r = [0u8; 8];
    // A collision only makes the insert fail (primary key), which is reported.
    let _ = rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut r);
    format!("{ID_PREFIX}{}", hex::encode(r))
}

fn check_kind(kind: &str) -> Result<(), WardError> {
    if KINDS.contains(&kind) {
        Ok(())
    } else {
        Err(WardError::new(
            ErrorCode::BadInput,
            format!("unknown assistant kind `{kind}`; use {}", KINDS.join(", ")),
        ))
    }
}

/// The owner must be a ward user: an assistant without a human who answers for it is exactly
/// the gap the registry exists to close.
async fn check_owner(c: ConnRef<'_>, owner: &str) -> Result<(), WardError> {
    match people::user(c, owner).await.map_err(read_err)? {
        Some(_) => Ok(()),
        None => Err(WardError::new(
            ErrorCode::BadInput,
            format!(
                "owner `{owner}` is not a ward user; add them first with `ward user add {owner} --role viewer`"
            ),
        )),
    }
}

fn check_list(what: &str, items: &[String]) -> Result<(), WardError> {
    for item in items {
        if item.is_empty() || item.chars().count() > 256 || item.chars().any(char::is_control) {
            return Err(WardError::new(
                ErrorCode::BadInput,
                format!(
                    "`{}` is not a valid {what}: use 1-256 printable characters",
                    item.escape_debug()
                ),
            ));
        }
    }
    Ok(())
}

/// Register an assistant; it is active at once, since an admin named its owner.
pub async fn register(
    mut c: ConnRef<'_>,
    r: &Registration,
    by: &str,
) -> Result<Assistant, WardError> {
    check_name("assistant", &r.name)?;
    if r.name.starts_with(ID_PREFIX) {
        return Err(WardError::new(
            ErrorCode::BadInput,
            format!("an assistant name may not start with `{ID_PREFIX}`, which marks ids"),
        ));
    }
    check_kind(&r.kind)?;
    check_list("repository glob", &r.repos)?;
    check_list("environment", &r.envs)?;
    check_owner(c.reborrow(), &r.owner).await?;
    let now = now_ms();
    let a = Assistant {
        id: new_id(),
        name: r.name.clone(),
        kind: r.kind.clone(),
        host: r.host.clone(),
        os_user: r.os_user.clone(),
        owner: Some(r.owner.clone()),
        purpose: r.purpose.clone(),
        repos: r.repos.clone(),
        envs: r.envs.clone(),
        review_by_ms: r.review_by_ms,
        status: Status::Active,
        created_ms: now,
        last_seen_ms: None,
        rotated_ms: None,
        status_ms: now,
        status_by: by.to_string(),
    };
    match registry::register(c, &a).await.map_err(append_err)? {
        Ok(()) => Ok(a),
        Err(Refused::NameTaken) => Err(WardError::new(
            ErrorCode::BadInput,
            format!(
                "an assistant named `{}` is already registered; retire it first or pick another name",
                r.name
            ),
        )),
        Err(Refused::IdentityTaken(name)) => Err(WardError::new(
            ErrorCode::BadInput,
            format!(
                "`{name}` is already the live registration of {}@{}/{}; update or retire it instead",
                r.kind, r.host, r.os_user
            ),
        )),
    }
}

/// One assistant by id or live name.
pub async fn get(c: ConnRef<'_>, id: &str) -> Result<Assistant, WardError> {
    registry::get(c, id)
        .await
        .map_err(read_err)?
        .ok_or_else(|| {
            WardError::new(
                ErrorCode::NotFound,
                format!("no assistant `{id}`; `ward assistant list` shows them"),
            )
        })
}

/// A change of status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Approve,
    Suspend,
    Resume,
    Retire,
}

impl Change {
    pub fn verb(self) -> &'static str {
        match self {
            Change::Approve => "approve",
            Change::Suspend => "suspend",
            Change::Resume => "resume",
            Change::Retire => "retire",
        }
    }

    /// The states it applies to, and the state it leads to.
    fn rule(self) -> (&'static [Status], Status) {
        match self {
            Change::Approve => (&[Status::Pending], Status::Active),
            Change::Suspend => (&[Status::Pending, Status::Active], Status::Suspended),
            Change::Resume => (&[Status::Suspended], Status::Active),
            Change::Retire => (
                &[Status::Pending, Status::Active, Status::Suspended],
                Status::Retired,
            ),
        }
    }
}

/// Apply `change` to assistant `id` (approve may name the owner; it needs one).
pub async fn change(
    mut c: ConnRef<'_>,
    id: &str,
    change: Change,
    owner: Option<&str>,
    by: &str,
) -> Result<Assistant, WardError> {
    let current = get(c.reborrow(), id).await?;
    let (from, to) = change.rule();
    if !from.contains(&current.status) {
        return Err(state_error(&current, change));
    }
    if let Some(o) = owner {
        check_owner(c.reborrow(), o).await?;
    }
    let needs_owner = matches!(change, Change::Approve | Change::Resume);
    if needs_owner && owner.is_none() && current.owner.is_none() {
        return Err(WardError::new(
            ErrorCode::BadInput,
            format!(
                "`{}` has no owner; name the ward user who answers for it: `ward assistant {} {} --owner USER`",
                current.name,
                change.verb(),
                current.id
            ),
        ));
    }
    let done = registry::set_status(c.reborrow(), &current.id, from, to, owner, by, now_ms())
        .await
        .map_err(append_err)?;
    let after = get(c, &current.id).await?;
    if !done {
        // Someone else changed it between the read and the update.
        return Err(state_error(&after, change));
    }
    Ok(after)
}

/// What `ward assistant update` changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Update {
    pub owner: Option<String>,
    pub purpose: Option<String>,
    pub repos: Option<Vec<String>>,
    pub envs: Option<Vec<String>>,
    /// `Some(None)` clears the review date.
    pub review_by_ms: Option<Option<u64>>,
}

/// Change a live assistant's owner, purpose, scopes or review date. Returns it before and
/// after (the caller records the change, and can put `before` back if that fails).
pub async fn update(
    mut c: ConnRef<'_>,
    id: &str,
    u: &Update,
) -> Result<(Assistant, Assistant), WardError> {
    let before = get(c.reborrow(), id).await?;
    if before.status == Status::Retired {
        return Err(WardError::new(
            ErrorCode::AssistantState,
            format!("cannot update `{}`: it is retired", before.name),
        ));
    }
    if let Some(o) = &u.owner {
        check_owner(c.reborrow(), o).await?;
    }
    if let Some(r) = &u.repos {
        check_list("repository glob", r)?;
    }
    if let Some(e) = &u.envs {
        check_list("environment", e)?;
    }
    let mut after = before.clone();
    if let Some(o) = &u.owner {
        after.owner = Some(o.clone());
    }
    if let Some(p) = &u.purpose {
        after.purpose = p.clone();
    }
    if let Some(r) = &u.repos {
        after.repos = r.clone();
    }
    if let Some(e) = &u.envs {
        after.envs = e.clone();
    }
    if let Some(r) = u.review_by_ms {
        after.review_by_ms = r;
    }
    if !registry::update(c, &after).await.map_err(append_err)? {
        return Err(WardError::new(
            ErrorCode::AssistantState,
            format!("cannot update `{}`: it was retired meanwhile", before.name),
        ));
    }
    Ok((before, after))
}

fn state_error(a: &Assistant, change: Change) -> WardError {
    WardError::new(
        ErrorCode::AssistantState,
        format!(
            "cannot {} `{}`: it is {}",
            change.verb(),
            a.name,
            a.status.as_str()
        ),
    )
}

/// An assistant as the CLI's `--json` and the API show it.
pub fn to_json(a: &Assistant) -> serde_json::Value {
    let time = |ms: Option<u64>| ms.map(ward_core::event::rfc3339_ms);
    serde_json::json!({
        "id": a.id,
        "name": a.name,
        "kind": a.kind,
        "host": a.host,
        "os_user": a.os_user,
        "identity": format!("{}@{}/{}", a.kind, a.host, a.os_user),
        "owner": a.owner,
        "purpose": a.purpose,
        "repos": a.repos,
        "envs": a.envs,
        "review_by": time(a.review_by_ms),
        "status": a.status.as_str(),
        "created": ward_core::event::rfc3339_ms(a.created_ms),
        "last_seen": time(a.last_seen_ms),
        "last_rotated": time(a.rotated_ms),
        "status_changed": ward_core::event::rfc3339_ms(a.status_ms),
        "status_changed_by": a.status_by,
    })
}

/// The audit event of a registry change made by `by` (`verb`: `register`, `update`, `approve`,
/// …): the assistant's identity, what was done, and its status after.
pub fn registry_event(a: &Assistant, verb: &str, by: &str) -> ward_core::Event {
    let mut ev = crate::pipeline::bare_event(
        ward_core::EventKind::Registry,
        &format!("{}@{}/{}", a.kind, a.host, a.os_user),
        "ward-registry",
        &crate::ident::hostname(),
        by,
    );
    ev.action_kind = Some("registry".into());
    ev.action = Some(format!("assistant {verb} {} ({})", a.id, a.name));
    ev.registration = Some(ward_core::event::RegistrationRef {
        id: a.id.clone(),
        status: a.status.as_str().to_string(),
        enrolled: false,
    });
    ev
}

/// Why a live assistant is an offboarding or review gap (`ward assistant list --stale`): past
/// its review date, unused for `unused_days` (never seen: counted from its creation), without an
/// owner, or owned by someone who is not (or no longer) a ward user. Empty: not stale. Retired
/// assistants are never stale.
pub fn stale_reasons(
    a: &Assistant,
    is_user: &dyn Fn(&str) -> bool,
    now: u64,
    unused_days: u64,
) -> Vec<String> {
    if a.status == Status::Retired {
        return Vec::new();
    }
    let mut why = Vec::new();
    if let Some(by) = a.review_by_ms
        && by <= now
    {
        why.push(format!(
            "review was due {}",
            ward_core::event::rfc3339_ms(by)
        ));
    }
    let idle_since = a.last_seen_ms.unwrap_or(a.created_ms);
    if now.saturating_sub(idle_since) >= unused_days.saturating_mul(86_400_000) {
        why.push(match a.last_seen_ms {
            Some(t) => format!("unused since {}", ward_core::event::rfc3339_ms(t)),
            None => format!("never used in {unused_days} days"),
        });
    }
    match a.owner.as_deref() {
        None => why.push("no owner".into()),
        Some(o) if !is_user(o) => why.push(format!("owner `{o}` is not a ward user")),
        Some(_) => {}
    }
    why
}

/// Record a registry change made by `by` as an audit event in the log (appended directly, as a
/// hook process does: the tree edge is checked under the write lock, so a running daemon's
/// writer is never forked). `verb` is what was done: `register`, `approve`, `suspend`, ….
pub async fn record_change(
    c: ConnRef<'_>,
    signer: &ward_audit::NoteSigner,
    a: &Assistant,
    verb: &str,
    by: &str,
) -> Result<(), WardError> {
    crate::tasks::record(c, signer, &registry_event(a, verb, by)).await
}

/// The assistants a listing shows, each with its stale reasons: all of them, or with
/// `stale = Some(unused_days)` only the stale ones (see [`stale_reasons`]).
pub fn listing<'a>(
    all: &'a [Assistant],
    users: &[ward_store::people::User],
    now: u64,
    stale: Option<u64>,
) -> Vec<(&'a Assistant, Vec<String>)> {
    let is_user = |name: &str| users.iter().any(|u| u.name == name);
    all.iter()
        .map(|a| {
            let why = stale
                .map(|days| stale_reasons(a, &is_user, now, days))
                .unwrap_or_default();
            (a, why)
        })
        .filter(|(_, why)| stale.is_none() || !why.is_empty())
        .collect()
}

/// How to take back a registry change that could not be recorded.
pub enum Undo {
    /// Put the status back (for a new registration: retire it).
    Status(Status),
    /// Put the fields back as they were.
    Fields(Box<Assistant>),
}

/// Take back `a`'s change because recording it failed with `e`, and say so: no registry change
/// stands unaudited. The undo itself is best effort; the error reports the failure either way.
pub async fn undo_unrecorded(c: ConnRef<'_>, a: &Assistant, undo: Undo, e: WardError) -> WardError {
    let _ = match undo {
        Undo::Status(s) => {
            registry::set_status(c, &a.id, &[a.status], s, None, "ward:unrecorded", now_ms())
                .await
                .map(|_| ())
        }
        Undo::Fields(before) => registry::update(c, &before).await.map(|_| ()),
    };
    WardError::new(
        e.code,
        format!(
            "the change to `{}` could not be recorded, so it was undone: {}",
            a.name, e.message
        ),
    )
}

/// What becomes of an assistant seen for the first time (setting `assistant_first_use`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FirstUse {
    /// The home owner's own assistant (a local hook, the owner's socket, or a hook token the
    /// owner issued) is enrolled active, owned by the requester: the owner could approve it
    /// anyway, so asking would protect nothing and stop everyday work.
    #[default]
    Activate,
    /// Every new assistant waits for `ward assistant approve`.
    Pending,
}

/// How a pending assistant is treated (setting `assistant_pending`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PendingRule {
    /// Everything is denied until it is approved.
    #[default]
    Deny,
    /// Only reading files is allowed (what policy allows of it); everything else is denied.
    ReadOnly,
    /// What policy would allow becomes `ask`.
    Ask,
}

/// The registry's settings on the decision path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Enrollment {
    pub first_use: FirstUse,
    pub pending: PendingRule,
}

/// The registry kind of a hook client.
pub fn kind_of(client: ward_core::ClientKind) -> &'static str {
    match client {
        ward_core::ClientKind::ClaudeCode => "claude-code",
        ward_core::ClientKind::Codex => "codex",
        ward_core::ClientKind::Cursor => "cursor",
        ward_core::ClientKind::Gemini => "gemini",
        ward_core::ClientKind::Copilot => "copilot",
    }
}

/// A name for an enrolled assistant: `kind.os_user@host`, in the characters names allow.
fn enrolled_name(kind: &str, host: &str, os_user: &str, suffix: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    let mut name = format!("{kind}.{}@{}", clean(os_user), clean(host));
    name.truncate(64 - suffix.len());
    name.push_str(suffix);
    name
}

/// The registration a hook call acts under: its live one, or a new one enrolled now (active
/// for the home owner's first use under [`FirstUse::Activate`], else pending; always pending
/// for an identity whose registration was retired). `owner` (the requester's ward user) and
/// `first_use` are asked only for a new assistant.
/// Returns the registration and whether this call enrolled it.
pub async fn resolve(
    mut c: ConnRef<'_>,
    kind: &str,
    host: &str,
    os_user: &str,
    owner: &(dyn Fn() -> String + Sync),
    first_use: &(dyn Fn() -> Result<FirstUse, WardError> + Sync),
    now: u64,
) -> Result<(Assistant, bool), WardError> {
    let status = match registry::by_identity(c.reborrow(), kind, host, os_user)
        .await
        .map_err(read_err)?
    {
        registry::Seen::Live(a) => {
            if !seen_lately(&a, now) {
                registry::seen(c, &a.id, now).await.map_err(append_err)?;
            }
            return Ok((*a, false));
        }
        registry::Seen::Retired => Status::Pending,
        registry::Seen::Never => match first_use()? {
            FirstUse::Activate => Status::Active,
            FirstUse::Pending => Status::Pending,
        },
    };
    let mut a = Assistant {
        id: new_id(),
        name: enrolled_name(kind, host, os_user, ""),
        kind: kind.to_string(),
        host: host.to_string(),
        os_user: os_user.to_string(),
        owner: (status == Status::Active).then(owner),
        purpose: String::new(),
        repos: Vec::new(),
        envs: Vec::new(),
        review_by_ms: None,
        status,
        created_ms: now,
        last_seen_ms: Some(now),
        rotated_ms: None,
        status_ms: now,
        status_by: "ward:first-use".to_string(),
    };
    for attempt in 0..2 {
        match registry::register(c.reborrow(), &a).await {
            Ok(Ok(())) => return Ok((a, true)),
            // The name belongs to another registration: keep it apart with the id's digits.
            Ok(Err(Refused::NameTaken)) if attempt == 0 => {
                let tail = a.id.trim_start_matches(ID_PREFIX).get(..6).unwrap_or("x");
                a.name = enrolled_name(kind, host, os_user, &format!("-{tail}"));
            }
            // Another process enrolled it at the same moment (or the name clashed twice):
            // use whatever is live now.
            _ => break,
        }
    }
    match registry::by_identity(c, kind, host, os_user)
        .await
        .map_err(read_err)?
    {
        registry::Seen::Live(a) => Ok((*a, false)),
        _ => Err(WardError::new(
            ErrorCode::AuditAppend,
            format!("cannot enroll assistant {kind}@{host}/{os_user} in the registry"),
        )),
    }
}

/// How often a registration's `last_seen` is brought up to date.
pub const SEEN_EVERY_MS: u64 = 3_600_000;

/// Whether `a`'s `last_seen` is recent enough to leave alone. Last seen is for reviews (unused
/// for N days): hourly is precise enough, and the common call stays a read.
pub fn seen_lately(a: &Assistant, now: u64) -> bool {
    a.last_seen_ms
        .is_some_and(|t| now.saturating_sub(t) < SEEN_EVERY_MS)
}

/// The live registration of an identity when acting under it needs no write (it was seen
/// lately): what a daemon reads before it takes a turn at the write lock for [`resolve`].
pub async fn live_seen_lately(
    c: ConnRef<'_>,
    kind: &str,
    host: &str,
    os_user: &str,
    now: u64,
) -> Result<Option<Assistant>, WardError> {
    Ok(
        match registry::by_identity(c, kind, host, os_user)
            .await
            .map_err(read_err)?
        {
            registry::Seen::Live(a) if seen_lately(&a, now) => Some(*a),
            _ => None,
        },
    )
}

/// The decision once the assistant's registration is taken into account: an active one keeps
/// what policy decided; a suspended one is denied; a pending one is treated by `rule`. A policy
/// deny always stands.
pub fn gate(
    a: &Assistant,
    enrolled: bool,
    rule: PendingRule,
    call: &ward_core::ToolCall,
    decision: ward_core::Decision,
) -> ward_core::Decision {
    use ward_core::{Decision, Outcome};
    let block = |policy: &str, reason: String| Decision {
        outcome: Outcome::Deny,
        policies: vec![policy.to_string()],
        reason,
        facts: decision.facts.clone(),
        error_code: None,
        confirm_locally: false,
    };
    match a.status {
        Status::Active => decision,
        Status::Suspended | Status::Retired => block(
            "assistant-suspended",
            format!(
                "assistant `{}` ({}) is {}: ward denies everything it asks; its owner or an admin can run `ward assistant resume {}`",
                a.name,
                a.id,
                a.status.as_str(),
                a.id
            ),
        ),
        Status::Pending => {
            if decision.outcome == Outcome::Deny {
                return decision;
            }
            let approve = format!(
                "assistant `{}` ({}) is {} and waits for approval: an admin runs `ward assistant approve {} --owner USER`",
                a.name,
                a.id,
                if enrolled { "new" } else { "pending" },
                a.id
            );
            match rule {
                PendingRule::Deny => block("assistant-pending", approve),
                PendingRule::ReadOnly => {
                    if matches!(call.action, ward_core::Action::FileRead { .. }) {
                        decision
                    } else {
                        block(
                            "assistant-pending",
                            format!("{approve}; until then it may only read files"),
                        )
                    }
                }
                PendingRule::Ask => Decision {
                    outcome: Outcome::Ask,
                    policies: [vec!["assistant-pending".to_string()], decision.policies].concat(),
                    reason: approve,
                    confirm_locally: false,
                    ..decision
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests")]
    use super::*;
    use ward_core::{Action, ClientKind, Decision, Outcome, ToolCall};

    fn assistant(status: Status) -> Assistant {
        Assistant {
            id: "ward-ast-0123456789abcdef".into(),
            name: "claude-code.dev@box".into(),
            kind: "claude-code".into(),
            host: "box".into(),
            os_user: "dev".into(),
            owner: Some("dev".into()),
            purpose: String::new(),
            repos: vec![],
            envs: vec![],
            review_by_ms: None,
            status,
            created_ms: 1,
            last_seen_ms: None,
            rotated_ms: None,
            status_ms: 1,
            status_by: "t".into(),
        }
    }

    fn call(action: Action) -> ToolCall {
        ToolCall {
            assistant: ward_core::Assistant {
                client: ClientKind::ClaudeCode,
                host: "box".into(),
                os_user: "dev".into(),
            },
            session_id: "s".into(),
            tool_use_id: None,
            tool_name: "Bash".into(),
            action,
            input: serde_json::json!({}),
            cwd: "/w".into(),
            repo_root: None,
            agent_id: None,
        }
    }

    fn decision(outcome: Outcome) -> Decision {
        Decision {
            outcome,
            policies: vec!["everyday-development".into()],
            reason: "policy".into(),
            facts: vec!["f".into()],
            error_code: None,
            confirm_locally: true,
        }
    }

    /// Repository globs and environments are 1-256 characters (not bytes), none of them a
    /// control character, as the message and the API document say.
    #[test]
    fn list_items_are_counted_in_characters() {
        assert!(check_list("environment", &["é".repeat(256)]).is_ok());
        assert!(check_list("environment", &["é".repeat(257)]).is_err());
        assert!(check_list("environment", &[String::new()]).is_err());
        assert!(check_list("environment", &["a\u{85}b".to_string()]).is_err());
        assert!(check_list("repository glob", &["org/*".to_string()]).is_ok());
    }

    #[test]
    fn active_keeps_policy_suspended_denies_pending_follows_the_rule() {
        let shell = call(Action::Shell {
            command: "ls".into(),
        });
        let read = call(Action::FileRead {
            paths: vec!["/w/README.md".into()],
        });
        let allow = decision(Outcome::Allow);
        let g =
            |s, rule, c: &ToolCall, d: &Decision| gate(&assistant(s), false, rule, c, d.clone());

        assert_eq!(g(Status::Active, PendingRule::Deny, &shell, &allow), allow);
        let d = g(Status::Suspended, PendingRule::Ask, &shell, &allow);
        assert_eq!(
            (d.outcome, d.policies[0].as_str()),
            (Outcome::Deny, "assistant-suspended")
        );
        assert!(
            d.reason
                .contains("ward assistant resume ward-ast-0123456789abcdef"),
            "{}",
            d.reason
        );

        let d = g(Status::Pending, PendingRule::Deny, &read, &allow);
        assert_eq!(
            (d.outcome, d.policies[0].as_str()),
            (Outcome::Deny, "assistant-pending")
        );
        assert!(
            d.reason
                .contains("ward assistant approve ward-ast-0123456789abcdef --owner")
        );

        assert_eq!(
            g(Status::Pending, PendingRule::ReadOnly, &read, &allow),
            allow
        );
        let d = g(Status::Pending, PendingRule::ReadOnly, &shell, &allow);
        assert_eq!(d.outcome, Outcome::Deny);
        assert!(d.reason.contains("only read files"));

        let d = g(Status::Pending, PendingRule::Ask, &shell, &allow);
        assert_eq!(d.outcome, Outcome::Ask);
        assert!(
            !d.confirm_locally,
            "a pending assistant's ask needs a real approver"
        );
        assert_eq!(d.policies, ["assistant-pending", "everyday-development"]);

        // A policy deny always stands, whatever the registration.
        let deny = decision(Outcome::Deny);
        for rule in [PendingRule::Deny, PendingRule::ReadOnly, PendingRule::Ask] {
            assert_eq!(g(Status::Pending, rule, &read, &deny), deny);
        }
    }

    #[test]
    fn stale_means_overdue_idle_ownerless_or_owned_by_a_stranger() {
        let day = 86_400_000;
        let now = 100 * day;
        let users = |u: &str| u == "dev";
        let mut a = assistant(Status::Active);
        a.created_ms = 90 * day;
        a.last_seen_ms = Some(99 * day);
        assert!(stale_reasons(&a, &users, now, 30).is_empty());
        a.review_by_ms = Some(now);
        a.last_seen_ms = Some(60 * day);
        a.owner = Some("gone".into());
        let why = stale_reasons(&a, &users, now, 30);
        assert_eq!(why.len(), 3, "{why:?}");
        assert!(why[0].starts_with("review was due") && why[1].starts_with("unused since"));
        assert_eq!(why[2], "owner `gone` is not a ward user");
        a.owner = None;
        a.last_seen_ms = None;
        a.created_ms = 10 * day;
        let why = stale_reasons(&a, &users, now, 30);
        assert!(
            why.contains(&"never used in 30 days".to_string())
                && why.contains(&"no owner".to_string())
        );
        a.status = Status::Retired;
        assert!(stale_reasons(&a, &users, now, 30).is_empty());
    }

    #[test]
    fn enrolled_names_are_valid_names() {
        let n = enrolled_name("claude-code", "build box/1", "d:v", "");
        assert_eq!(n, "claude-code.d-v@build-box-1");
        check_name("assistant", &n).unwrap();
        let long = enrolled_name("codex", &"h".repeat(80), "u", "-abcdef");
        assert_eq!(long.len(), 64);
        assert!(long.ends_with("-abcdef"));
        check_name("assistant", &long).unwrap();
    }
}

/// Risk tiers, least to most sensitive.
pub const TIERS: [&str; 6] = [
    "draft-only",
    "read",
    "write-workspace",
    "execute-network",
    "push-publish",
    "deploy-prod-secrets",
];

/// The action catalogue: for each tier above `draft-only`, calls that stand for it.
fn catalogue(ws: &str, home: &str) -> Vec<(usize, ward_core::Action)> {
    use ward_core::Action;
    let shell = |c: &str| Action::Shell {
        command: c.to_string(),
    };
    vec![
        (
            1,
            Action::FileRead {
                paths: vec![format!("{ws}/README.md")],
            },
        ),
        (
            2,
            Action::FileWrite {
                paths: vec![format!("{ws}/src/lib.rs")],
                content: Some("pub fn f() {}\n".into()),
            },
        ),
        (3, shell("npm test")),
        (
            3,
            Action::WebFetch {
                url: "https://docs.rs/serde".into(),
            },
        ),
        (4, shell("git push origin main")),
        (4, shell("npm publish")),
        (5, shell("kubectl --context prod apply -f deploy.yaml")),
        (5, shell("terraform apply -auto-approve")),
        (
            5,
            Action::FileRead {
                paths: vec![format!("{home}/.aws/credentials")],
            },
        ),
    ]
}

/// An assistant's risk: the most sensitive tier its status and the current policy let it do
/// without anyone's approval, and the most sensitive one it can reach with an approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Risk {
    pub tier: &'static str,
    pub with_approval: &'static str,
}

impl Risk {
    /// As `list`, `show` and the API show it.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({"tier": self.tier, "with_approval": self.with_approval})
    }
}

/// Evaluate the policy set over the action catalogue for `a`, as its calls would be decided now
/// (its status and `pending` rule included; its repositories limit where, not what).
pub fn risk(
    engine: &dyn Fn(&'static str) -> Result<std::sync::Arc<ward_policy::Engine>, WardError>,
    a: &Assistant,
    pending: PendingRule,
) -> Result<Risk, WardError> {
    use ward_core::{Outcome, ToolCall};
    let ws = "/srv/ward-catalogue/workspace";
    let home_dir = crate::ident::home_dir();
    let client = ward_core::ClientKind::ALL
        .into_iter()
        .find(|c| kind_of(*c) == a.kind)
        .unwrap_or(ward_core::ClientKind::ClaudeCode);
    let (mut tier, mut with_approval) = (0, 0);
    for (level, action) in catalogue(ws, &home_dir) {
        let call = ToolCall {
            assistant: ward_core::Assistant {
                client,
                host: a.host.clone(),
                os_user: a.os_user.clone(),
            },
            session_id: "ward-risk".into(),
            tool_use_id: None,
            tool_name: match &action {
                ward_core::Action::Shell { .. } => "Bash",
                ward_core::Action::FileRead { .. } => "Read",
                ward_core::Action::FileWrite { .. } => "Write",
                _ => "WebFetch",
            }
            .into(),
            action,
            input: serde_json::json!({}),
            cwd: ws.into(),
            repo_root: Some(ws.into()),
            agent_id: None,
        };
        let env = ward_policy::NormalizeEnv {
            home: home_dir.clone(),
            cwd: ws.into(),
            repo_root: Some(ws.into()),
            allow_hosts: ward_policy::normalize::default_allow_hosts().into(),
        };
        let facts = ward_policy::normalize::normalize(&call, &env);
        let engine = engine(call.action.kind())?;
        let decision = ward_policy::decide(&engine, &call, &facts)?;
        match gate(a, false, pending, &call, decision).outcome {
            Outcome::Allow => {
                tier = tier.max(level);
                with_approval = with_approval.max(level);
            }
            Outcome::Ask => with_approval = with_approval.max(level),
            Outcome::Deny => {}
        }
    }
    Ok(Risk {
        tier: TIERS[tier],
        with_approval: TIERS[with_approval],
    })
}
