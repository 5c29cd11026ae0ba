//! Fuzz the copilot hook payload parser and its replies.
#![no_main]

#[path = "clients_common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::check(ward_core::ClientKind::Copilot, data));
