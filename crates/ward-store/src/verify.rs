//! Full verification of the stored log: recompute every leaf, the tree, and check every
//! checkpoint signature and root. Stops at the first bad entry and names it.

use crate::Store;
use std::collections::BTreeMap;
use ward_audit::{Frontier, NoteVerifier};
use ward_core::{ErrorCode, WardError};

/// What an intact log looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifySummary {
    pub events: u64,
    pub checkpoints: u64,
    pub root_hex: String,
}

const BATCH: u64 = 5000;

/// Verify the whole log against the verifier key. `Err` names the first bad entry.
pub fn verify(store: &mut Store, verifier: &NoteVerifier) -> Result<VerifySummary, WardError> {
    let bad = |m: String| WardError::new(ErrorCode::AuditVerify, m);
    let (state_size, state_frontier) = store.tree_state()?;
    let mut checkpoints: BTreeMap<u64, crate::StoredCheckpoint> = BTreeMap::new();
    for cp in store.checkpoints()? {
        checkpoints.insert(cp.size, cp);
    }
    let mut frontier = Frontier::new();
    let mut verified_cps = 0u64;
    let mut next: u64 = 0;
    loop {
        let rows = store.events(next, BATCH)?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            if row.seq != next {
                return Err(bad(format!(
                    "event {next}: missing (next stored sequence number is {})",
                    row.seq
                )));
            }
            let leaf = ward_audit::leaf_hash(&row.body);
            if row.leaf_hash.as_slice() != leaf.as_slice() {
                return Err(bad(format!(
                    "event {} (`{}`): stored leaf hash does not match its bytes",
                    row.seq, row.id
                )));
            }
            let json = row.json()?;
            if json.get("id").and_then(|v| v.as_str()) != Some(row.id.as_str()) {
                return Err(bad(format!(
                    "event {} (`{}`): the id column does not match the event bytes",
                    row.seq, row.id
                )));
            }
            frontier.append(leaf);
            next += 1;
            if let Some(cp) = checkpoints.get(&next) {
                check_checkpoint(verifier, cp, &frontier)?;
                verified_cps += 1;
            }
        }
    }
    if let Some((size, _)) = checkpoints.iter().next_back()
        && *size > next
    {
        return Err(bad(format!(
            "checkpoint for size {size} is beyond the {next} stored events: events were removed"
        )));
    }
    if state_size != next {
        return Err(bad(format!(
            "tree state says {state_size} events but {next} are stored"
        )));
    }
    if let Some(bytes) = state_frontier
        && bytes != frontier.to_bytes()
    {
        return Err(bad(
            "stored tree frontier does not match the recomputed tree".into(),
        ));
    }
    if next > 0 && !checkpoints.contains_key(&next) {
        return Err(bad(format!(
            "no checkpoint covers the latest {next} events"
        )));
    }
    Ok(VerifySummary {
        events: next,
        checkpoints: verified_cps,
        root_hex: hex_encode(&frontier.root()),
    })
}

fn check_checkpoint(
    verifier: &NoteVerifier,
    cp: &crate::StoredCheckpoint,
    frontier: &Frontier,
) -> Result<(), WardError> {
    let bad = |m: String| WardError::new(ErrorCode::AuditVerify, m);
    let opened = ward_audit::open_checkpoint(verifier, &cp.note)
        .map_err(|e| bad(format!("checkpoint {}: {e}", cp.size)))?;
    let root = frontier.root();
    if opened.size != cp.size || opened.root != root || cp.root.as_slice() != root.as_slice() {
        return Err(bad(format!(
            "checkpoint {}: signed root does not match the events it covers",
            cp.size
        )));
    }
    Ok(())
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
