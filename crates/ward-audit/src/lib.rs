//! ward-audit: the tamper-evident core of ward's audit log.
//!
//! A pure crate: no I/O, no clock, no randomness (keys are passed in). It provides
//!
//! - the RFC 6962 / RFC 9162 Merkle hash tree ([`leaf_hash`], [`node_hash`],
//!   [`root_from_leaf_hashes`]), a compact right edge for O(log n) appends ([`Frontier`]),
//!   inclusion and consistency proofs and their verifiers, written line by line after the
//!   RFCs and using their variable names ([`merkle`]);
//! - C2SP signed notes with Ed25519 keys ([`NoteSigner`], [`NoteVerifier`]; <https://c2sp.org/signed-note>);
//! - C2SP tlog checkpoints ([`Checkpoint`], [`sign_checkpoint`], [`open_checkpoint`];
//!   <https://c2sp.org/tlog-checkpoint>);
//! - proof bundles a user can paste and check offline ([`InclusionBundle`],
//!   [`ConsistencyBundle`]; the text format is described in [`bundle`]).
//!
//! Every parser here reads untrusted input and is bounded ([`MAX_NOTE_BYTES`],
//! [`MAX_NOTE_SIGNATURES`], [`bundle::MAX_BUNDLE_BYTES`]).

pub mod bundle;
pub mod checkpoint;
mod error;
pub mod merkle;
pub mod note;

pub use bundle::{ConsistencyBundle, InclusionBundle};
pub use checkpoint::{Checkpoint, open_checkpoint, sign_checkpoint, try_sign_checkpoint};
pub use error::AuditError;
pub use merkle::{
    Frontier, Hash, consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash,
    root_from_leaf_hashes, verify_consistency, verify_inclusion,
};
pub use note::{MAX_NOTE_BYTES, MAX_NOTE_SIGNATURES, NoteSigner, NoteVerifier};
