//! `$WARD_HOME`: the signing key, the audit database, the editable policy pack and its
//! compiled cache. Created on first use; an existing key is never overwritten.

use ed25519_dalek::SigningKey;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use ward_audit::{NoteSigner, NoteVerifier};
use ward_core::{ErrorCode, WardError};
use ward_policy::pack::{CompiledPack, PackSource, Slice, compile, pack_hash};

/// The default policy pack, embedded so a fresh install needs nothing else.
pub const DEFAULT_PACK: &[(&str, &str)] = &[
    (
        "00-base.cedar",
        include_str!("../../../policies/00-base.cedar"),
    ),
    (
        "destructive.cedar",
        include_str!("../../../policies/destructive.cedar"),
    ),
    (
        "high-impact.cedar",
        include_str!("../../../policies/high-impact.cedar"),
    ),
    ("mcp.cedar", include_str!("../../../policies/mcp.cedar")),
    (
        "network.cedar",
        include_str!("../../../policies/network.cedar"),
    ),
    (
        "obfuscation.cedar",
        include_str!("../../../policies/obfuscation.cedar"),
    ),
    (
        "secrets.cedar",
        include_str!("../../../policies/secrets.cedar"),
    ),
    (
        "tamper.cedar",
        include_str!("../../../policies/tamper.cedar"),
    ),
];

fn home_err(what: &str, path: &Path, e: impl std::fmt::Display) -> WardError {
    WardError::new(
        ErrorCode::HomeInit,
        format!("{what} `{}`: {e}", path.display()),
    )
}

/// A resolved ward data directory.
#[derive(Debug, Clone)]
pub struct Home {
    pub dir: PathBuf,
}

impl Home {
    /// `$WARD_HOME`, else `$XDG_DATA_HOME/ward`, else `~/.local/share/ward`.
    pub fn resolve() -> Result<Home, WardError> {
        if let Some(d) = std::env::var_os("WARD_HOME").filter(|v| !v.is_empty()) {
            return Ok(Home {
                dir: PathBuf::from(d),
            });
        }
        if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
            return Ok(Home {
                dir: PathBuf::from(d).join("ward"),
            });
        }
        match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(h) => Ok(Home {
                dir: PathBuf::from(h).join(".local/share/ward"),
            }),
            None => Err(WardError::new(
                ErrorCode::HomeInit,
                "cannot find a data directory: set `WARD_HOME` or `HOME`",
            )),
        }
    }

    pub fn at(dir: impl Into<PathBuf>) -> Home {
        Home { dir: dir.into() }
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join("ward.db")
    }
    pub fn key_path(&self) -> PathBuf {
        self.dir.join("keys/audit.key")
    }
    pub fn vkey_path(&self) -> PathBuf {
        self.dir.join("keys/audit.vkey")
    }
    /// The key that signs task tokens (separate from the audit key: it rotates on its own).
    pub fn token_key_path(&self) -> PathBuf {
        self.dir.join("keys/token.key")
    }
    /// The key that seals static secrets at rest.
    pub fn seal_key_path(&self) -> PathBuf {
        self.dir.join("keys/secrets.key")
    }

    /// The task-token signing key, made on first use.
    pub fn token_key(&self) -> Result<ward_broker::jwt::TokenKey, WardError> {
        let seed = self.key_file(&self.token_key_path())?;
        Ok(ward_broker::jwt::TokenKey::from_seed(&seed))
    }

    /// The SSH certificate authority, made on first use.
    pub fn ssh_ca(&self) -> Result<ward_broker::ssh::SshCa, WardError> {
        Ok(ward_broker::ssh::SshCa::from_seed(
            &self.key_file(&self.dir.join("keys/ssh_ca.key"))?,
        ))
    }

    /// The key sealing static secrets, made on first use.
    pub fn seal_key(&self) -> Result<ward_broker::seal::SealKey, WardError> {
        Ok(ward_broker::seal::SealKey::from_bytes(
            self.key_file(&self.seal_key_path())?,
        ))
    }

    /// 32 secret bytes kept as hex in a mode-0600 file, created (never overwritten) if absent.
    fn key_file(&self, path: &Path) -> Result<[u8; 32], WardError> {
        let read = |path: &Path| -> Result<Option<[u8; 32]>, WardError> {
            match fs::read_to_string(path) {
                Ok(text) => hex::decode(text.trim())
                    .ok()
                    .and_then(|v| <[u8; 32]>::try_from(v).ok())
                    .map(Some)
                    .ok_or_else(|| home_err("malformed key", path, "expected 32 hex bytes")),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(home_err("cannot read the key", path, e)),
            }
        };
        if let Some(k) = read(path)? {
            return Ok(k);
        }
        if let Some(dir) = path.parent()
            && !dir.exists()
        {
            fs::create_dir_all(dir).map_err(|e| home_err("cannot create", dir, e))?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| home_err("cannot set permissions on", dir, e))?;
        }
        let mut seed = [0u8; 32];
        rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut seed)
            .map_err(|e| home_err("no randomness for", path, e))?;
        // create_new: two processes racing on first use keep the first key.
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(mut f) => {
                f.write_all(format!("{}\n", hex::encode(seed)).as_bytes())
                    .and_then(|_| f.sync_all())
                    .map_err(|e| home_err("cannot write", path, e))?;
                Ok(seed)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                read(path)?.ok_or_else(|| home_err("cannot read the key", path, "it vanished"))
            }
            Err(e) => Err(home_err("cannot create", path, e)),
        }
    }

    pub fn policies_dir(&self) -> PathBuf {
        self.dir.join("policies")
    }
    /// Replaced (a new file, so a new inode) by every registry change ward makes, so that a
    /// daemon on an SQLite store knows its memory of registrations is stale
    /// ([`Home::touch_registry`]).
    pub fn registry_stamp_path(&self) -> PathBuf {
        self.dir.join("registry.stamp")
    }

    /// Mark the registry changed (after the change committed).
    pub fn touch_registry(&self) -> Result<(), WardError> {
        write_atomic(
            &self.registry_stamp_path(),
            crate::pipeline::new_event_id().as_bytes(),
            0o644,
        )
    }

    /// What identifies the current stamp (inode and modification time), `None` if absent.
    pub fn registry_stamp(&self) -> Option<(u64, i64, i64)> {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(self.registry_stamp_path())
            .ok()
            .map(|m| (m.ino(), m.mtime(), m.mtime_nsec()))
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.dir.join("cache")
    }

    /// Create whatever is missing. Returns the list of things created.
    pub fn init(&self) -> Result<Vec<String>, WardError> {
        let mut created = Vec::new();
        for d in [&self.dir, &self.dir.join("keys")] {
            if !d.exists() {
                fs::create_dir_all(d).map_err(|e| home_err("cannot create", d, e))?;
                fs::set_permissions(d, fs::Permissions::from_mode(0o700))
                    .map_err(|e| home_err("cannot set permissions on", d, e))?;
                created.push(d.display().to_string());
            }
        }
        let key_path = self.key_path();
        if !key_path.exists() {
            let mut seed = [0u8; 32];
            rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut seed)
                .map_err(|e| home_err("no randomness for", &key_path, e))?;
            let host = crate::ident::hostname();
            let name = format!("ward/{host}");
            let signer = NoteSigner::new(&name, SigningKey::from_bytes(&seed))
                .map_err(|e| home_err("cannot make a signer for", &key_path, e))?;
            // create_new: never overwrite a key, even if two hooks race on first use.
            let file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&key_path);
            match file {
                Ok(mut f) => {
                    let text = format!("{name}\n{}\n", hex::encode(seed));
                    f.write_all(text.as_bytes())
                        .and_then(|_| f.sync_all())
                        .map_err(|e| home_err("cannot write", &key_path, e))?;
                    write_atomic(
                        &self.vkey_path(),
                        format!("{}\n", signer.verifier_key()).as_bytes(),
                        0o644,
                    )?;
                    created.push(key_path.display().to_string());
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(home_err("cannot create", &key_path, e)),
            }
        }
        let pol = self.policies_dir();
        if !pol.exists() {
            let tmp = self
                .dir
                .join(format!(".policies.tmp.{}", std::process::id()));
            fs::create_dir_all(&tmp).map_err(|e| home_err("cannot create", &tmp, e))?;
            for (name, text) in DEFAULT_PACK {
                fs::write(tmp.join(name), text).map_err(|e| home_err("cannot write", &tmp, e))?;
            }
            match fs::rename(&tmp, &pol) {
                Ok(()) => created.push(pol.display().to_string()),
                Err(_) if pol.exists() => {
                    let _ = fs::remove_dir_all(&tmp);
                }
                Err(e) => return Err(home_err("cannot create", &pol, e)),
            }
        }
        let db = self.db_path();
        if !db.exists() {
            ward_store::Store::open(&db)?;
            created.push(db.display().to_string());
        }
        Ok(created)
    }

    /// The audit signer (key name + key).
    pub fn signer(&self) -> Result<NoteSigner, WardError> {
        let path = self.key_path();
        let text = fs::read_to_string(&path)
            .map_err(|e| home_err("cannot read the signing key", &path, e))?;
        let mut lines = text.lines();
        let (Some(name), Some(seed_hex)) = (lines.next(), lines.next()) else {
            return Err(home_err(
                "malformed signing key",
                &path,
                "expected a name line and a hex seed line",
            ));
        };
        let seed = hex::decode(seed_hex.trim())
            .ok()
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| {
                home_err(
                    "malformed signing key",
                    &path,
                    "the seed is not 32 hex bytes",
                )
            })?;
        NoteSigner::new(name.trim(), SigningKey::from_bytes(&seed))
            .map_err(|e| home_err("malformed signing key", &path, e))
    }

    /// The verifier key, from `keys/audit.vkey` (what an outside verifier is given).
    pub fn verifier(&self) -> Result<NoteVerifier, WardError> {
        let path = self.vkey_path();
        let text = fs::read_to_string(&path)
            .map_err(|e| home_err("cannot read the verifier key", &path, e))?;
        NoteVerifier::from_vkey(text.trim())
            .map_err(|e| home_err("malformed verifier key", &path, e))
    }

    /// The policy files of the pack, sorted by name.
    pub fn policy_sources(&self) -> Result<Vec<PackSource>, WardError> {
        read_pack_dir(&self.policies_dir())
    }

    /// Parse only the slice of the pack for `action`, compiling and caching the pack when it
    /// changed (validation is the slow part; it runs once per pack content).
    pub fn engine(&self, action: &str) -> Result<ward_policy::Engine, WardError> {
        let sources = self.policy_sources()?;
        let hash = pack_hash(&sources);
        let dir = self
            .cache_dir()
            .join(format!("pack-{CACHE_FORMAT}-{}", &hash[..32]));
        let slice = dir.join(format!("{action}.json"));
        if let Ok(bytes) = fs::read(&slice)
            && let Ok(slice) = serde_json::from_slice::<Slice>(&bytes)
            && let Ok(engine) = ward_policy::Engine::from_compiled(action, &slice)
        {
            return Ok(engine);
        }
        // No cache yet, or a damaged one: validate the pack and (re)write the cache.
        let compiled = compile_sources(&sources)?;
        let _ = fs::remove_dir_all(&dir);
        let _ = write_cache(&dir, &compiled);
        let slice = compiled.slices.get(action).cloned().unwrap_or_default();
        ward_policy::Engine::from_compiled(action, &slice)
    }
}

/// Compile, turning diagnostics into one error naming the first problem and the count.
pub fn compile_sources(sources: &[PackSource]) -> Result<CompiledPack, WardError> {
    compile(sources).map_err(|diags| {
        let first = diags.first().map(|d| d.to_string()).unwrap_or_default();
        let more = if diags.len() > 1 {
            format!(" (and {} more)", diags.len() - 1)
        } else {
            String::new()
        };
        WardError::new(
            ErrorCode::PolicyInvalid,
            format!("policy pack is invalid: {first}{more}"),
        )
    })
}

/// Read every `*.cedar` file of a directory.
pub fn read_pack_dir(dir: &Path) -> Result<Vec<PackSource>, WardError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        WardError::new(
            ErrorCode::PolicyUnreadable,
            format!("cannot read the policy pack `{}`: {e}", dir.display()),
        )
    };
    let mut out = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| unreadable(&e))?;
    for entry in entries {
        let entry = entry.map_err(|e| unreadable(&e))?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("cedar") {
            continue;
        }
        let text = fs::read_to_string(&path).map_err(|e| {
            WardError::new(
                ErrorCode::PolicyUnreadable,
                format!("cannot read policy file `{}`: {e}", path.display()),
            )
        })?;
        out.push(PackSource {
            name: entry.file_name().to_string_lossy().into_owned(),
            text,
        });
    }
    if out.is_empty() {
        return Err(WardError::new(
            ErrorCode::PolicyUnreadable,
            format!("no `*.cedar` files in `{}`", dir.display()),
        ));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Version of the slice cache's layout (part of its directory name).
const CACHE_FORMAT: &str = "v3";

fn write_cache(dir: &Path, pack: &CompiledPack) -> std::io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let parent = dir.parent().unwrap_or(dir);
    fs::create_dir_all(parent)?;
    let tmp = parent.join(format!(".tmp-{}-{}", std::process::id(), pack.hash.len()));
    fs::create_dir_all(&tmp)?;
    for (action, slice) in &pack.slices {
        fs::write(
            tmp.join(format!("{action}.json")),
            serde_json::to_vec(slice)?,
        )?;
    }
    if fs::rename(&tmp, dir).is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    Ok(())
}

/// Write a file atomically (temp file + fsync + rename) with the given mode.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), WardError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    let tmp = parent.join(format!(
        ".{}.tmp.{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let res = (|| -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    res.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        WardError::new(
            ErrorCode::Io,
            format!("cannot write `{}`: {e}", path.display()),
        )
    })
}
