//! Parse + render of a Claude Code `PreToolUse` Bash payload (the hook's hot path in this crate).
//!
//! Run: `cargo bench -p ward-clients --bench parse`

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use ward_clients::{Origin, parse, render_decision};
use ward_core::{ClientKind, Decision, Outcome};

const PAYLOAD: &[u8] = include_bytes!("../tests/samples/claude-PreToolUse.json");

fn bench(c: &mut Criterion) {
    let origin = Origin {
        host: "devbox".into(),
        os_user: "alice".into(),
    };
    let deny = Decision {
        outcome: Outcome::Deny,
        policies: vec!["deny-exfil".into()],
        reason: "curl to an unknown host with secret material is not allowed".into(),
        facts: vec![],
        error_code: None,
        confirm_locally: false,
    };
    c.bench_function("claude_bash_parse", |b| {
        b.iter(|| parse(ClientKind::ClaudeCode, black_box(PAYLOAD), None, &origin))
    });
    c.bench_function("claude_bash_parse_render_deny", |b| {
        b.iter(|| {
            let event = parse(ClientKind::ClaudeCode, black_box(PAYLOAD), None, &origin);
            event.map(|e| render_decision(ClientKind::ClaudeCode, &e, &deny))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
