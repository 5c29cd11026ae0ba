//! The assistant registry's rules: the one implementation behind the CLI (which the owner of
//! `$WARD_HOME` runs without a key) and, later, the admin API.
//!
//! Lifecycle: `register` (by an admin, with an owner) makes an assistant active; one first seen
//! by a hook is enrolled as pending and `approve` activates it, naming its owner. `suspend`
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
        if item.is_empty() || item.len() > 256 || item.chars().any(char::is_control) {
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
