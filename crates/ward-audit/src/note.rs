//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys.
//!
//! A signed note is a text ending in a newline, a blank line, then one or more signature
//! lines `— <key name> <base64(key ID || signature)>` (em dash U+2014, space). The note
//! is UTF-8 without ASCII control characters other than newline. The key ID of an
//! Ed25519 key is `SHA-256(key name || 0x0A || 0x01 || public key)[:4]`, and a verifier
//! key is written `<name>+<key ID as 8 hex digits>+<base64(0x01 || public key)>`.
//!
//! Verification follows the spec: signature lines from other keys (another name or key
//! ID) are ignored, a line from the trusted key that does not verify rejects the whole
//! note, and a note without a verified signature from the trusted key is rejected.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::AuditError;

/// The signature type identifier byte of Ed25519 (C2SP signed-note, "Signature types").
const ALG_ED25519: u8 = 0x01;

/// The largest note [`NoteVerifier::verify_note`] reads, in bytes.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;

/// The most signature lines [`NoteVerifier::verify_note`] reads (the spec asks for at
/// least 16).
pub const MAX_NOTE_SIGNATURES: usize = 100;

/// The prefix of a signature line: em dash, space.
const SIG_PREFIX: &str = "\u{2014} ";

/// A key name must be non-empty without Unicode spaces or `+`; control characters are
/// refused as well, since a note cannot contain them.
fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

/// Whether `text` may be the text of a signed note: non-empty, ending in a newline, and
/// without ASCII control characters other than newline.
fn check_note_text(text: &str) -> Result<(), AuditError> {
    if !text.ends_with('\n') {
        return Err(AuditError::MalformedNote(
            "text does not end with a newline",
        ));
    }
    if has_forbidden_control(text) {
        return Err(AuditError::MalformedNote(
            "contains a control character other than newline",
        ));
    }
    Ok(())
}

fn has_forbidden_control(s: &str) -> bool {
    s.bytes().any(|b| b < 0x20 && b != b'\n')
}

/// `SHA-256(key name || 0x0A || 0x01 || public key)[:4]`.
fn ed25519_key_id(name: &str, public_key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(public_key.as_bytes());
    let sum = h.finalize();
    [sum[0], sum[1], sum[2], sum[3]]
}

fn vkey_string(name: &str, key_id: [u8; 4], public_key: &VerifyingKey) -> String {
    let mut key = Vec::with_capacity(33);
    key.push(ALG_ED25519);
    key.extend_from_slice(public_key.as_bytes());
    format!("{name}+{}+{}", hex::encode(key_id), STANDARD.encode(key))
}

/// Signs notes with one Ed25519 key under one key name.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    key_id: [u8; 4],
    key: SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &hex::encode(self.key_id))
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// A signer for `name` (non-empty, no spaces, no `+`, no control characters).
    pub fn new(name: &str, key: SigningKey) -> Result<Self, AuditError> {
        if !is_valid_key_name(name) {
            return Err(AuditError::InvalidKeyName(name.to_owned()));
        }
        let key_id = ed25519_key_id(name, &key.verifying_key());
        Ok(Self {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key ID.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The verifier key, `<name>+<hex key ID>+<base64(0x01 || public key)>`.
    pub fn verifier_key(&self) -> String {
        vkey_string(&self.name, self.key_id, &self.key.verifying_key())
    }

    /// The verifier for this signer's key.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// Signs `body`: returns `body + "\n" + "— <name> <base64(key ID || signature)>\n"`.
    ///
    /// `body` must be valid note text (it ends with a newline and holds no control
    /// characters but newlines). If it is not, nothing is signed and the result is the
    /// empty string, which no verifier accepts; [`NoteSigner::try_sign_note`] says why.
    pub fn sign_note(&self, body: &str) -> String {
        self.try_sign_note(body).unwrap_or_default()
    }

    /// Signs `body`, or says why it cannot be the text of a signed note.
    pub fn try_sign_note(&self, body: &str) -> Result<String, AuditError> {
        check_note_text(body)?;
        let signature: Signature = self.key.sign(body.as_bytes());
        let mut blob = Vec::with_capacity(4 + Signature::BYTE_SIZE);
        blob.extend_from_slice(&self.key_id);
        blob.extend_from_slice(&signature.to_bytes());
        Ok(format!(
            "{body}\n{SIG_PREFIX}{} {}\n",
            self.name,
            STANDARD.encode(blob)
        ))
    }
}

/// Verifies notes signed by one trusted Ed25519 key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: [u8; 4],
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Parses a verifier key `<name>+<8 hex digits>+<base64(0x01 || 32-byte key)>`,
    /// checking that the key ID is the one the name and key imply.
    pub fn from_vkey(vkey: &str) -> Result<Self, AuditError> {
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(AuditError::MalformedVerifierKey(
                "expected `<name>+<key id>+<key>`",
            ));
        };
        if !is_valid_key_name(name) {
            return Err(AuditError::MalformedVerifierKey("invalid key name"));
        }
        let mut key_id = [0u8; 4];
        if id_hex.len() != 8 || hex::decode_to_slice(id_hex, &mut key_id).is_err() {
            return Err(AuditError::MalformedVerifierKey(
                "key id is not 8 hex digits",
            ));
        }
        let key = STANDARD
            .decode(key64)
            .map_err(|_| AuditError::MalformedVerifierKey("key is not base64"))?;
        let Some((&alg, public)) = key.split_first() else {
            return Err(AuditError::MalformedVerifierKey("key is empty"));
        };
        if alg != ALG_ED25519 {
            return Err(AuditError::MalformedVerifierKey(
                "unknown signature type; only ed25519 (0x01) is supported",
            ));
        }
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| AuditError::MalformedVerifierKey("ed25519 key is not 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| AuditError::MalformedVerifierKey("not an ed25519 public key"))?;
        if key.is_weak() {
            return Err(AuditError::MalformedVerifierKey(
                "ed25519 key is of small order",
            ));
        }
        if ed25519_key_id(name, &key) != key_id {
            return Err(AuditError::MalformedVerifierKey(
                "key id does not match the name and key",
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key ID.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The verifier key in its text form.
    pub fn vkey(&self) -> String {
        vkey_string(&self.name, self.key_id, &self.key)
    }

    /// `<name>+<hex key id>`, how errors name this key.
    fn label(&self) -> String {
        format!("{}+{}", self.name, hex::encode(self.key_id))
    }

    /// Checks `note` and returns its text (the body, with its final newline) if it
    /// carries a valid signature from this key.
    pub fn verify_note(&self, note: &str) -> Result<String, AuditError> {
        if note.len() > MAX_NOTE_BYTES {
            return Err(AuditError::MalformedNote("larger than 64 KiB"));
        }
        // Signed notes MUST be valid UTF-8 (a &str is) and MUST NOT contain any ASCII
        // control characters other than newline.
        if has_forbidden_control(note) {
            return Err(AuditError::MalformedNote(
                "contains a control character other than newline",
            ));
        }
        // The text is separated from the signatures by the last empty line in the note;
        // it includes the final newline but not the separating blank line.
        let Some(split) = note.rfind("\n\n") else {
            return Err(AuditError::MalformedNote(
                "no blank line before the signatures",
            ));
        };
        let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
        if sigs.is_empty() {
            return Err(AuditError::MalformedNote("no signature lines"));
        }
        if !sigs.ends_with('\n') {
            return Err(AuditError::MalformedNote(
                "the last signature line does not end with a newline",
            ));
        }
        let mut verified = false;
        for (count, line) in sigs.split_terminator('\n').enumerate() {
            if count >= MAX_NOTE_SIGNATURES {
                return Err(AuditError::MalformedNote("too many signatures"));
            }
            let Some(rest) = line.strip_prefix(SIG_PREFIX) else {
                return Err(AuditError::MalformedNote(
                    "a signature line does not start with an em dash and a space",
                ));
            };
            let Some((name, b64)) = rest.split_once(' ') else {
                return Err(AuditError::MalformedNote(
                    "a signature line has no signature",
                ));
            };
            if !is_valid_key_name(name) {
                return Err(AuditError::MalformedNote(
                    "a signature line has an invalid key name",
                ));
            }
            let blob = STANDARD
                .decode(b64)
                .map_err(|_| AuditError::MalformedNote("a signature is not base64"))?;
            let Some((key_id, signature)) = blob.split_first_chunk::<4>() else {
                return Err(AuditError::MalformedNote("a signature is too short"));
            };
            if signature.is_empty() {
                return Err(AuditError::MalformedNote("a signature is too short"));
            }
            // Verifiers MUST ignore signatures from unknown keys, even if they share a
            // name or ID (but not both) with a known key.
            if name != self.name || *key_id != self.key_id {
                continue;
            }
            // If the key name and ID match a known key, verifiers MUST verify the
            // signature; if it fails, reject the whole note.
            let signature = Signature::from_slice(signature)
                .map_err(|_| AuditError::BadSignature(self.label()))?;
            self.key
                .verify_strict(text.as_bytes(), &signature)
                .map_err(|_| AuditError::BadSignature(self.label()))?;
            verified = true;
        }
        // If no signature from a known key verifies successfully, clients MUST reject
        // the note.
        if !verified {
            return Err(AuditError::NoSignature(self.label()));
        }
        Ok(text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// golang.org/x/mod/sumdb/note test vectors.
    const PETER_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                        then you don't know what your problem is.\n";
    const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

    fn peter() -> NoteSigner {
        // PRIVATE+KEY+<name>+<id>+base64(0x01 || 32-byte seed)
        let b64 = PETER_SKEY.splitn(5, '+').nth(4).unwrap();
        let raw = STANDARD.decode(b64).unwrap();
        assert_eq!(raw[0], ALG_ED25519);
        let seed: [u8; 32] = raw[1..].try_into().unwrap();
        NoteSigner::new("PeterNeumann", SigningKey::from_bytes(&seed)).unwrap()
    }

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn go_sumdb_note_sign_vector() {
        let s = peter();
        assert_eq!(s.verifier_key(), PETER_VKEY);
        assert_eq!(hex::encode(s.key_id()), "c74f20a3");
        assert_eq!(s.sign_note(TEXT), format!("{TEXT}\n{PETER_SIG}"));
    }

    #[test]
    fn go_sumdb_note_open_vectors() {
        let peter = NoteVerifier::from_vkey(PETER_VKEY).unwrap();
        let enoch = NoteVerifier::from_vkey(ENOCH_VKEY).unwrap();
        assert_eq!(peter.vkey(), PETER_VKEY);
        let both = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
        assert_eq!(peter.verify_note(&both).unwrap(), TEXT);
        assert_eq!(enoch.verify_note(&both).unwrap(), TEXT);
        // Only Enoch's signature: Peter's verifier finds none of its own.
        let only_enoch = format!("{TEXT}\n{ENOCH_SIG}");
        assert_eq!(
            peter.verify_note(&only_enoch),
            Err(AuditError::NoSignature("PeterNeumann+c74f20a3".into()))
        );
        // A corrupted signature from the trusted key rejects the note.
        let bad = format!("{TEXT}\n{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
        assert!(matches!(
            peter.verify_note(&bad),
            Err(AuditError::BadSignature(_))
        ));
        // The malformed encodings of the Go tests.
        for msg in [
            TEXT.to_string(),
            format!("{TEXT}\n"),
            format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
            format!("\u{1}{TEXT}\n{PETER_SIG}"),
            format!(
                "{TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
            ),
            format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
        ] {
            assert!(
                matches!(peter.verify_note(&msg), Err(AuditError::MalformedNote(_))),
                "{msg:?}"
            );
        }
        // Too many signatures.
        let many = format!("{TEXT}\n{}", PETER_SIG.repeat(101));
        assert!(matches!(
            peter.verify_note(&many),
            Err(AuditError::MalformedNote(_))
        ));
        // A signature with another name but Peter's key id is someone else's: ignored.
        let renamed = PETER_SIG.replace("PeterNeumann", "CarmenSandiego");
        assert!(matches!(
            peter.verify_note(&format!("{TEXT}\n{renamed}")),
            Err(AuditError::NoSignature(_))
        ));
    }

    #[test]
    fn go_sumdb_vkey_manglings_are_rejected() {
        let b = PETER_VKEY.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if i != 0 || j != b.len() {
                    let s = std::str::from_utf8(&b[i..j]).unwrap();
                    assert!(NoteVerifier::from_vkey(s).is_err(), "{s}");
                }
            }
        }
        for i in 0..b.len() {
            let mut m = b.to_vec();
            m[i] = m[i].wrapping_add(1);
            if let Ok(s) = std::str::from_utf8(&m) {
                assert!(NoteVerifier::from_vkey(s).is_err(), "{s}");
            }
        }
        // Wrong length key with adjusted key hash, unknown algorithm with adjusted hash.
        assert!(
            NoteVerifier::from_vkey(
                "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
            )
            .is_err()
        );
        assert!(
            NoteVerifier::from_vkey(
                "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            )
            .is_err()
        );
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let s = NoteSigner::new("ward.example/audit", key(7)).unwrap();
        let v = NoteVerifier::from_vkey(&s.verifier_key()).unwrap();
        assert_eq!(v, s.verifier());
        for body in ["x\n", "a\n\nb\n", "\n", "ünïcödé — ok\nline two\n"] {
            let note = s.sign_note(body);
            assert_eq!(v.verify_note(&note).unwrap(), body);
        }
    }

    #[test]
    fn any_single_byte_change_fails() {
        let s = NoteSigner::new("ward.example/audit", key(7)).unwrap();
        let v = s.verifier();
        let body = "ward.example/audit\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let note = s.sign_note(body);
        let bytes = note.as_bytes();
        for i in 0..bytes.len() {
            for delta in [1u8, 0x20, 0x80] {
                let mut m = bytes.to_vec();
                m[i] ^= delta;
                if let Ok(t) = std::str::from_utf8(&m) {
                    assert!(v.verify_note(t).is_err(), "byte {i} ^ {delta:#x} accepted");
                }
            }
            // Deleting or duplicating a byte also fails.
            let mut d = bytes.to_vec();
            d.remove(i);
            if let Ok(t) = std::str::from_utf8(&d) {
                assert!(v.verify_note(t).is_err(), "deleting byte {i} accepted");
            }
        }
    }

    #[test]
    fn wrong_key_and_foreign_names_are_rejected() {
        let s = NoteSigner::new("ward.example/audit", key(7)).unwrap();
        let other_key = NoteSigner::new("ward.example/audit", key(8)).unwrap();
        let other_name = NoteSigner::new("evil.example/audit", key(7)).unwrap();
        let body = "hello\n";
        let v = s.verifier();
        // Same name, different key: a different key ID, so the line is not ours.
        assert!(matches!(
            v.verify_note(&other_key.sign_note(body)),
            Err(AuditError::NoSignature(_))
        ));
        // Same key, another name: not ours either.
        assert!(matches!(
            v.verify_note(&other_name.sign_note(body)),
            Err(AuditError::NoSignature(_))
        ));
        // A forged line that claims our name and key ID but was made by another key.
        let line = other_key.sign_note(body);
        let sig64 = line.rsplit(' ').next().unwrap().trim_end();
        let mut blob = STANDARD.decode(sig64).unwrap();
        blob[..4].copy_from_slice(&s.key_id());
        let forged2 = format!(
            "{body}\n\u{2014} ward.example/audit {}\n",
            STANDARD.encode(&blob)
        );
        assert!(matches!(
            v.verify_note(&forged2),
            Err(AuditError::BadSignature(_))
        ));
        // Our valid signature plus a foreign one (a witness) is accepted.
        let cosigned = format!(
            "{}{}",
            s.sign_note(body),
            other_name.sign_note(body).split_once("\n\n").unwrap().1
        );
        assert_eq!(v.verify_note(&cosigned).unwrap(), body);
        // Our valid signature plus a bad one of ours is rejected.
        let twice = format!(
            "{}{}",
            s.sign_note(body),
            forged2.split_once("\n\n").unwrap().1
        );
        assert!(matches!(
            v.verify_note(&twice),
            Err(AuditError::BadSignature(_))
        ));
    }

    #[test]
    fn invalid_names_and_bodies() {
        for name in ["", "a b", "a+b", "a\nb", "tab\t", "nbsp\u{a0}", "ctl\u{1}"] {
            assert!(
                matches!(
                    NoteSigner::new(name, key(1)),
                    Err(AuditError::InvalidKeyName(_))
                ),
                "{name:?}"
            );
        }
        let s = NoteSigner::new("k", key(1)).unwrap();
        for body in ["", "no newline", "cr\r\n", "nul\0\n"] {
            assert!(s.try_sign_note(body).is_err(), "{body:?}");
            assert_eq!(s.sign_note(body), "");
        }
        assert!(s.verifier().verify_note("").is_err());
        let big = format!("{}\n", "a".repeat(MAX_NOTE_BYTES));
        assert!(matches!(
            s.verifier().verify_note(&s.sign_note(&big)),
            Err(AuditError::MalformedNote(_))
        ));
    }

    #[test]
    fn debug_does_not_print_the_private_key() {
        let k = key(9);
        let s = NoteSigner::new("k", k.clone()).unwrap();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains(&hex::encode(k.to_bytes())));
        assert!(!dbg.contains(&format!("{:?}", k.to_bytes())));
    }

    #[test]
    fn verify_note_never_panics_on_garbage() {
        use proptest::prelude::*;
        let v = NoteSigner::new("k", key(3)).unwrap().verifier();
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(&"(\\PC|\n|\u{2014}| ){0,200}", |s| {
                let _ = v.verify_note(&s);
                prop_assert!(true);
                Ok(())
            })
            .unwrap();
    }
}
