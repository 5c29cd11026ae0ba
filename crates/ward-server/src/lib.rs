//! ward-server: the one decision path, as a library the hook process and the daemon share, and
//! the `ward serve` daemon itself.
//!
//! - [`home`]: `$WARD_HOME` (signing key, policy pack and its compiled cache, the SQLite log);
//! - [`pipeline`]: payload → facts → Cedar → audit event → client reply, split so that the
//!   recording step can be a direct append (a hook process), a spool line (a hook while the
//!   daemon is down) or a group commit (the daemon);
//! - [`service`], [`http`], [`serve`]: the daemon — warm engines, attested callers, group
//!   commit ([`commit`]), approvals ([`approvals`]), metrics, the HTTP API on TCP and the unix
//!   socket;
//! - [`client`]: the blocking HTTP client the hook, the CLI and the load tool use;
//! - [`spool`], [`config`], [`users`], [`keys`], [`attest`], [`ident`], [`ttl`].

pub mod approvals;
pub mod assistants;
pub mod attest;
pub mod client;
pub mod commit;
pub mod config;
pub mod credentials;
pub mod gateway;
pub mod home;
pub mod http;
pub mod ident;
pub mod keys;
pub mod mcp_pins;
pub mod metrics;
pub mod pipeline;
pub mod serve;
pub mod service;
pub mod sessions;
pub mod spool;
pub mod tasks;
pub mod ttl;
pub mod users;
