//! Shared body of the `clients_<client>` fuzz targets: parse arbitrary bytes as one client's
//! hook payload (with and without an `--event` hint) and render every reply; nothing may panic,
//! and every deny or error must come out as a non-empty one-line answer that blocks.

use ward_clients::{Origin, event_names, parse, render_ack, render_decision, render_error};
use ward_core::{ClientKind, Decision, HookKind, Outcome};

pub fn check(client: ClientKind, data: &[u8]) {
    let origin = Origin {
        host: "fuzz".into(),
        os_user: "fuzz".into(),
    };
    let names = event_names(client);
    // The first byte picks an `--event` hint (or none); the rest is the payload.
    let (hint, payload) = match data.split_first() {
        Some((&b, rest)) if (b as usize) < names.len() => (Some(names[b as usize].0), rest),
        _ => (None, data),
    };
    match parse(client, payload, hint, &origin) {
        Ok(event) => {
            for outcome in [Outcome::Allow, Outcome::Ask, Outcome::Deny] {
                let decision = Decision {
                    outcome,
                    policies: Vec::new(),
                    reason: String::from_utf8_lossy(payload).into_owned(),
                    facts: Vec::new(),
                    error_code: None,
                };
                let reply = render_decision(client, &event, &decision);
                assert_eq!(reply.exit_code, 0);
                assert!(!reply.stdout.trim_end().contains('\n'));
                if outcome == Outcome::Deny && event.kind == HookKind::PreTool {
                    assert!(reply.stdout.contains("deny"), "{reply:?}");
                }
            }
            let ack = render_ack(client, &event);
            assert_eq!(ack.exit_code, 0);
            if event.kind.needs_decision() {
                assert!(event.call.is_some());
            }
        }
        Err(err) => {
            let reply = render_error(client, hint, &err);
            assert_eq!(reply.exit_code, 2);
            assert!(reply.stderr.starts_with("ward E"), "{reply:?}");
            assert!(reply.stdout.contains("deny"), "{reply:?}");
            assert!(!reply.stdout.trim_end().contains('\n'));
        }
    }
}
