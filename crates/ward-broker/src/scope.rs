//! What a task may reach: scopes of the form `kind:glob` (`repo:acme/api`, `env:staging`,
//! `git:github.com/acme/*`, `secret:deploy-key`, `postgres:analytics`). A task's scopes come from
//! its assistant's registration and its repository; a child task's can only narrow its parent's.

use ward_core::glob;

/// One scope, parsed: a lowercase kind and a non-empty glob without whitespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scope {
    pub kind: String,
    pub value: String,
}

impl Scope {
    /// `kind:value`; `None` unless the kind is `[a-z][a-z0-9-]*` and the value is non-empty
    /// with no whitespace (scopes travel space-delimited in tokens).
    pub fn parse(s: &str) -> Option<Scope> {
        let (kind, value) = s.split_once(':')?;
        let mut k = kind.chars();
        let kind_ok = k.next().is_some_and(|c| c.is_ascii_lowercase())
            && k.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let value_ok = !value.is_empty() && !value.chars().any(char::is_whitespace);
        (kind_ok && value_ok).then(|| Scope {
            kind: kind.to_string(),
            value: value.to_string(),
        })
    }

    pub fn new(kind: &str, value: &str) -> Scope {
        Scope {
            kind: kind.to_string(),
            value: value.to_string(),
        }
    }

    /// Whether every use this scope allows, `outer` allows too.
    pub fn within(&self, outer: &Scope) -> bool {
        self.kind == outer.kind && glob::covers(&outer.value, &self.value)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

/// Parse a list of scopes; the first that does not parse is the error.
pub fn parse_all<S: AsRef<str>>(items: &[S]) -> Result<Vec<Scope>, String> {
    items
        .iter()
        .map(|s| Scope::parse(s.as_ref()).ok_or_else(|| s.as_ref().to_string()))
        .collect()
}

/// The scopes a child gets: `requested` if each lies within one of `parent`'s (none requested:
/// the parent's own), else the first that would widen them.
pub fn narrow(parent: &[Scope], requested: &[Scope]) -> Result<Vec<Scope>, Scope> {
    if requested.is_empty() {
        return Ok(parent.to_vec());
    }
    for r in requested {
        if !parent.iter().any(|p| r.within(p)) {
            return Err(r.clone());
        }
    }
    let mut out = requested.to_vec();
    out.sort();
    out.dedup();
    Ok(out)
}

/// Whether `scopes` allow `kind` for the concrete `name` (a host/repository, a secret, …).
pub fn permits(scopes: &[Scope], kind: &str, name: &str) -> bool {
    scopes
        .iter()
        .any(|s| s.kind == kind && glob::matches(&s.value, name))
}

/// Space-delimited, as tokens carry them.
pub fn to_strings(scopes: &[Scope]) -> Vec<String> {
    scopes.iter().map(Scope::to_string).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn s(v: &[&str]) -> Vec<Scope> {
        parse_all(v).unwrap()
    }

    #[test]
    fn scopes_parse_strictly() {
        assert_eq!(
            Scope::parse("repo:acme/api"),
            Some(Scope::new("repo", "acme/api"))
        );
        assert_eq!(Scope::parse("git:github.com/acme/*").unwrap().kind, "git");
        for bad in [
            "repo", "repo:", ":x", "Repo:x", "repo:a b", "1x:y", "re po:x",
        ] {
            assert_eq!(Scope::parse(bad), None, "{bad}");
        }
        assert_eq!(parse_all(&["repo:a", "nope"]), Err("nope".to_string()));
    }

    #[test]
    fn a_child_may_narrow_but_never_widen() {
        let parent = s(&["repo:acme/*", "env:staging", "secret:ci-*"]);
        assert_eq!(narrow(&parent, &[]).unwrap(), parent);
        assert_eq!(
            narrow(&parent, &s(&["repo:acme/api", "secret:ci-npm"])).unwrap(),
            s(&["repo:acme/api", "secret:ci-npm"])
        );
        assert_eq!(
            narrow(&parent, &s(&["repo:acme/api", "env:prod"])),
            Err(Scope::new("env", "prod"))
        );
        assert_eq!(
            narrow(&parent, &s(&["repo:**"])),
            Err(Scope::new("repo", "**"))
        );
        assert_eq!(
            narrow(&parent, &s(&["secret:*"])),
            Err(Scope::new("secret", "*"))
        );
        // The same value under another kind is not within.
        assert!(narrow(&parent, &s(&["git:acme/api"])).is_err());
    }

    #[test]
    fn permits_matches_concrete_names() {
        let scopes = s(&["git:github.com/acme/*", "secret:deploy"]);
        assert!(permits(&scopes, "git", "github.com/acme/api"));
        assert!(!permits(&scopes, "git", "github.com/other/api"));
        assert!(!permits(&scopes, "secret", "deploy2"));
        assert!(!permits(&scopes, "repo", "github.com/acme/api"));
    }
}
