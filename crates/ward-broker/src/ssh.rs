//! A ward SSH certificate authority: signs a user's public key for minutes, for the principals a
//! task may log in as, with the task in the key id (OpenSSH `ssh-keygen -L` shows it).

use ssh_key::certificate::{Builder, CertType};
use ssh_key::private::Ed25519Keypair;
use ssh_key::{PrivateKey, PublicKey};

/// The CA key (Ed25519).
pub struct SshCa {
    key: PrivateKey,
}

impl std::fmt::Debug for SshCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SshCa(..)")
    }
}

/// What a certificate is for.
#[derive(Debug, Clone)]
pub struct UserCert<'a> {
    /// The subject's public key, one OpenSSH line (`ssh-ed25519 AAAA… comment`).
    pub public_key: &'a str,
    /// Shown by `ssh-keygen -L` and logged by sshd: names the task, requester and assistant.
    pub key_id: &'a str,
    pub principals: &'a [String],
    pub valid_after: u64,
    pub valid_before: u64,
    pub serial: u64,
    pub nonce: [u8; 16],
}

impl SshCa {
    pub fn from_seed(seed: &[u8; 32]) -> SshCa {
        let mut key = PrivateKey::from(Ed25519Keypair::from_seed(seed));
        key.set_comment("ward-ssh-ca");
        SshCa { key }
    }

    /// The CA's public key as one OpenSSH line (for sshd's `TrustedUserCAKeys`).
    pub fn public_openssh(&self) -> Result<String, String> {
        self.key
            .public_key()
            .to_openssh()
            .map_err(|e| e.to_string())
    }

    /// Sign a user certificate; the answer is one OpenSSH line (`…-cert.pub` content).
    pub fn sign_user(&self, c: &UserCert<'_>) -> Result<String, String> {
        let subject = PublicKey::from_openssh(c.public_key.trim())
            .map_err(|e| format!("not an OpenSSH public key: {e}"))?;
        if c.principals.is_empty() {
            return Err("a certificate needs at least one principal".into());
        }
        let mut b = Builder::new(
            c.nonce.to_vec(),
            subject.key_data().clone(),
            c.valid_after,
            c.valid_before,
        )
        .map_err(|e| e.to_string())?;
        let err = |e: ssh_key::Error| e.to_string();
        b.serial(c.serial).map_err(err)?;
        b.cert_type(CertType::User).map_err(err)?;
        b.key_id(c.key_id).map_err(err)?;
        for p in c.principals {
            b.valid_principal(p.as_str()).map_err(err)?;
        }
        // A shell, nothing else: no agent, port or X11 forwarding, no user rc.
        b.extension("permit-pty", "").map_err(err)?;
        let cert = b.sign(&self.key).map_err(err)?;
        cert.to_openssh().map_err(err)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn certificates_verify_against_the_ca_and_carry_the_task() {
        let ca = SshCa::from_seed(&[3; 32]);
        let user = PrivateKey::from(Ed25519Keypair::from_seed(&[4; 32]));
        let line = user.public_key().to_openssh().unwrap();
        let text = ca
            .sign_user(&UserCert {
                public_key: &line,
                key_id: "ward-task-1 alice",
                principals: &["deploy".into()],
                valid_after: 1_000,
                valid_before: 1_300,
                serial: 7,
                nonce: [9; 16],
            })
            .unwrap();
        let cert = ssh_key::Certificate::from_openssh(&text).unwrap();
        assert_eq!(cert.valid_principals(), ["deploy".to_string()]);
        assert_eq!((cert.valid_after(), cert.valid_before()), (1_000, 1_300));
        assert_eq!(cert.key_id(), "ward-task-1 alice");
        let ca_fp = ca.key.public_key().fingerprint(Default::default());
        cert.validate_at(1_100, [&ca_fp]).unwrap();
        assert!(cert.validate_at(1_400, [&ca_fp]).is_err(), "expired");
        let other = SshCa::from_seed(&[5; 32]);
        let other_fp = other.key.public_key().fingerprint(Default::default());
        assert!(cert.validate_at(1_100, [&other_fp]).is_err(), "another CA");
        assert!(
            ca.sign_user(&UserCert {
                public_key: "nonsense",
                ..UserCert {
                    public_key: &line,
                    key_id: "k",
                    principals: &["p".into()],
                    valid_after: 0,
                    valid_before: 1,
                    serial: 0,
                    nonce: [0; 16]
                }
            })
            .is_err()
        );
    }
}
