//! Task tokens: EdDSA (Ed25519) JWS compact JWTs. Parse, don't validate: a token string becomes
//! an [`UnverifiedToken`] (well-formed, EdDSA, claims readable) and only [`UnverifiedToken::verify`]
//! turns it into a [`VerifiedToken`] (signature, lifetime and audience checked).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Longest token accepted, so parsing stays cheap on hostile input.
const MAX_TOKEN_LEN: usize = 8 * 1024;
/// Tolerated clock skew for `iat`, in seconds.
const CLOCK_SKEW_S: u64 = 60;

/// RFC 8693 actor: who acts, and (nested) on whose behalf the previous actor acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Box<Actor>>,
}

impl Actor {
    /// Outermost first: `[current actor, its predecessor, ...]`.
    pub fn chain(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = Some(self);
        while let Some(a) = cur {
            out.push(a.sub.clone());
            cur = a.act.as_deref();
        }
        out
    }

    /// Builds the nesting from a chain (outermost first); `None` if the chain is empty.
    pub fn from_chain(chain: &[String]) -> Option<Actor> {
        chain.iter().rev().fold(None, |inner, sub| {
            Some(Actor {
                sub: sub.clone(),
                act: inner.map(Box::new),
            })
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
    /// The ward task the token belongs to.
    pub task: String,
    /// Space-delimited in JSON (RFC 8693 §4.2, RFC 9068), always present (`""` when empty).
    #[serde(with = "space_delimited")]
    pub scope: Vec<String>,
    /// RFC 8693 `act`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
}

/// `scope` as one space-delimited string. Items must not contain spaces (scopes never do).
mod space_delimited {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(scope: &[String], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&scope.join(" "))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let s = String::deserialize(d)?;
        Ok(s.split(' ')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect())
    }
}

/// An Ed25519 signing key plus its key id.
#[derive(Clone)]
pub struct TokenKey {
    signing: SigningKey,
    kid: String,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl TokenKey {
    pub fn from_seed(seed: &[u8; 32]) -> TokenKey {
        let signing = SigningKey::from_bytes(seed);
        let kid = kid_of(&signing.verifying_key());
        TokenKey { signing, kid }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// Compact JWS with header `{"alg":"EdDSA","typ":"JWT","kid":...}`.
    pub fn sign(&self, claims: &Claims) -> String {
        let header = serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": self.kid});
        // Claims hold only strings and integers, so serializing cannot fail.
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let sig = self.signing.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }
}

/// `"ed25519-"` + the first 16 hex chars of SHA-256 of the 32 public key bytes.
pub fn kid_of(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("ed25519-{}", hex::encode(&digest[..8]))
}

/// RFC 8037 OKP JWK for `key`.
pub fn jwk(key: &VerifyingKey) -> serde_json::Value {
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": URL_SAFE_NO_PAD.encode(key.as_bytes()),
        "kid": kid_of(key),
        "alg": "EdDSA",
        "use": "sig",
    })
}

/// JWK set: `{"keys":[jwk...]}`.
pub fn jwks(keys: &[VerifyingKey]) -> serde_json::Value {
    serde_json::json!({ "keys": keys.iter().map(jwk).collect::<Vec<_>>() })
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    /// No extensions are understood, so any `crit` must be rejected (RFC 7515 §4.1.11).
    crit: Option<serde_json::Value>,
}

/// A well-formed EdDSA token whose signature has not been checked yet.
#[derive(Debug, Clone)]
pub struct UnverifiedToken {
    kid: String,
    claims: Claims,
    signing_input: String,
    signature: Signature,
}

fn b64(part: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)
}

impl UnverifiedToken {
    /// At most 8 KiB, exactly three base64url (no pad) parts, header with alg `EdDSA`, a `kid`
    /// and typ absent, `JWT` or `at+jwt`; claims must deserialize (unknown ones are ignored).
    /// Does not check the signature.
    pub fn parse(token: &str) -> Result<UnverifiedToken, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLarge);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let header: Header = serde_json::from_slice(&b64(h)?).map_err(|_| TokenError::Malformed)?;
        if header.alg != "EdDSA" {
            return Err(TokenError::UnsupportedAlg);
        }
        let typ_ok = header
            .typ
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case("JWT") || t.eq_ignore_ascii_case("at+jwt"));
        if !typ_ok || header.crit.is_some() {
            return Err(TokenError::Malformed);
        }
        let kid = header.kid.ok_or(TokenError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&b64(p)?).map_err(|_| TokenError::Malformed)?;
        let signature = Signature::from_slice(&b64(s)?).map_err(|_| TokenError::Malformed)?;
        Ok(UnverifiedToken {
            kid,
            claims,
            signing_input: format!("{h}.{p}"),
            signature,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Unverified claims: for choosing what to look up (e.g. the task), never for trusting.
    pub fn claims_unverified(&self) -> &Claims {
        &self.claims
    }

    /// Checks, in order: the kid names `key`, the signature (strict), `now_s < exp`,
    /// `iat <= now_s + 60`, and `aud == audience`.
    pub fn verify(
        self,
        key: &VerifyingKey,
        audience: &str,
        now_s: u64,
    ) -> Result<VerifiedToken, TokenError> {
        if self.kid != kid_of(key) {
            return Err(TokenError::UnknownKey);
        }
        key.verify_strict(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| TokenError::BadSignature)?;
        if now_s >= self.claims.exp {
            return Err(TokenError::Expired);
        }
        if self.claims.iat > now_s.saturating_add(CLOCK_SKEW_S) {
            return Err(TokenError::NotYetValid);
        }
        if self.claims.aud != audience {
            return Err(TokenError::WrongAudience);
        }
        Ok(VerifiedToken {
            claims: self.claims,
        })
    }
}

/// A token whose signature, lifetime and audience have been checked; only `verify` makes one.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    claims: Claims,
}

impl VerifiedToken {
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    pub fn into_claims(self) -> Claims {
        self.claims
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    TooLarge,
    Malformed,
    UnsupportedAlg,
    UnknownKey,
    BadSignature,
    Expired,
    NotYetValid,
    WrongAudience,
}

impl TokenError {
    /// Stable snake_case code for responses and audit records.
    pub fn code(self) -> &'static str {
        match self {
            TokenError::TooLarge => "too_large",
            TokenError::Malformed => "malformed",
            TokenError::UnsupportedAlg => "unsupported_alg",
            TokenError::UnknownKey => "unknown_key",
            TokenError::BadSignature => "bad_signature",
            TokenError::Expired => "expired",
            TokenError::NotYetValid => "not_yet_valid",
            TokenError::WrongAudience => "wrong_audience",
        }
    }
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TokenError::TooLarge => "the token is too large",
            TokenError::Malformed => "the token is malformed",
            TokenError::UnsupportedAlg => "the token uses an unsupported algorithm",
            TokenError::UnknownKey => "the token was signed by an unknown key",
            TokenError::BadSignature => "the token's signature does not verify",
            TokenError::Expired => "the token has expired",
            TokenError::NotYetValid => "the token is not yet valid",
            TokenError::WrongAudience => "the token is for another audience",
        })
    }
}

impl std::error::Error for TokenError {}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: u64 = 1_700_000_000;
    const AUD: &str = "ward";

    fn key(n: u8) -> TokenKey {
        TokenKey::from_seed(&[n; 32])
    }

    fn claims() -> Claims {
        Claims {
            iss: "ward".into(),
            sub: "task:t1".into(),
            aud: AUD.into(),
            iat: NOW,
            exp: NOW + 300,
            jti: "j1".into(),
            task: "t1".into(),
            scope: vec!["repo:acme/api".into(), "env:staging".into()],
            act: Actor::from_chain(&["agent:b".into(), "agent:a".into(), "user:ann".into()]),
        }
    }

    /// A token with an arbitrary header and payload, signed by `signer`.
    fn raw(header: &serde_json::Value, payload: &[u8], signer: &TokenKey) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let sig = signer.signing.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    fn check(token: &str, k: &TokenKey, now: u64) -> Result<Claims, TokenError> {
        UnverifiedToken::parse(token)?
            .verify(&k.verifying_key(), AUD, now)
            .map(VerifiedToken::into_claims)
    }

    #[test]
    fn round_trip() {
        let k = key(1);
        let token = k.sign(&claims());
        let parsed = UnverifiedToken::parse(&token).unwrap();
        assert_eq!(parsed.kid(), k.kid());
        assert_eq!(parsed.claims_unverified(), &claims());
        let verified = parsed.verify(&k.verifying_key(), AUD, NOW).unwrap();
        assert_eq!(verified.claims(), &claims());
    }

    #[test]
    fn header_and_scope_encoding() {
        let k = key(1);
        let token = k.sign(&claims());
        let mut parts = token.split('.');
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap())
                .unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": k.kid()})
        );
        let payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap())
                .unwrap();
        assert_eq!(payload["scope"], "repo:acme/api env:staging");

        let mut c = claims();
        c.scope.clear();
        c.act = None;
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["scope"], "");
        assert!(json.get("act").is_none());
        assert_eq!(check(&k.sign(&c), &k, NOW).unwrap(), c);
    }

    #[test]
    fn actor_chain_survives() {
        let k = key(1);
        let got = check(&k.sign(&claims()), &k, NOW).unwrap();
        let act = got.act.unwrap();
        assert_eq!(act.chain(), ["agent:b", "agent:a", "user:ann"]);
        assert_eq!(act.sub, "agent:b");
        assert_eq!(act.act.as_ref().unwrap().sub, "agent:a");
        assert_eq!(act.act.unwrap().act.unwrap().sub, "user:ann");
        assert_eq!(Actor::from_chain(&[]), None);
        let json = serde_json::to_value(Actor::from_chain(&["a".into(), "b".into()])).unwrap();
        assert_eq!(json, serde_json::json!({"sub": "a", "act": {"sub": "b"}}));
    }

    #[test]
    fn lifetime_and_audience() {
        let k = key(1);
        let token = k.sign(&claims());
        assert!(check(&token, &k, NOW + 299).is_ok());
        assert_eq!(check(&token, &k, NOW + 300), Err(TokenError::Expired));
        assert_eq!(check(&token, &k, NOW + 10_000), Err(TokenError::Expired));
        assert!(check(&token, &k, NOW - 60).is_ok());
        assert_eq!(check(&token, &k, NOW - 61), Err(TokenError::NotYetValid));
        let wrong_aud =
            UnverifiedToken::parse(&token)
                .unwrap()
                .verify(&k.verifying_key(), "elsewhere", NOW);
        assert_eq!(wrong_aud.err(), Some(TokenError::WrongAudience));
    }

    #[test]
    fn flipped_payload_char_never_verifies() {
        let k = key(1);
        let token = k.sign(&claims());
        let (h, rest) = token.split_once('.').unwrap();
        let (p, s) = rest.split_once('.').unwrap();
        let mut reached_signature = 0;
        for i in 0..p.len() {
            let mut bytes = p.as_bytes().to_vec();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let p2 = String::from_utf8(bytes).unwrap();
            match UnverifiedToken::parse(&format!("{h}.{p2}.{s}")) {
                Ok(t) => {
                    reached_signature += 1;
                    let res = t.verify(&k.verifying_key(), AUD, NOW);
                    assert_eq!(res.err(), Some(TokenError::BadSignature));
                }
                Err(e) => assert_eq!(e, TokenError::Malformed),
            }
        }
        assert!(
            reached_signature > 10,
            "only {reached_signature} flips parsed"
        );
    }

    #[test]
    fn widened_scope_with_old_signature_fails() {
        let k = key(1);
        let token = k.sign(&claims());
        let parts: Vec<&str> = token.split('.').collect();
        let mut c = claims();
        c.scope.push("repo:*".into());
        let p2 = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap());
        let forged = format!("{}.{p2}.{}", parts[0], parts[2]);
        let parsed = UnverifiedToken::parse(&forged).unwrap();
        assert!(
            parsed
                .claims_unverified()
                .scope
                .contains(&"repo:*".to_string())
        );
        assert_eq!(
            parsed.verify(&k.verifying_key(), AUD, NOW).err(),
            Some(TokenError::BadSignature)
        );
    }

    #[test]
    fn other_key() {
        let (a, b) = (key(1), key(2));
        assert_ne!(a.kid(), b.kid());
        assert_eq!(
            check(&b.sign(&claims()), &a, NOW),
            Err(TokenError::UnknownKey)
        );
        // Signed by b but claiming a's kid.
        let header = serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": a.kid()});
        let forged = raw(&header, &serde_json::to_vec(&claims()).unwrap(), &b);
        assert_eq!(check(&forged, &a, NOW), Err(TokenError::BadSignature));
        // The same construction signed by a does verify, so the helper is sound.
        let honest = raw(&header, &serde_json::to_vec(&claims()).unwrap(), &a);
        assert!(check(&honest, &a, NOW).is_ok());
    }

    #[test]
    fn unsupported_algs() {
        let k = key(1);
        let payload = serde_json::to_vec(&claims()).unwrap();
        let p = URL_SAFE_NO_PAD.encode(&payload);
        for alg in ["none", "None", "HS256", "RS256", "ES256", "Ed25519", ""] {
            let header = serde_json::json!({"alg": alg, "typ": "JWT", "kid": k.kid()});
            let h = URL_SAFE_NO_PAD.encode(header.to_string());
            assert_eq!(
                UnverifiedToken::parse(&format!("{h}.{p}.")).err(),
                Some(TokenError::UnsupportedAlg),
                "{alg}"
            );
            assert_eq!(
                check(&raw(&header, &payload, &k), &k, NOW),
                Err(TokenError::UnsupportedAlg),
                "{alg}"
            );
        }
    }

    #[test]
    fn header_rules() {
        let k = key(1);
        let payload = serde_json::to_vec(&claims()).unwrap();
        let kid = k.kid();
        for (header, ok) in [
            (serde_json::json!({"alg": "EdDSA", "kid": kid}), true),
            (
                serde_json::json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid}),
                true,
            ),
            (serde_json::json!({"alg": "EdDSA", "typ": "JWT"}), false),
            (
                serde_json::json!({"alg": "EdDSA", "typ": "JOSE", "kid": kid}),
                false,
            ),
            (
                serde_json::json!({"alg": "EdDSA", "kid": kid, "crit": ["exp"]}),
                false,
            ),
            (serde_json::json!({"typ": "JWT", "kid": kid}), false),
        ] {
            let res = check(&raw(&header, &payload, &k), &k, NOW);
            if ok {
                assert!(res.is_ok(), "{header}");
            } else {
                assert_eq!(res, Err(TokenError::Malformed), "{header}");
            }
        }
        // Claims missing a required field, and unknown claims ignored.
        let mut json = serde_json::to_value(claims()).unwrap();
        json.as_object_mut().unwrap().remove("task");
        let header = serde_json::json!({"alg": "EdDSA", "kid": kid});
        let missing = raw(&header, &serde_json::to_vec(&json).unwrap(), &k);
        assert_eq!(check(&missing, &k, NOW), Err(TokenError::Malformed));
        json["task"] = "t1".into();
        json["extra"] = serde_json::json!({"x": 1});
        let extra = raw(&header, &serde_json::to_vec(&json).unwrap(), &k);
        assert_eq!(check(&extra, &k, NOW), Ok(claims()));
    }

    #[test]
    fn malformed_shapes() {
        let k = key(1);
        let token = k.sign(&claims());
        let parts: Vec<&str> = token.split('.').collect();
        let malformed = [
            String::new(),
            format!("{}.{}", parts[0], parts[1]),
            format!("{token}.{}", parts[2]),
            format!("{token}."),
            format!("{}.{}!.{}", parts[0], parts[1], parts[2]),
            format!("{}.{}.{}=", parts[0], parts[1], parts[2]),
            format!("{}.{}.{}", parts[0], parts[1], &parts[2][..40]),
            format!("e30.{}.{}", parts[1], parts[2]),
            format!("{}.e30.{}", parts[0], parts[2]),
        ];
        for t in &malformed {
            assert_eq!(
                UnverifiedToken::parse(t).err(),
                Some(TokenError::Malformed),
                "{t}"
            );
        }
        let big = format!("{token}{}", "A".repeat(MAX_TOKEN_LEN));
        assert_eq!(
            UnverifiedToken::parse(&big).err(),
            Some(TokenError::TooLarge)
        );
        assert_eq!(
            UnverifiedToken::parse(&"a".repeat(MAX_TOKEN_LEN + 1)).err(),
            Some(TokenError::TooLarge)
        );
    }

    #[test]
    fn jwks_shape() {
        let (a, b) = (key(1), key(2));
        let set = jwks(&[a.verifying_key(), b.verifying_key()]);
        let keys = set["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 2);
        for (jwk, k) in keys.iter().zip([&a, &b]) {
            assert_eq!(jwk["kty"], "OKP");
            assert_eq!(jwk["crv"], "Ed25519");
            assert_eq!(jwk["alg"], "EdDSA");
            assert_eq!(jwk["use"], "sig");
            assert_eq!(jwk["kid"], k.kid());
            let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
            assert_eq!(x, k.verifying_key().to_bytes());
        }
        let kid = a.kid();
        let hex_part = kid.strip_prefix("ed25519-").unwrap();
        assert_eq!(hex_part.len(), 16);
        assert!(hex_part.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn error_codes_and_messages() {
        assert_eq!(TokenError::NotYetValid.code(), "not_yet_valid");
        assert_eq!(TokenError::Expired.to_string(), "the token has expired");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,300}") {
            let _ = UnverifiedToken::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_jws_shapes(
            s in "[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,200}\\.[A-Za-z0-9_-]{0,90}"
        ) {
            let _ = UnverifiedToken::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_json_headers(header in "\\PC{0,60}", payload in "\\PC{0,120}") {
            let t = format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(payload),
                URL_SAFE_NO_PAD.encode([0u8; 64])
            );
            let _ = UnverifiedToken::parse(&t);
        }
    }
}
