//! ward-policy: normalization of tool calls into [`facts::Facts`], and decisions with Cedar.
//!
//! Pure: no file, network or clock access. The caller hands in policy text and gets back a
//! [`ward_core::Decision`]. Only this crate imports Cedar.

pub mod engine;
pub mod facts;
pub mod normalize;
pub mod pack;

pub use engine::{Engine, decide, warm_up};
pub use facts::{Facts, NormalizeEnv};
pub use pack::{CompiledPack, PackSource, SCHEMA, compile};
