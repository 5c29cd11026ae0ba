//! Creating users, their API keys and hook tokens: the one implementation behind the CLI (which
//! the owner of `$WARD_HOME` runs without a key) and the admin API.

use crate::keys::{API_KEY_PREFIX, HOOK_TOKEN_PREFIX, new_key_id, new_secret, secret_hash};
use crate::service::now_ms;
use ward_core::{ErrorCode, WardError};
use ward_store::conn::ConnRef;
use ward_store::people::{self, Role, User};
use ward_store::{append_err, read_err};

/// A user or token name: 1–64 of `[A-Za-z0-9._@-]`, starting with a letter or digit.
pub fn check_name(what: &str, name: &str) -> Result<(), WardError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'));
    if ok {
        Ok(())
    } else {
        Err(WardError::new(
            ErrorCode::BadInput,
            format!(
                "`{name}` is not a valid {what} name: use 1-64 letters, digits, `.`, `_`, `@` or `-`, starting with a letter or digit"
            ),
        ))
    }
}

pub fn parse_role(role: &str) -> Result<Role, WardError> {
    Role::parse(role).ok_or_else(|| {
        WardError::new(
            ErrorCode::BadInput,
            format!("unknown role `{role}`; use viewer, approver or admin"),
        )
    })
}

/// Add a user and issue their first API key (returned once, never stored).
pub async fn add(mut c: ConnRef<'_>, name: &str, role: &str) -> Result<(User, String), WardError> {
    check_name("user", name)?;
    let role = parse_role(role)?;
    let now = now_ms();
    if !people::add_user(c.reborrow(), name, role, now)
        .await
        .map_err(append_err)?
    {
        return Err(WardError::new(
            ErrorCode::BadInput,
            format!("a user named `{name}` already exists"),
        ));
    }
    let key = issue_key(c.reborrow(), name).await?;
    let user = people::user(c, name)
        .await
        .map_err(read_err)?
        .ok_or_else(|| WardError::new(ErrorCode::NotFound, format!("no user `{name}`")))?;
    Ok((user, key))
}

/// A new API key for an existing user.
pub async fn issue_key(c: ConnRef<'_>, name: &str) -> Result<String, WardError> {
    let key = new_secret(API_KEY_PREFIX)?;
    people::add_key(c, &new_key_id()?, name, &secret_hash(&key), now_ms())
        .await
        .map_err(append_err)?;
    Ok(key)
}

/// Create or rotate the bearer token of an HTTP hook.
pub async fn hook_token(c: ConnRef<'_>, name: &str) -> Result<String, WardError> {
    check_name("hook token", name)?;
    let token = new_secret(HOOK_TOKEN_PREFIX)?;
    people::set_hook_token(c, name, &secret_hash(&token), now_ms())
        .await
        .map_err(append_err)?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("user", "alice").is_ok());
        assert!(check_name("user", "ci-bot@build.1").is_ok());
        for bad in ["", "-x", "a b", "a/b", &"x".repeat(65), "ünï"] {
            assert_eq!(
                check_name("user", bad).unwrap_err().code,
                ErrorCode::BadInput,
                "{bad}"
            );
        }
        assert_eq!(parse_role("approver").unwrap(), Role::Approver);
        assert!(parse_role("root").is_err());
    }
}
