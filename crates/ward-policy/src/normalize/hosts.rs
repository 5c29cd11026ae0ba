//! Host extraction (URLs, `user@host:path`, bare names) and classification against the allowlist.

use crate::facts::NormalizeEnv;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where a host sits, from most to least trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    /// `localhost`, `127.0.0.0/8`, `::1`, `0.0.0.0`.
    Loopback,
    /// Cloud metadata endpoints (`169.254.169.254`, `metadata.google.internal`, …).
    Metadata,
    /// RFC 1918 / link-local / ULA addresses, single-label names, `.local`/`.internal`.
    Private,
    /// On the egress allowlist (suffix match on whole labels).
    Allowlisted,
    /// Anything else.
    External,
}

/// A classified host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostClass {
    /// Canonical form: lowercase, no trailing dot, no brackets, no port.
    pub host: String,
    pub kind: HostKind,
    /// Mixed scripts, homoglyphs, invisible or control characters in the name.
    pub homoglyph: bool,
}

impl HostClass {
    /// Neither loopback, private, metadata nor allowlisted.
    pub fn is_external(&self) -> bool {
        self.kind == HostKind::External
    }
}

/// The hosts an ordinary development session talks to.
pub fn default_allow_hosts() -> Vec<String> {
    [
        "github.com",
        "api.github.com",
        "raw.githubusercontent.com",
        "objects.githubusercontent.com",
        "codeload.github.com",
        "gitlab.com",
        "bitbucket.org",
        "registry.npmjs.org",
        "registry.yarnpkg.com",
        "npmjs.com",
        "crates.io",
        "static.crates.io",
        "index.crates.io",
        "static.rust-lang.org",
        "docs.rs",
        "pypi.org",
        "files.pythonhosted.org",
        "proxy.golang.org",
        "sum.golang.org",
        "pkg.go.dev",
        "rubygems.org",
        "repo.maven.apache.org",
        "repo1.maven.org",
        "plugins.gradle.org",
        "services.gradle.org",
        "nuget.org",
        "api.nuget.org",
        "packagist.org",
        "hex.pm",
        "docker.io",
        "registry-1.docker.io",
        "auth.docker.io",
        "production.cloudflare.docker.com",
        "ghcr.io",
        "quay.io",
        "gcr.io",
        "deb.debian.org",
        "security.debian.org",
        "archive.ubuntu.com",
        "security.ubuntu.com",
        "dl-cdn.alpinelinux.org",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect()
}

/// Classify one host name or IP literal (a port or brackets are tolerated).
pub fn classify_host(host: &str, env: &NormalizeEnv) -> HostClass {
    let canonical = canonical_host(host);
    let homoglyph =
        super::text::suspicious_unicode(&canonical) || canonical.chars().any(|c| c.is_control());
    let kind = match parse_ip(&canonical) {
        Some(ip) => ip_kind(ip),
        None => name_kind(&canonical, env),
    };
    HostClass {
        host: canonical,
        kind,
        homoglyph,
    }
}

/// Lowercase; strip brackets, port, trailing dot, userinfo.
pub(crate) fn canonical_host(host: &str) -> String {
    let host = host.trim();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = if let Some(rest) = host.strip_prefix('[') {
        rest.split_once(']').map_or(rest, |(h, _)| h)
    } else if host.matches(':').count() == 1 {
        host.split_once(':').map_or(host, |(h, _)| h)
    } else {
        host
    };
    host.trim_end_matches('.').to_lowercase()
}

/// IPv4 in every form `inet_aton` accepts (`2130706433`, `0x7f.1`, `127.1`) and IPv6.
fn parse_ip(host: &str) -> Option<IpAddr> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(ip);
    }
    let parts: Vec<&str> = host.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let nums: Option<Vec<u64>> = parts.iter().map(|p| parse_inet_num(p)).collect();
    let nums = nums?;
    let (last, head) = nums.split_last()?;
    let mut value: u64 = 0;
    for (i, n) in head.iter().enumerate() {
        if *n > 255 {
            return None;
        }
        value |= n << (24 - 8 * i);
    }
    let shift_bits = 8 * (4 - nums.len() as u64 + 1);
    if shift_bits < 64 && *last >= (1u64 << shift_bits) {
        return None;
    }
    value |= last;
    u32::try_from(value)
        .ok()
        .map(|v| IpAddr::V4(Ipv4Addr::from(v)))
}

fn parse_inet_num(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok();
    }
    if part.len() > 1 && part.starts_with('0') {
        return u64::from_str_radix(part, 8).ok();
    }
    part.parse().ok()
}

fn ip_kind(ip: IpAddr) -> HostKind {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_kind(v4);
            }
            v6_kind(v6)
        }
    }
}

fn v4_kind(ip: Ipv4Addr) -> HostKind {
    let o = ip.octets();
    if ip.is_loopback() || ip.is_unspecified() {
        HostKind::Loopback
    } else if o == [169, 254, 169, 254]
        || o == [169, 254, 170, 2]
        || o == [100, 100, 100, 200]
        || o == [169, 254, 169, 123]
    {
        HostKind::Metadata
    } else if ip.is_private() || ip.is_link_local() || (o[0] == 100 && (64..128).contains(&o[1])) {
        HostKind::Private
    } else {
        HostKind::External
    }
}

fn v6_kind(ip: Ipv6Addr) -> HostKind {
    let seg = ip.segments();
    if ip.is_loopback() || ip.is_unspecified() {
        HostKind::Loopback
    } else if seg == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254] {
        HostKind::Metadata
    } else if (seg[0] & 0xfe00) == 0xfc00 || (seg[0] & 0xffc0) == 0xfe80 {
        HostKind::Private
    } else {
        HostKind::External
    }
}

fn name_kind(host: &str, env: &NormalizeEnv) -> HostKind {
    if host == "localhost" || host.ends_with(".localhost") || host == "ip6-localhost" {
        return HostKind::Loopback;
    }
    if matches!(
        host,
        "metadata.google.internal"
            | "metadata"
            | "metadata.goog"
            | "instance-data"
            | "instance-data.ec2.internal"
    ) {
        return HostKind::Metadata;
    }
    let allow: &[String] = &env.allow_hosts;
    let listed = |suffix: &String| {
        let s = suffix
            .trim_start_matches("*.")
            .trim_start_matches('.')
            .to_lowercase();
        !s.is_empty() && (host == s || host.ends_with(&format!(".{s}")))
    };
    if allow.iter().any(listed) {
        return HostKind::Allowlisted;
    }
    if !host.contains('.')
        || [
            ".local",
            ".internal",
            ".lan",
            ".localdomain",
            ".home.arpa",
            ".intranet",
            ".corp",
        ]
        .iter()
        .any(|s| host.ends_with(s))
    {
        return HostKind::Private;
    }
    HostKind::External
}

/// The parts of a URL or remote address this crate cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Remote {
    pub host: String,
    /// A password or token in the userinfo (`https://user:TOKEN@host`), or a bare token user.
    pub has_credential: bool,
    /// Text after the host (path and query).
    pub rest: String,
}

/// Parse `scheme://[userinfo@]host[:port]/…`. Returns `None` when there is no `://`.
pub(crate) fn parse_url(s: &str) -> Option<Remote> {
    let (scheme, after) = s.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let host = canonical_host(hostport);
    if host.is_empty() {
        return None;
    }
    let has_credential = userinfo.is_some_and(|u| {
        u.contains(':')
            || u.starts_with("ghp_")
            || u.starts_with("github_pat_")
            || u.starts_with("glpat-")
            || u.len() >= 32
    });
    Some(Remote {
        host,
        has_credential,
        rest: rest.to_string(),
    })
}

/// A URL, an scp-style `[user@]host:path`, or (when `bare_ok`) a bare `host[/path]`.
pub(crate) fn parse_remote(s: &str, bare_ok: bool) -> Option<Remote> {
    if s.contains("://") {
        return parse_url(s);
    }
    if s.starts_with(['/', '.', '~', '-']) || s.is_empty() {
        return None;
    }
    // scp-like: user@host:path or host:path (no slash before the colon).
    if let Some((left, rest)) = s.split_once(':')
        && !left.contains('/')
        && !left.is_empty()
        && !rest.starts_with("//")
    {
        let host = left.rsplit_once('@').map_or(left, |(_, h)| h);
        if looks_like_host(host) && (left.contains('@') || host.contains('.') || bare_ok) {
            return Some(Remote {
                host: canonical_host(host),
                has_credential: false,
                rest: rest.to_string(),
            });
        }
    }
    if bare_ok {
        let end = s.find(['/', '?', '#']).unwrap_or(s.len());
        let (hostpart, rest) = s.split_at(end);
        let host = hostpart.rsplit_once('@').map_or(hostpart, |(_, h)| h);
        if looks_like_host(&canonical_host(host)) {
            return Some(Remote {
                host: canonical_host(host),
                has_credential: false,
                rest: rest.to_string(),
            });
        }
    }
    None
}

/// Letters, digits, `-`, `.`, `_`, `:` (IPv6) or non-ASCII (IDN); at least one character.
pub(crate) fn looks_like_host(h: &str) -> bool {
    let h = h.trim_start_matches('[').trim_end_matches(']');
    !h.is_empty()
        && !h.starts_with('-')
        && h.chars().all(|c| {
            c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | ':' | '\u{1}') || !c.is_ascii()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> NormalizeEnv {
        NormalizeEnv {
            allow_hosts: default_allow_hosts().into(),
            ..NormalizeEnv::default()
        }
    }

    #[test]
    fn kinds() {
        let e = env();
        assert_eq!(classify_host("127.0.0.1:3000", &e).kind, HostKind::Loopback);
        assert_eq!(classify_host("2130706433", &e).kind, HostKind::Loopback);
        assert_eq!(classify_host("[::1]", &e).kind, HostKind::Loopback);
        assert_eq!(
            classify_host("169.254.169.254", &e).kind,
            HostKind::Metadata
        );
        assert_eq!(
            classify_host("metadata.google.internal", &e).kind,
            HostKind::Metadata
        );
        assert_eq!(classify_host("10.1.2.3", &e).kind, HostKind::Private);
        assert_eq!(classify_host("db", &e).kind, HostKind::Private);
        assert_eq!(classify_host("GitHub.com.", &e).kind, HostKind::Allowlisted);
        assert_eq!(
            classify_host("api.github.com", &e).kind,
            HostKind::Allowlisted
        );
        assert_eq!(classify_host("notgithub.com", &e).kind, HostKind::External);
        assert_eq!(classify_host("203.0.113.7", &e).kind, HostKind::External);
        let g = classify_host("g\u{0456}thub.com", &e);
        assert!(g.homoglyph && g.is_external());
        assert!(!classify_host("münchen.de", &e).homoglyph);
    }

    #[test]
    fn remotes() {
        let r = parse_url("https://x-access-token:abc@github.com/a/b.git").unwrap();
        assert_eq!(r.host, "github.com");
        assert!(r.has_credential);
        assert_eq!(
            parse_remote("git@github.com:a/b.git", false).unwrap().host,
            "github.com"
        );
        assert_eq!(
            parse_remote("example.com/x", true).unwrap().host,
            "example.com"
        );
        assert!(parse_remote("./file", true).is_none());
        assert!(parse_remote("src/main.rs", false).is_none());
    }
}
