//! C2SP tlog checkpoints (<https://c2sp.org/tlog-checkpoint>): a signed note whose text is
//!
//! ```text
//! <origin>
//! <tree size, ASCII decimal, no leading zeroes>
//! <base64 of the RFC 6962 root hash>
//! [<extension line>…]
//! ```
//!
//! every line non-empty and ending in a newline. ward writes no extension lines; when
//! reading, extension lines are accepted as the spec allows and ignored.
//!
//! The spec says the log's key name SHOULD match the origin; [`open_checkpoint`] does not
//! enforce it, so callers that know which log they expect compare `origin` themselves.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::{AuditError, Hash, NoteSigner, NoteVerifier};

/// C2SP tlog-checkpoint body: `"<origin>\n<size>\n<base64 root>\n"` (+ optional extension
/// lines when parsed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log identity, e.g. `ward.example.com/audit`.
    pub origin: String,
    /// The number of leaves in the tree.
    pub size: u64,
    /// The RFC 6962 root hash of the tree of `size` leaves.
    pub root: Hash,
}

/// Parses a tree size: ASCII decimal without sign or leading zeroes (`0` alone is zero).
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

impl Checkpoint {
    /// The note text of this checkpoint, `"<origin>\n<size>\n<base64 root>\n"`.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Checks that [`Checkpoint::body`] reads back as this checkpoint: the origin must be
    /// non-empty and hold no control characters (a newline in it would forge lines).
    pub fn validate(&self) -> Result<(), AuditError> {
        if self.origin.is_empty() {
            return Err(AuditError::MalformedCheckpoint("origin is empty"));
        }
        if self.origin.chars().any(|c| c.is_control()) {
            return Err(AuditError::MalformedCheckpoint(
                "origin contains a control character",
            ));
        }
        Ok(())
    }

    /// Parses a checkpoint body (the text of the note, with its final newline).
    pub fn parse_body(s: &str) -> Result<Self, AuditError> {
        let Some(s) = s.strip_suffix('\n') else {
            return Err(AuditError::MalformedCheckpoint(
                "does not end with a newline",
            ));
        };
        let mut lines = s.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(AuditError::MalformedCheckpoint("fewer than three lines"));
        };
        // 1. The origin MUST be non-empty.
        if origin.is_empty() {
            return Err(AuditError::MalformedCheckpoint("origin is empty"));
        }
        if origin.chars().any(|c| c.is_control()) {
            return Err(AuditError::MalformedCheckpoint(
                "origin contains a control character",
            ));
        }
        // 2. The tree size: ASCII decimal, no leading zeroes unless the tree is empty.
        let Some(size) = parse_decimal(size) else {
            return Err(AuditError::MalformedCheckpoint(
                "tree size is not a decimal number without leading zeroes",
            ));
        };
        // 3. The root hash: standard base64 (padded, canonical) of 32 bytes.
        let root: Hash = STANDARD
            .decode(root)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(AuditError::MalformedCheckpoint(
                "root hash is not the base64 of 32 bytes",
            ))?;
        // 4. Extension lines, if any, MUST be non-empty.
        if lines.any(str::is_empty) {
            return Err(AuditError::MalformedCheckpoint(
                "an extension line is empty",
            ));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// Signs a checkpoint as a signed note.
///
/// If the checkpoint is invalid (see [`Checkpoint::validate`]) nothing is signed and the
/// result is the empty string, which no verifier accepts; [`try_sign_checkpoint`] says why.
pub fn sign_checkpoint(signer: &NoteSigner, cp: &Checkpoint) -> String {
    try_sign_checkpoint(signer, cp).unwrap_or_default()
}

/// Signs a checkpoint as a signed note, or says why it cannot be signed.
pub fn try_sign_checkpoint(signer: &NoteSigner, cp: &Checkpoint) -> Result<String, AuditError> {
    cp.validate()?;
    signer.try_sign_note(&cp.body())
}

/// Verifies a signed checkpoint note with `verifier` and parses its body.
pub fn open_checkpoint(verifier: &NoteVerifier, note: &str) -> Result<Checkpoint, AuditError> {
    let body = verifier.verify_note(note)?;
    Checkpoint::parse_body(&body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use proptest::prelude::*;

    fn signer() -> NoteSigner {
        NoteSigner::new("ward.example/audit", SigningKey::from_bytes(&[5; 32])).unwrap()
    }

    fn cp() -> Checkpoint {
        Checkpoint {
            origin: "ward.example/audit".into(),
            size: 20852163,
            root: [0xab; 32],
        }
    }

    #[test]
    fn c2sp_example_body_parses() {
        // The example of c2sp.org/tlog-checkpoint.
        let body =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let c = Checkpoint::parse_body(body).unwrap();
        assert_eq!(c.origin, "example.com/behind-the-sofa");
        assert_eq!(c.size, 20852163);
        assert_eq!(
            STANDARD.encode(c.root),
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
        );
        assert_eq!(c.body(), body);
    }

    #[test]
    fn body_format_is_exact() {
        let c = Checkpoint {
            origin: "o".into(),
            size: 0,
            root: crate::empty_root(),
        };
        assert_eq!(
            c.body(),
            "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        );
    }

    #[test]
    fn malformed_bodies_are_rejected() {
        let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
        for body in [
            String::new(),
            "o\n1\n".into(),
            format!("o\n1\n{root}"),
            format!("\n1\n{root}\n"),
            format!("o\n01\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("o\n 1\n{root}\n"),
            format!("o\n\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n".into(),
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n".into(),
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=AAAA\n".into(),
            "o\n1\nAAAA\n".into(),
            format!("o\n1\n{root}\n\n"),
            format!("o\n1\n{root}\next\n\n"),
            format!("o\u{1}\n1\n{root}\n"),
        ] {
            assert!(Checkpoint::parse_body(&body).is_err(), "{body:?}");
        }
        let with_ext = format!("o\n18446744073709551615\n{root}\nextension\n");
        let c = Checkpoint::parse_body(&with_ext).unwrap();
        assert_eq!(c.size, u64::MAX);
    }

    #[test]
    fn sign_and_open() {
        let s = signer();
        let note = sign_checkpoint(&s, &cp());
        assert!(note.starts_with(&cp().body()));
        assert!(note.contains("\n\n\u{2014} ward.example/audit "));
        assert_eq!(open_checkpoint(&s.verifier(), &note).unwrap(), cp());
        let other = NoteSigner::new("ward.example/audit", SigningKey::from_bytes(&[6; 32]))
            .unwrap()
            .verifier();
        assert!(open_checkpoint(&other, &note).is_err());
        // A signed note that is not a checkpoint.
        let not_cp = s.sign_note("hello\n");
        assert!(matches!(
            open_checkpoint(&s.verifier(), &not_cp),
            Err(AuditError::MalformedCheckpoint(_))
        ));
    }

    #[test]
    fn origin_injection_is_refused() {
        let s = signer();
        let evil = Checkpoint {
            origin: format!("o\n1\n{}", STANDARD.encode([0u8; 32])),
            ..cp()
        };
        assert!(try_sign_checkpoint(&s, &evil).is_err());
        assert_eq!(sign_checkpoint(&s, &evil), "");
        let empty = Checkpoint {
            origin: String::new(),
            ..cp()
        };
        assert!(try_sign_checkpoint(&s, &empty).is_err());
    }

    proptest! {
        #[test]
        fn body_round_trips(origin in "[a-z0-9./-]{1,40}", size in any::<u64>(), root in any::<[u8; 32]>()) {
            let c = Checkpoint { origin, size, root };
            prop_assert_eq!(Checkpoint::parse_body(&c.body()).unwrap(), c);
        }

        #[test]
        fn parse_body_never_panics(s in "(\\PC|\n){0,120}") {
            let _ = Checkpoint::parse_body(&s);
        }
    }
}
