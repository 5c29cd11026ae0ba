//! ward-server: the one decision path, as a library the hook process and the daemon share.
//!
//! - [`home`]: `$WARD_HOME` (signing key, policy pack and its compiled cache, the SQLite log);
//! - [`pipeline`]: payload → facts → Cedar → audit event → client reply, split so that the
//!   recording step can be a direct append (a hook process) or a group commit (the daemon);
//! - [`ident`]: host, OS user, repository root.

pub mod home;
pub mod ident;
pub mod pipeline;
