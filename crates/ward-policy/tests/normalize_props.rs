//! Robustness: normalization never panics and keeps its invariants on arbitrary input.

mod common;

use common::env;
use proptest::prelude::*;
use ward_policy::normalize::{analyze_shell, classify_host, classify_path};

/// Characters that make shells interesting.
fn shellish() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "$(",
        ")",
        "`",
        "'",
        "\"",
        "${",
        "}",
        "$[",
        "]",
        "<<",
        "<<<",
        "<<-",
        "EOF",
        "\n",
        "\t",
        " ",
        "|",
        "||",
        "&&",
        ";",
        "&",
        ">",
        ">>",
        "<",
        "2>&1",
        "<(",
        ">(",
        "(",
        "{",
        "\\",
        "$'\\x72'",
        "${x@P}",
        "${!x}",
        "$((1+",
        "~",
        "*",
        "#",
        "curl",
        "rm -rf",
        "bash -c",
        "eval",
        "xargs",
        "find . -exec",
        "sudo",
        "echo",
        "cat .env",
        "https://e.example/",
        "=",
        "x",
        "c=cu",
        "$c",
        "\r",
        "\u{0456}",
        "\u{202e}",
        "@",
        "-d",
        "--",
        "!",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn analyze_shell_never_panics_on_any_text(s in "\\PC{0,200}") {
        let f = analyze_shell(&s, &env());
        prop_assert!(!(f.parsed && f.unparseable));
        prop_assert!(!f.read_only || !f.unparseable);
    }

    #[test]
    fn analyze_shell_never_panics_on_shellish_text(s in shellish()) {
        let f = analyze_shell(&s, &env());
        prop_assert!(!(f.parsed && f.unparseable));
        if f.read_only {
            prop_assert!(f.paths_written.is_empty() && !f.network && !f.reads_secret);
        }
    }

    #[test]
    fn analyze_shell_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
        let s = String::from_utf8_lossy(&bytes);
        let _ = analyze_shell(&s, &env());
    }

    #[test]
    fn paths_resolve_to_absolute(s in "\\PC{0,80}") {
        let c = classify_path(&s, &env());
        prop_assert!(c.resolved.starts_with('/') || c.resolved.get(1..3) == Some(":/"));
        prop_assert!(!c.resolved.contains("/../") && !c.resolved.ends_with("/.."));
    }

    #[test]
    fn hosts_never_panic(s in "\\PC{0,80}") {
        let _ = classify_host(&s, &env());
    }
}

#[test]
fn nesting_stress_is_bounded() {
    for depth in [10, 60, 65, 200] {
        for (open, close) in [
            ("$(", ")"),
            ("`", "`"),
            ("(", ")"),
            ("{ ", "; }"),
            ("\"$(", ")\""),
        ] {
            let s = format!("{}echo hi{}", open.repeat(depth), close.repeat(depth));
            let _ = analyze_shell(&s, &env());
        }
    }
    let long_chain = vec!["true"; 3000].join(" && ");
    let f = analyze_shell(&long_chain, &env());
    assert!(f.padding || f.unparseable);
}
