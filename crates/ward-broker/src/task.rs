//! Tasks: one unit of delegated work (requester, assistant, repository, environment, scopes,
//! TTL), and the lifetimes of what is issued inside one.

use crate::scope::{self, Scope};
pub use ward_store::tasks::{State, Task};

/// A task lives this long unless `--ttl` says otherwise.
pub const DEFAULT_TASK_TTL_MS: u64 = 60 * 60 * 1000;
/// No task lives longer, and no token outlives this after it was issued.
pub const MAX_TTL_MS: u64 = 8 * 60 * 60 * 1000;
/// A task token lives this long (renewable while its task lives).
pub const DEFAULT_TOKEN_TTL_MS: u64 = 15 * 60 * 1000;

/// When a token issued at `now_ms` for `ttl_ms` must expire: never after its task, never more
/// than [`MAX_TTL_MS`] from now.
pub fn token_expiry(task: &Task, now_ms: u64, ttl_ms: u64) -> u64 {
    now_ms
        .saturating_add(ttl_ms.min(MAX_TTL_MS))
        .min(task.expires_ms)
}

/// The scopes a task starts with: its repository and environment, and `extra` where each lies
/// within what the registration allows (its repository globs and environments; none listed:
/// any repository, no environment).
pub fn initial_scopes(
    repo: &str,
    env: Option<&str>,
    allowed_repos: &[String],
    allowed_envs: &[String],
    extra: &[Scope],
) -> Result<Vec<Scope>, String> {
    if !allowed_repos.is_empty()
        && !allowed_repos
            .iter()
            .any(|g| ward_core::glob::matches(g, repo))
    {
        return Err(format!(
            "repository `{repo}` is not one of the assistant's ({})",
            allowed_repos.join(", ")
        ));
    }
    if let Some(e) = env
        && !allowed_envs.iter().any(|g| ward_core::glob::matches(g, e))
    {
        return Err(if allowed_envs.is_empty() {
            format!("environment `{e}` is not allowed: the assistant has no environments")
        } else {
            format!(
                "environment `{e}` is not one of the assistant's ({})",
                allowed_envs.join(", ")
            )
        });
    }
    let mut base = vec![Scope::new("repo", repo)];
    if let Some(e) = env {
        base.push(Scope::new("env", e));
    }
    // Extras may name other kinds (a secret, a database); what they may not do is reach another
    // repository or environment than the task's.
    for x in extra {
        if (x.kind == "repo" || x.kind == "env") && !base.iter().any(|b| x.within(b)) {
            return Err(format!("scope `{x}` reaches beyond the task's {}", x.kind));
        }
    }
    let mut all: Vec<Scope> = base.into_iter().chain(extra.iter().cloned()).collect();
    all.sort();
    all.dedup();
    Ok(all)
}

/// The scopes of a child task: the parent's, narrowed by `requested`.
pub fn child_scopes(parent: &Task, requested: &[Scope]) -> Result<Vec<Scope>, String> {
    let theirs = scope::parse_all(&parent.scopes)
        .map_err(|s| format!("the parent task {} has a malformed scope `{s}`", parent.id))?;
    scope::narrow(&theirs, requested)
        .map_err(|s| format!("scope `{s}` would widen the parent task {}", parent.id))
}

/// `90s`, `15m`, `2h`, `1d` or a bare number of seconds → milliseconds, within
/// [`MAX_TTL_MS`].
pub fn parse_ttl(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration; use e.g. 90s, 15m, 2h"))?;
    let per = match unit {
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("`{s}` is not a duration; use e.g. 90s, 15m, 2h")),
    };
    let ms = n.saturating_mul(per);
    if ms == 0 {
        return Err(format!("`{s}` is no time at all"));
    }
    if ms > MAX_TTL_MS {
        return Err(format!(
            "`{s}` is longer than the 8h a task or token may live"
        ));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn task() -> Task {
        Task {
            id: "ward-task-1".into(),
            parent: None,
            requester: "alice".into(),
            assistant: "ward-ast-1".into(),
            repo: "acme/api".into(),
            env: None,
            scopes: vec!["repo:acme/api".into()],
            actors: vec![
                "user:alice".into(),
                "assistant:ward-ast-1".into(),
                "agent:reviewer".into(),
            ],
            session_id: None,
            created_ms: 1_000,
            expires_ms: 1_000 + DEFAULT_TASK_TTL_MS,
            ended_ms: None,
            end_reason: None,
        }
    }

    #[test]
    fn tasks_live_until_ended_or_expired() {
        let mut t = task();
        assert_eq!(t.state(2_000), State::Live);
        assert_eq!(t.state(t.expires_ms), State::Expired);
        t.ended_ms = Some(1_500);
        assert_eq!(t.state(2_000), State::Ended);
    }

    #[test]
    fn tokens_never_outlive_their_task() {
        let t = task();
        assert_eq!(token_expiry(&t, 1_000, 60_000), 61_000);
        assert_eq!(token_expiry(&t, 1_000, 10 * MAX_TTL_MS), t.expires_ms);
        assert_eq!(
            t.act_chain(),
            vec!["agent:reviewer".to_string(), "assistant:ward-ast-1".into()]
        );
    }

    #[test]
    fn scopes_start_within_the_registration() {
        let s = initial_scopes(
            "acme/api",
            Some("staging"),
            &["acme/*".into()],
            &["staging".into()],
            &[Scope::new("secret", "npm")],
        )
        .unwrap();
        assert_eq!(
            crate::scope::to_strings(&s),
            ["env:staging", "repo:acme/api", "secret:npm"]
        );
        assert!(initial_scopes("other/api", None, &["acme/*".into()], &[], &[]).is_err());
        assert!(initial_scopes("acme/api", Some("prod"), &[], &["staging".into()], &[]).is_err());
        assert!(initial_scopes("acme/api", Some("prod"), &[], &[], &[]).is_err());
        assert!(
            initial_scopes("acme/api", None, &[], &[], &[Scope::new("repo", "acme/*")]).is_err()
        );
        assert!(initial_scopes("acme/api", None, &[], &[], &[]).is_ok());
    }

    #[test]
    fn children_only_narrow() {
        let t = task();
        assert!(child_scopes(&t, &[Scope::new("repo", "acme/*")]).is_err());
        assert_eq!(
            crate::scope::to_strings(&child_scopes(&t, &[]).unwrap()),
            t.scopes
        );
    }

    #[test]
    fn ttls_parse_within_the_cap() {
        assert_eq!(parse_ttl("90s").unwrap(), 90_000);
        assert_eq!(parse_ttl("15m").unwrap(), 900_000);
        assert_eq!(parse_ttl("2h").unwrap(), 7_200_000);
        assert_eq!(parse_ttl("30").unwrap(), 30_000);
        for bad in ["", "m", "0s", "9h", "1d", "5w", "-1m", "1.5h"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
