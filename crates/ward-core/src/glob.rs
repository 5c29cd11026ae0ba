//! Globs over `/`-separated names (repositories, hosts, scope values): `*` is any run of
//! characters within one segment, `**` any run across segments, `?` one character other than
//! `/`; everything else is literal.

/// Whether `name` matches `glob`.
pub fn matches(glob: &str, name: &str) -> bool {
    fn go(g: &[char], n: &[char]) -> bool {
        match g.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) if rest.first() == Some(&'*') => {
                let rest = &rest[1..];
                (0..=n.len()).any(|i| go(rest, &n[i..]))
            }
            Some(('*', rest)) => {
                let seg = n.iter().position(|c| *c == '/').unwrap_or(n.len());
                (0..=seg).any(|i| go(rest, &n[i..]))
            }
            Some(('?', rest)) => n.first().is_some_and(|c| *c != '/') && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let (g, n): (Vec<char>, Vec<char>) = (glob.chars().collect(), name.chars().collect());
    go(&g, &n)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    One,
    Star,
    Globstar,
}

fn tokens(glob: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                Tok::Globstar
            }
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Lit(c),
        });
    }
    out
}

/// Whether every name `inner` matches is also matched by `outer`: what lets a child task's
/// scope be accepted only when it narrows its parent's. Sound, and exact for the globs people
/// write (it may refuse an exotic glob that in fact narrows).
pub fn covers(outer: &str, inner: &str) -> bool {
    fn go(o: &[Tok], i: &[Tok]) -> bool {
        match o.split_first() {
            None => i.is_empty(),
            Some((Tok::Globstar, rest)) => (0..=i.len()).any(|k| go(rest, &i[k..])),
            Some((Tok::Star, rest)) => {
                // Within one segment: up to the first `/` (or `**`, which may cross one).
                let seg = i
                    .iter()
                    .position(|t| matches!(t, Tok::Lit('/') | Tok::Globstar))
                    .unwrap_or(i.len());
                (0..=seg).any(|k| go(rest, &i[k..]))
            }
            Some((Tok::One, rest)) => {
                let one = match i.first() {
                    Some(Tok::One) => true,
                    Some(Tok::Lit(c)) => *c != '/',
                    _ => false,
                };
                one && go(rest, &i[1..])
            }
            Some((Tok::Lit(c), rest)) => i.first() == Some(&Tok::Lit(*c)) && go(rest, &i[1..]),
        }
    }
    go(&tokens(outer), &tokens(inner))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn globs_match_within_and_across_segments() {
        assert!(matches("acme/*", "acme/api"));
        assert!(!matches("acme/*", "acme/api/extra"));
        assert!(!matches("acme/*", "other/api"));
        assert!(matches("github.com/acme/**", "github.com/acme/team/api"));
        assert!(matches("/home/dev/work/*", "/home/dev/work/api"));
        assert!(matches("acme/ap?", "acme/api"));
        assert!(matches("acme/api", "acme/api"));
        assert!(!matches("acme/api", "acme/api2"));
    }

    #[test]
    fn a_glob_covers_only_what_narrows_it() {
        assert!(covers("acme/*", "acme/api"));
        assert!(covers("acme/*", "acme/*"));
        assert!(covers("acme/*", "acme/a?i"));
        assert!(covers("acme/**", "acme/*/x"));
        assert!(covers("**", "anything/at/all"));
        assert!(!covers("acme/api", "acme/*"));
        assert!(!covers("acme/*", "acme/**"));
        assert!(!covers("acme/*", "acme/api/x"));
        assert!(!covers("a?", "a*"));
        assert!(!covers("acme/*", "*/api"));
        assert!(!covers("prod", "prod*"));
    }

    /// A concrete name drawn from an inner glob.
    fn instance(glob: &str, fill: &str) -> String {
        tokens(glob)
            .iter()
            .map(|t| match t {
                Tok::Lit(c) => c.to_string(),
                Tok::One => fill.chars().next().unwrap_or('x').to_string(),
                Tok::Star => fill.to_string(),
                Tok::Globstar => format!("{fill}/{fill}"),
            })
            .collect()
    }

    proptest! {
        #[test]
        fn what_is_covered_is_matched(
            outer in "[ab/*?]{0,6}",
            inner in "[ab/*?]{0,6}",
            fill in "[ab]{0,3}",
        ) {
            if covers(&outer, &inner) {
                let name = instance(&inner, &fill);
                prop_assert!(matches(&inner, &name), "{inner} must match {name}");
                prop_assert!(matches(&outer, &name), "{outer} covers {inner} but not {name}");
            }
        }
    }
}
