//! The one error type of this crate.

/// Why a proof, note, checkpoint or bundle was rejected.
///
/// Messages are lowercase, one line, without a trailing period; [`AuditError::code`] is a
/// stable identifier and [`AuditError::help`] a line telling a user what to do.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AuditError {
    /// A leaf index at or beyond the tree size.
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    /// A consistency proof asked from a bigger tree to a smaller one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    SizeOrder { old_size: u64, new_size: u64 },
    /// A tree that already holds 2^64 - 1 leaves.
    #[error("the tree is full")]
    TreeFull,
    /// A proof with hashes left over once the tree sizes are accounted for.
    #[error("proof has more hashes than the tree sizes allow")]
    ProofTooLong,
    /// A proof that runs out of hashes before reaching the root.
    #[error("proof has fewer hashes than the tree sizes require")]
    ProofTooShort,
    /// An inclusion proof (or a consistency proof between equal sizes) that leads elsewhere.
    #[error("recomputed root hash does not match the expected root hash")]
    RootMismatch,
    /// A consistency proof that does not lead to the old root.
    #[error("recomputed old root hash does not match the old tree head")]
    OldRootMismatch,
    /// A consistency proof that does not lead to the new root.
    #[error("recomputed new root hash does not match the new tree head")]
    NewRootMismatch,
    /// Bytes that are not a [`crate::Frontier`] encoding.
    #[error("malformed frontier encoding: {0}")]
    MalformedFrontier(&'static str),
    /// Text that is not a C2SP checkpoint body.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    /// Text that is not a C2SP signed note.
    #[error("malformed note: {0}")]
    MalformedNote(&'static str),
    /// A key name that is empty or holds a space, a plus or a control character.
    #[error("invalid key name `{0}`")]
    InvalidKeyName(String),
    /// A verifier key that is not `<name>+<hex key id>+<base64 key>`.
    #[error("malformed verifier key: {0}")]
    MalformedVerifierKey(&'static str),
    /// A signature line from the trusted key that does not verify.
    #[error("invalid signature from key `{0}`")]
    BadSignature(String),
    /// A note that carries no signature from the trusted key.
    #[error("note has no signature from key `{0}`")]
    NoSignature(String),
    /// Text that is not a proof bundle.
    #[error("malformed bundle at line {line}: {reason}")]
    MalformedBundle { line: usize, reason: &'static str },
    /// A bundle whose proof and checkpoint speak of different trees.
    #[error("bundle does not match its checkpoint: {0}")]
    BundleMismatch(&'static str),
}

impl AuditError {
    /// A stable identifier for this kind of error; it never changes meaning.
    pub fn code(&self) -> &'static str {
        match self {
            AuditError::IndexOutOfRange { .. } => "audit-index-out-of-range",
            AuditError::SizeOrder { .. } => "audit-size-order",
            AuditError::TreeFull => "audit-tree-full",
            AuditError::ProofTooLong => "audit-proof-too-long",
            AuditError::ProofTooShort => "audit-proof-too-short",
            AuditError::RootMismatch => "audit-root-mismatch",
            AuditError::OldRootMismatch => "audit-old-root-mismatch",
            AuditError::NewRootMismatch => "audit-new-root-mismatch",
            AuditError::MalformedFrontier(_) => "audit-malformed-frontier",
            AuditError::MalformedCheckpoint(_) => "audit-malformed-checkpoint",
            AuditError::MalformedNote(_) => "audit-malformed-note",
            AuditError::InvalidKeyName(_) => "audit-invalid-key-name",
            AuditError::MalformedVerifierKey(_) => "audit-malformed-verifier-key",
            AuditError::BadSignature(_) => "audit-bad-signature",
            AuditError::NoSignature(_) => "audit-no-signature",
            AuditError::MalformedBundle { .. } => "audit-malformed-bundle",
            AuditError::BundleMismatch(_) => "audit-bundle-mismatch",
        }
    }

    /// What a user should do about it.
    pub fn help(&self) -> &'static str {
        match self {
            AuditError::IndexOutOfRange { .. } | AuditError::SizeOrder { .. } => {
                "ask the log for a proof against a tree head that already contains the entry"
            }
            AuditError::TreeFull => "start a new log; this one cannot grow further",
            AuditError::ProofTooLong
            | AuditError::ProofTooShort
            | AuditError::RootMismatch
            | AuditError::OldRootMismatch
            | AuditError::NewRootMismatch => {
                "the proof does not verify: the log or the proof was altered, or they speak of different trees; keep both as evidence"
            }
            AuditError::MalformedFrontier(_) => {
                "the stored tree state is corrupt; rebuild it from the log's leaves"
            }
            AuditError::MalformedCheckpoint(_) | AuditError::MalformedNote(_) => {
                "paste the checkpoint exactly as the log served it, including the blank line and the signature line"
            }
            AuditError::InvalidKeyName(_) => {
                "use a key name without spaces or `+`, such as `ward.example.com/audit`"
            }
            AuditError::MalformedVerifierKey(_) => {
                "a verifier key looks like `<name>+<8 hex digits>+<base64>`; copy it exactly as the log operator published it"
            }
            AuditError::BadSignature(_) | AuditError::NoSignature(_) => {
                "the checkpoint is not signed by the key you trust; compare the verifier key with the log's published key"
            }
            AuditError::MalformedBundle { .. } => {
                "paste the whole bundle exactly as it was produced, from its first line to the signature line"
            }
            AuditError::BundleMismatch(_) => {
                "the proof and the checkpoint belong to different tree heads; ask for a fresh bundle"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lowercase_one_line_without_period() {
        let all = [
            AuditError::IndexOutOfRange { index: 3, size: 2 },
            AuditError::SizeOrder {
                old_size: 3,
                new_size: 2,
            },
            AuditError::TreeFull,
            AuditError::ProofTooLong,
            AuditError::ProofTooShort,
            AuditError::RootMismatch,
            AuditError::OldRootMismatch,
            AuditError::NewRootMismatch,
            AuditError::MalformedFrontier("x"),
            AuditError::MalformedCheckpoint("x"),
            AuditError::MalformedNote("x"),
            AuditError::InvalidKeyName("a b".into()),
            AuditError::MalformedVerifierKey("x"),
            AuditError::BadSignature("k".into()),
            AuditError::NoSignature("k".into()),
            AuditError::MalformedBundle {
                line: 1,
                reason: "x",
            },
            AuditError::BundleMismatch("x"),
        ];
        let mut codes = std::collections::HashSet::new();
        for e in &all {
            let m = e.to_string();
            let first = m.chars().next().unwrap();
            assert!(!first.is_uppercase(), "{m}");
            assert!(!m.ends_with('.') && !m.contains('\n'), "{m}");
            assert!(!e.help().is_empty() && !e.help().ends_with('.'));
            assert!(codes.insert(e.code()), "duplicate code {}", e.code());
        }
    }
}
