//! Secrets encrypted at rest with XChaCha20-Poly1305. Each sealed value is bound to its name
//! through the associated data, so a value copied under another name does not open.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};

const VERSION: u8 = 0x01;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// The key sealing ward's static secrets (the file lives in `$WARD_HOME`, written by the caller).
pub struct SealKey([u8; 32]);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

fn aad(name: &str) -> Vec<u8> {
    [b"ward-secret:", name.as_bytes()].concat()
}

impl SealKey {
    /// A fresh key from the OS; fails rather than falling back to weak randomness.
    pub fn generate() -> Result<SealKey, SealError> {
        let mut b = [0u8; 32];
        OsRng
            .try_fill_bytes(&mut b)
            .map_err(|_| SealError::NoRandomness)?;
        Ok(SealKey(b))
    }

    pub fn from_bytes(b: [u8; 32]) -> SealKey {
        SealKey(b)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// 64 hex characters; surrounding whitespace (a trailing newline in the file) is ignored.
    pub fn from_hex(s: &str) -> Result<SealKey, SealError> {
        let mut b = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut b).map_err(|_| SealError::BadKey)?;
        Ok(SealKey(b))
    }

    /// `0x01 || 24-byte random nonce || ciphertext+tag`, with AAD `"ward-secret:" + name`.
    pub fn seal(&self, name: &str, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng
            .try_fill_bytes(&mut nonce)
            .map_err(|_| SealError::NoRandomness)?;
        let aad = aad(name);
        let ct = XChaCha20Poly1305::new(&self.0.into())
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            // Only fails for plaintexts beyond the cipher's ~256 GiB limit.
            .map_err(|_| SealError::Corrupt)?;
        Ok([&[VERSION][..], &nonce, &ct].concat())
    }

    /// Opens what `seal` produced under the same key and name.
    pub fn open(&self, name: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let (&version, rest) = sealed.split_first().ok_or(SealError::Corrupt)?;
        if version != VERSION || rest.len() < NONCE_LEN + TAG_LEN {
            return Err(SealError::Corrupt);
        }
        let (nonce, ct) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Corrupt)?;
        let aad = aad(name);
        XChaCha20Poly1305::new(&self.0.into())
            .decrypt(&XNonce::from(nonce), Payload { msg: ct, aad: &aad })
            .map_err(|_| SealError::Corrupt)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealError {
    /// The OS could not provide random bytes.
    NoRandomness,
    /// The key is not 64 hex characters.
    BadKey,
    /// Wrong version, too short, or the tag does not match (wrong key, wrong name, tampered).
    Corrupt,
}

impl SealError {
    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            SealError::NoRandomness => "no_randomness",
            SealError::BadKey => "bad_key",
            SealError::Corrupt => "corrupt",
        }
    }
}

impl std::fmt::Display for SealError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SealError::NoRandomness => "no randomness is available from the operating system",
            SealError::BadKey => "the seal key is not 64 hex characters",
            SealError::Corrupt => {
                "the sealed value is corrupt or was sealed under another key or name"
            }
        })
    }
}

impl std::error::Error for SealError {}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn key() -> SealKey {
        SealKey::from_bytes([7; 32])
    }

    #[test]
    fn round_trip() {
        let k = SealKey::generate().unwrap();
        let sealed = k.seal("deploy-key", b"hunter2").unwrap();
        assert_eq!(sealed[0], VERSION);
        assert_eq!(sealed.len(), 1 + NONCE_LEN + 7 + TAG_LEN);
        assert_eq!(k.open("deploy-key", &sealed).unwrap(), b"hunter2");
        let empty = k.seal("e", b"").unwrap();
        assert_eq!(k.open("e", &empty).unwrap(), b"");
    }

    #[test]
    fn seals_differ() {
        let k = key();
        let a = k.seal("n", b"same").unwrap();
        let b = k.seal("n", b"same").unwrap();
        assert_ne!(a, b);
        assert_ne!(a[1..1 + NONCE_LEN], b[1..1 + NONCE_LEN]);
    }

    #[test]
    fn tampering_is_corrupt() {
        let k = key();
        let sealed = k.seal("n", b"secret value").unwrap();
        let other = SealKey::from_bytes([8; 32]);
        assert_eq!(other.open("n", &sealed), Err(SealError::Corrupt));
        assert_eq!(k.open("m", &sealed), Err(SealError::Corrupt));
        assert_eq!(k.open("n ", &sealed), Err(SealError::Corrupt));
        for i in 1..sealed.len() {
            let mut s = sealed.clone();
            s[i] ^= 0x01;
            assert_eq!(k.open("n", &s), Err(SealError::Corrupt), "byte {i}");
        }
        for len in 0..sealed.len() {
            assert_eq!(
                k.open("n", &sealed[..len]),
                Err(SealError::Corrupt),
                "len {len}"
            );
        }
        let mut v2 = sealed.clone();
        v2[0] = 0x02;
        assert_eq!(k.open("n", &v2), Err(SealError::Corrupt));
        assert_eq!(k.open("n", &sealed).unwrap(), b"secret value");
    }

    #[test]
    fn hex() {
        let k = key();
        let h = k.to_hex();
        assert_eq!(h, "07".repeat(32));
        let back = SealKey::from_hex(&format!("  {h}\n")).unwrap();
        let sealed = k.seal("n", b"x").unwrap();
        assert_eq!(back.open("n", &sealed).unwrap(), b"x");
        for bad in [
            "",
            "07",
            &"07".repeat(33),
            &"zz".repeat(32),
            &format!("{}0", "07".repeat(31)),
        ] {
            assert_eq!(
                SealKey::from_hex(bad).err(),
                Some(SealError::BadKey),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_hides_key() {
        let k = key();
        let dbg = format!("{k:?}");
        assert!(!dbg.contains(&k.to_hex()));
        assert!(!dbg.contains("07"));
        assert_eq!(SealError::Corrupt.code(), "corrupt");
    }
}
