//! Secrets ward hands out — API keys for humans, bearer tokens for HTTP hooks — and the ids of
//! approvals. A secret is 256 random bits, shown once; only its SHA-256 is stored (a slow hash
//! adds nothing to a key with this much entropy).

use base64::Engine as _;
use sha2::{Digest, Sha256};
use ward_core::{ErrorCode, WardError};

fn random<const N: usize>() -> Result<[u8; N], WardError> {
    let mut b = [0u8; N];
    rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut b)
        .map_err(|e| WardError::new(ErrorCode::Io, format!("no randomness available: {e}")))?;
    Ok(b)
}

/// A new secret: `prefix` + 43 characters of unpadded base64url.
pub fn new_secret(prefix: &str) -> Result<String, WardError> {
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::<32>()?)
    ))
}

/// What the store keeps of a secret.
pub fn secret_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.trim().as_bytes()).into()
}

/// `ward-apr-` + 20 hex characters.
pub fn new_approval_id() -> Result<String, WardError> {
    Ok(format!("ward-apr-{}", hex::encode(random::<10>()?)))
}

/// `key_` + 16 hex characters: names a key without revealing it.
pub fn new_key_id() -> Result<String, WardError> {
    Ok(format!("key_{}", hex::encode(random::<8>()?)))
}

/// API keys start with this.
pub const API_KEY_PREFIX: &str = "ward_k_";
/// Hook tokens start with this.
pub const HOOK_TOKEN_PREFIX: &str = "ward_h_";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_fresh_and_hash_stably() {
        let a = new_secret(API_KEY_PREFIX).unwrap();
        let b = new_secret(API_KEY_PREFIX).unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("ward_k_") && a.len() == 7 + 43, "{a}");
        assert_eq!(secret_hash(&a), secret_hash(&format!(" {a}\n")));
        assert_ne!(secret_hash(&a), secret_hash(&b));
        let id = new_approval_id().unwrap();
        assert!(id.starts_with("ward-apr-") && id.len() == 29, "{id}");
    }
}
