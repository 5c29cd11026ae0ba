//! Proof bundles: everything needed to check a proof offline, in a text a user can paste.
//!
//! Both formats are line based. Each line ends with a newline; fields come in the order
//! shown, each written `<field> <value>` with one space; hashes are 64 lowercase hex digits
//! and numbers are decimal without leading zeroes. `proof` lines repeat once per proof hash,
//! in proof order (zero or more). The `checkpoint` line is followed by the signed checkpoint
//! note, verbatim, up to the end of the text (it contains a blank line). When reading, CRLF
//! line ends are taken as LF and a missing final newline is restored.
//!
//! Inclusion bundle — proves that a leaf is in the tree of a signed checkpoint:
//!
//! ```text
//! ward-audit inclusion bundle v1
//! leaf-index 5
//! leaf-hash 4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658
//! proof bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b
//! proof ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0
//! proof d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7
//! vkey ward.example/audit+1a2b3c4d+AcQ…
//! checkpoint
//! ward.example/audit
//! 8
//! XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=
//!
//! — ward.example/audit GiuzTf…
//! ```
//!
//! Consistency bundle — proves that the tree of `new-size` leaves extends the tree of
//! `old-size` leaves; the optional `checkpoint` is the signed checkpoint of the new tree:
//!
//! ```text
//! ward-audit consistency bundle v1
//! old-size 6
//! new-size 8
//! old-root 76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef
//! new-root 5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328
//! proof 0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a
//! proof ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0
//! proof d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7
//! vkey ward.example/audit+1a2b3c4d+AcQ…
//! checkpoint
//! …
//! ```
//!
//! `check()` trusts the `vkey` written in the bundle; it proves the bundle is consistent
//! under that key. Compare the key with the log's published key, or use `check_with` and a
//! verifier built from a key you already trust.

use std::fmt::Write as _;

use crate::checkpoint::parse_decimal;
use crate::{
    AuditError, Checkpoint, Hash, MAX_NOTE_BYTES, NoteVerifier, open_checkpoint,
    verify_consistency, verify_inclusion,
};

/// The largest bundle text [`InclusionBundle::from_text`] and
/// [`ConsistencyBundle::from_text`] read, in bytes.
pub const MAX_BUNDLE_BYTES: usize = MAX_NOTE_BYTES + 16 * 1024;

/// The most `proof` lines a bundle may hold: an inclusion proof has at most 64 hashes and
/// a consistency proof at most 128 for any `u64` tree size.
const MAX_PROOF_LINES: usize = 128;

const INCLUSION_HEADER: &str = "ward-audit inclusion bundle v1";
const CONSISTENCY_HEADER: &str = "ward-audit consistency bundle v1";

/// Everything needed to check offline that a leaf is in a signed tree head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionBundle {
    /// The index of the leaf in the log, from 0.
    pub leaf_index: u64,
    /// The leaf hash, `SHA-256(0x00 || entry)`.
    pub leaf_hash: Hash,
    /// The inclusion proof, leaf to root.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note the proof leads to.
    pub checkpoint_note: String,
    /// The verifier key of the log.
    pub vkey: String,
}

/// Everything needed to check offline that one tree head extends another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyBundle {
    pub old_size: u64,
    pub new_size: u64,
    pub old_root: Hash,
    pub new_root: Hash,
    /// The consistency proof, as RFC 9162 §2.1.4 orders it.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note of the new tree head, if any.
    pub checkpoint_note: Option<String>,
    /// The verifier key of the log.
    pub vkey: String,
}

impl InclusionBundle {
    /// The text form (see the [module documentation](self)).
    pub fn to_text(&self) -> String {
        let mut s = String::with_capacity(256 + 72 * self.proof.len() + self.checkpoint_note.len());
        let _ = writeln!(s, "{INCLUSION_HEADER}");
        let _ = writeln!(s, "leaf-index {}", self.leaf_index);
        let _ = writeln!(s, "leaf-hash {}", hex::encode(self.leaf_hash));
        write_proof(&mut s, &self.proof);
        let _ = writeln!(s, "vkey {}", self.vkey);
        s.push_str("checkpoint\n");
        s.push_str(&self.checkpoint_note);
        s
    }

    /// Parses the text form.
    pub fn from_text(s: &str) -> Result<Self, AuditError> {
        let text = normalize(s)?;
        let mut r = Reader::new(&text);
        r.header(INCLUSION_HEADER)?;
        let leaf_index = r.number("leaf-index")?;
        let leaf_hash = r.hash("leaf-hash")?;
        let proof = r.proof()?;
        let vkey = r.field("vkey")?.to_owned();
        let Some(checkpoint_note) = r.checkpoint()? else {
            return Err(r.error("expected `checkpoint`"));
        };
        Ok(Self {
            leaf_index,
            leaf_hash,
            proof,
            checkpoint_note,
            vkey,
        })
    }

    /// Verifies the checkpoint signature with the bundle's `vkey`, then the inclusion of
    /// the leaf in the checkpoint's tree; returns the checkpoint.
    pub fn check(&self) -> Result<Checkpoint, AuditError> {
        self.check_with(&NoteVerifier::from_vkey(&self.vkey)?)
    }

    /// Like [`InclusionBundle::check`], with a verifier the caller already trusts (the
    /// bundle's `vkey` is then ignored).
    pub fn check_with(&self, verifier: &NoteVerifier) -> Result<Checkpoint, AuditError> {
        let cp = open_checkpoint(verifier, &self.checkpoint_note)?;
        verify_inclusion(
            &self.leaf_hash,
            self.leaf_index,
            cp.size,
            &self.proof,
            &cp.root,
        )?;
        Ok(cp)
    }
}

impl ConsistencyBundle {
    /// The text form (see the [module documentation](self)).
    pub fn to_text(&self) -> String {
        let note_len = self.checkpoint_note.as_ref().map_or(0, String::len);
        let mut s = String::with_capacity(384 + 72 * self.proof.len() + note_len);
        let _ = writeln!(s, "{CONSISTENCY_HEADER}");
        let _ = writeln!(s, "old-size {}", self.old_size);
        let _ = writeln!(s, "new-size {}", self.new_size);
        let _ = writeln!(s, "old-root {}", hex::encode(self.old_root));
        let _ = writeln!(s, "new-root {}", hex::encode(self.new_root));
        write_proof(&mut s, &self.proof);
        let _ = writeln!(s, "vkey {}", self.vkey);
        if let Some(note) = &self.checkpoint_note {
            s.push_str("checkpoint\n");
            s.push_str(note);
        }
        s
    }

    /// Parses the text form.
    pub fn from_text(s: &str) -> Result<Self, AuditError> {
        let text = normalize(s)?;
        let mut r = Reader::new(&text);
        r.header(CONSISTENCY_HEADER)?;
        let old_size = r.number("old-size")?;
        let new_size = r.number("new-size")?;
        let old_root = r.hash("old-root")?;
        let new_root = r.hash("new-root")?;
        let proof = r.proof()?;
        let vkey = r.field("vkey")?.to_owned();
        let checkpoint_note = r.checkpoint()?;
        Ok(Self {
            old_size,
            new_size,
            old_root,
            new_root,
            proof,
            checkpoint_note,
            vkey,
        })
    }

    /// Verifies the consistency proof and, when the bundle has a checkpoint, its signature
    /// with the bundle's `vkey` and that it is the new tree head; returns that checkpoint.
    pub fn check(&self) -> Result<Option<Checkpoint>, AuditError> {
        self.check_with(&NoteVerifier::from_vkey(&self.vkey)?)
    }

    /// Like [`ConsistencyBundle::check`], with a verifier the caller already trusts.
    pub fn check_with(&self, verifier: &NoteVerifier) -> Result<Option<Checkpoint>, AuditError> {
        verify_consistency(
            self.old_size,
            self.new_size,
            &self.old_root,
            &self.new_root,
            &self.proof,
        )?;
        let Some(note) = &self.checkpoint_note else {
            return Ok(None);
        };
        let cp = open_checkpoint(verifier, note)?;
        if cp.size != self.new_size {
            return Err(AuditError::BundleMismatch(
                "the checkpoint size is not the new size",
            ));
        }
        if cp.root != self.new_root {
            return Err(AuditError::BundleMismatch(
                "the checkpoint root is not the new root",
            ));
        }
        Ok(Some(cp))
    }
}

fn write_proof(s: &mut String, proof: &[Hash]) {
    for h in proof {
        let _ = writeln!(s, "proof {}", hex::encode(h));
    }
}

/// Bounds the input, turns CRLF into LF and restores a missing final newline.
fn normalize(s: &str) -> Result<String, AuditError> {
    if s.len() > MAX_BUNDLE_BYTES {
        return Err(AuditError::MalformedBundle {
            line: 1,
            reason: "larger than the bundle size limit",
        });
    }
    let mut t = s.replace("\r\n", "\n");
    if !t.ends_with('\n') {
        t.push('\n');
    }
    Ok(t)
}

/// Reads a bundle line by line, keeping the line number for errors.
struct Reader<'a> {
    rest: &'a str,
    line: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            rest: text,
            line: 0,
        }
    }

    fn error(&self, reason: &'static str) -> AuditError {
        AuditError::MalformedBundle {
            line: self.line.max(1),
            reason,
        }
    }

    fn peek(&self) -> Option<&'a str> {
        self.rest.split_once('\n').map(|(l, _)| l)
    }

    fn next_line(&mut self) -> Option<&'a str> {
        let (l, rest) = self.rest.split_once('\n')?;
        self.rest = rest;
        self.line += 1;
        Some(l)
    }

    fn header(&mut self, want: &'static str) -> Result<(), AuditError> {
        match self.next_line() {
            Some(l) if l == want => Ok(()),
            _ => Err(self.error("the first line is not a known bundle header")),
        }
    }

    /// The value of the next line, which must be `<key> <value>`.
    fn field(&mut self, key: &'static str) -> Result<&'a str, AuditError> {
        let line = self.next_line().ok_or(AuditError::MalformedBundle {
            line: self.line + 1,
            reason: "the bundle ends early",
        })?;
        match line.split_once(' ') {
            Some((k, v)) if k == key && !v.is_empty() => Ok(v),
            _ => Err(self.error(match key {
                "leaf-index" => "expected `leaf-index <number>`",
                "leaf-hash" => "expected `leaf-hash <64 hex digits>`",
                "old-size" => "expected `old-size <number>`",
                "new-size" => "expected `new-size <number>`",
                "old-root" => "expected `old-root <64 hex digits>`",
                "new-root" => "expected `new-root <64 hex digits>`",
                "vkey" => "expected `vkey <verifier key>`",
                _ => "unexpected line",
            })),
        }
    }

    fn number(&mut self, key: &'static str) -> Result<u64, AuditError> {
        let v = self.field(key)?;
        parse_decimal(v).ok_or(self.error("not a decimal number without leading zeroes"))
    }

    fn hash(&mut self, key: &'static str) -> Result<Hash, AuditError> {
        let v = self.field(key)?;
        self.parse_hash(v)
    }

    fn parse_hash(&self, v: &str) -> Result<Hash, AuditError> {
        let mut h = [0u8; 32];
        if v.len() != 64 || hex::decode_to_slice(v, &mut h).is_err() {
            return Err(self.error("a hash is not 64 hex digits"));
        }
        Ok(h)
    }

    /// Zero or more `proof <hash>` lines.
    fn proof(&mut self) -> Result<Vec<Hash>, AuditError> {
        let mut proof = Vec::new();
        while let Some(v) = self.peek().and_then(|l| l.strip_prefix("proof ")) {
            self.next_line();
            if proof.len() == MAX_PROOF_LINES {
                return Err(self.error("too many proof lines"));
            }
            proof.push(self.parse_hash(v)?);
        }
        Ok(proof)
    }

    /// Either the end of the text, or `checkpoint` followed by the note to the end.
    fn checkpoint(&mut self) -> Result<Option<String>, AuditError> {
        match self.next_line() {
            None => Ok(None),
            Some("checkpoint") if !self.rest.is_empty() => Ok(Some(self.rest.to_owned())),
            Some("checkpoint") => Err(self.error("`checkpoint` is not followed by a note")),
            Some(_) => Err(self.error("expected `checkpoint` or the end of the bundle")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Frontier, NoteSigner, consistency_proof, inclusion_proof, leaf_hash, root_from_leaf_hashes,
        sign_checkpoint,
    };
    use ed25519_dalek::SigningKey;

    const ORIGIN: &str = "ward.example/audit";

    fn signer() -> NoteSigner {
        NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[11; 32])).unwrap()
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n as u32).map(|i| leaf_hash(&i.to_le_bytes())).collect()
    }

    fn signed(n: usize) -> String {
        let l = leaves(n);
        let mut f = Frontier::new();
        for h in &l {
            f.append(*h);
        }
        let cp = Checkpoint {
            origin: ORIGIN.into(),
            size: n as u64,
            root: f.root(),
        };
        sign_checkpoint(&signer(), &cp)
    }

    fn inclusion(index: u64, n: usize) -> InclusionBundle {
        let l = leaves(n);
        InclusionBundle {
            leaf_index: index,
            leaf_hash: l[index as usize],
            proof: inclusion_proof(&l, index).unwrap(),
            checkpoint_note: signed(n),
            vkey: signer().verifier_key(),
        }
    }

    fn consistency(m: usize, n: usize, with_cp: bool) -> ConsistencyBundle {
        let l = leaves(n);
        ConsistencyBundle {
            old_size: m as u64,
            new_size: n as u64,
            old_root: root_from_leaf_hashes(&l[..m]),
            new_root: root_from_leaf_hashes(&l),
            proof: consistency_proof(&l, m as u64).unwrap(),
            checkpoint_note: with_cp.then(|| signed(n)),
            vkey: signer().verifier_key(),
        }
    }

    #[test]
    fn inclusion_text_round_trips_and_checks() {
        for (index, n) in [(0, 1), (5, 8), (6, 7), (12, 13)] {
            let b = inclusion(index, n);
            let text = b.to_text();
            assert!(text.starts_with("ward-audit inclusion bundle v1\nleaf-index "));
            let back = InclusionBundle::from_text(&text).unwrap();
            assert_eq!(back, b);
            let cp = back.check().unwrap();
            assert_eq!((cp.origin.as_str(), cp.size), (ORIGIN, n as u64));
            assert_eq!(back.check_with(&signer().verifier()).unwrap(), cp);
            // A paste through a Windows clipboard that lost the final newline.
            let pasted = text.replace('\n', "\r\n");
            let pasted = pasted.strip_suffix("\r\n").unwrap();
            assert_eq!(InclusionBundle::from_text(pasted).unwrap(), b);
        }
    }

    #[test]
    fn inclusion_text_format_is_exact() {
        let b = inclusion(1, 2);
        let l = leaves(2);
        let want = format!(
            "ward-audit inclusion bundle v1\nleaf-index 1\nleaf-hash {}\nproof {}\nvkey {}\ncheckpoint\n{}",
            hex::encode(l[1]),
            hex::encode(l[0]),
            signer().verifier_key(),
            signed(2)
        );
        assert_eq!(b.to_text(), want);
    }

    #[test]
    fn consistency_text_round_trips_and_checks() {
        for (m, n) in [(0, 0), (0, 3), (3, 3), (1, 8), (6, 8), (6, 7), (13, 40)] {
            for with_cp in [false, true] {
                let b = consistency(m, n, with_cp);
                let back = ConsistencyBundle::from_text(&b.to_text()).unwrap();
                assert_eq!(back, b);
                let cp = back.check().unwrap();
                assert_eq!(cp.is_some(), with_cp);
            }
        }
    }

    #[test]
    fn inclusion_check_fails_on_each_tampering() {
        let b = inclusion(5, 13);
        b.check().unwrap();
        let mut cases: Vec<(String, InclusionBundle)> = Vec::new();
        let mut push = |what: &str, f: &dyn Fn(&mut InclusionBundle)| {
            let mut t = b.clone();
            f(&mut t);
            cases.push((what.to_owned(), t));
        };
        push("index + 1", &|t| t.leaf_index += 1);
        push("index - 1", &|t| t.leaf_index -= 1);
        push("index far", &|t| t.leaf_index = 1000);
        push("leaf", &|t| t.leaf_hash[0] ^= 1);
        push("proof dropped", &|t| {
            t.proof.pop();
        });
        push("proof added", &|t| t.proof.push([0; 32]));
        push("proof swapped", &|t| t.proof.swap(0, 1));
        push("proof empty", &|t| t.proof.clear());
        push("checkpoint of another size", &|t| {
            t.checkpoint_note = signed(14)
        });
        push("checkpoint unsigned", &|t| {
            t.checkpoint_note = t.checkpoint_note.split("\n\n").next().unwrap().to_owned() + "\n"
        });
        push("vkey of another key", &|t| {
            t.vkey = NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[12; 32]))
                .unwrap()
                .verifier_key()
        });
        push("vkey garbage", &|t| t.vkey = "nope".into());
        push("size in checkpoint edited", &|t| {
            t.checkpoint_note = t.checkpoint_note.replacen("\n13\n", "\n12\n", 1)
        });
        for i in 0..b.proof.len() {
            for j in [0, 31] {
                let mut t = b.clone();
                t.proof[i][j] ^= 0x40;
                cases.push((format!("proof[{i}][{j}]"), t));
            }
        }
        for (what, t) in &cases {
            assert_ne!(t, &b, "{what}");
            assert!(t.check().is_err(), "tampering accepted: {what}");
            // The text form carries the tampering through.
            if let Ok(back) = InclusionBundle::from_text(&t.to_text()) {
                assert!(back.check().is_err(), "tampering accepted via text: {what}");
            }
        }
        // Every single-byte change of the text is rejected by from_text or by check.
        let text = b.to_text();
        let bytes = text.as_bytes();
        for i in 0..bytes.len() {
            let mut m = bytes.to_vec();
            m[i] ^= 0x01;
            let Ok(s) = std::str::from_utf8(&m) else {
                continue;
            };
            if let Ok(back) = InclusionBundle::from_text(s) {
                assert!(
                    back.check().is_err() || back == b,
                    "byte {i} change accepted"
                );
            }
        }
    }

    #[test]
    fn consistency_check_fails_on_each_tampering() {
        let b = consistency(6, 13, true);
        b.check().unwrap();
        let mut cases: Vec<(String, ConsistencyBundle)> = Vec::new();
        let mut push = |what: &str, f: &dyn Fn(&mut ConsistencyBundle)| {
            let mut t = b.clone();
            f(&mut t);
            cases.push((what.to_owned(), t));
        };
        push("old size", &|t| t.old_size = 5);
        push("new size", &|t| t.new_size = 14);
        push("old root", &|t| t.old_root[3] ^= 1);
        push("new root", &|t| t.new_root[3] ^= 1);
        push("roots swapped", &|t| {
            std::mem::swap(&mut t.old_root, &mut t.new_root)
        });
        push("proof dropped", &|t| {
            t.proof.pop();
        });
        push("proof added", &|t| t.proof.push([0; 32]));
        push("proof empty", &|t| t.proof.clear());
        push("checkpoint of another tree", &|t| {
            t.checkpoint_note = Some(signed(14))
        });
        push("checkpoint unsigned", &|t| {
            t.checkpoint_note = Some(format!("{ORIGIN}\n13\n"))
        });
        push("vkey of another key", &|t| {
            t.vkey = NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[12; 32]))
                .unwrap()
                .verifier_key()
        });
        for i in 0..b.proof.len() {
            let mut t = b.clone();
            t.proof[i][17] ^= 0x02;
            cases.push((format!("proof[{i}]"), t));
        }
        for (what, t) in &cases {
            assert!(t.check().is_err(), "tampering accepted: {what}");
        }
        // A valid proof between other trees does not match the checkpoint.
        let mut other = consistency(6, 12, false);
        other.checkpoint_note = b.checkpoint_note.clone();
        assert!(matches!(other.check(), Err(AuditError::BundleMismatch(_))));
    }

    #[test]
    fn malformed_texts_are_rejected_with_a_line() {
        let good = inclusion(5, 8).to_text();
        let cases = [
            String::new(),
            "ward-audit inclusion bundle v2\n".into(),
            good.replacen("leaf-index 5", "leaf-index 05", 1),
            good.replacen("leaf-index 5", "leaf-index five", 1),
            good.replacen("leaf-index 5", "leaf-index", 1),
            good.replacen("leaf-index 5", "leaf_index 5", 1),
            good.replacen("leaf-hash ", "leaf-hash  ", 1),
            good.replacen("proof ", "proof 00", 1),
            good.replacen("proof ", "proofs ", 1),
            good.replacen("\nvkey", "\nunknown field\nvkey", 1),
            good.replacen("checkpoint\n", "checkpoints\n", 1),
            good.split("checkpoint\n").next().unwrap().to_owned(),
            format!("{}checkpoint\n", good.split("checkpoint\n").next().unwrap()),
            format!("{good}{}", "x".repeat(MAX_BUNDLE_BYTES)),
        ];
        for c in &cases {
            let e = InclusionBundle::from_text(c).unwrap_err();
            assert!(
                matches!(e, AuditError::MalformedBundle { .. }),
                "{c:?}: {e}"
            );
        }
        let (head, tail) = good.split_once("proof ").unwrap();
        let too_many = format!(
            "{head}{}proof {tail}",
            format!("proof {}\n", "ab".repeat(32)).repeat(MAX_PROOF_LINES)
        );
        assert!(matches!(
            InclusionBundle::from_text(&too_many),
            Err(AuditError::MalformedBundle { .. })
        ));
        // A consistency bundle is not an inclusion bundle and vice versa.
        let cons = consistency(2, 5, true).to_text();
        assert!(InclusionBundle::from_text(&cons).is_err());
        assert!(ConsistencyBundle::from_text(&good).is_err());
    }
}
