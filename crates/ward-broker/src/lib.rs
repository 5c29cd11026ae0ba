//! Credentials without standing secrets: task tokens (EdDSA JWTs whose `act` claims carry the
//! actor chain), scopes that can only narrow, and secrets sealed at rest. Pure functions of their
//! inputs; the store, the clock and the files are the caller's.

pub mod jwt;
pub mod scope;
pub mod seal;
pub mod ssh;
pub mod standing;
pub mod task;
