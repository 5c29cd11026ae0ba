//! `analyze_shell` on arbitrary text: it must return (facts, possibly `unparseable`) and never
//! panic, hang or grow without bound. Run: `cargo +nightly fuzz run shell -- -max_total_time=60`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ward_policy::facts::NormalizeEnv;
use ward_policy::normalize::{analyze_shell, default_allow_hosts};

fuzz_target!(|data: &[u8]| {
    let Ok(command) = std::str::from_utf8(data) else {
        return;
    };
    let env = NormalizeEnv {
        home: "/home/dev".into(),
        cwd: "/home/dev/src/app".into(),
        repo_root: None,
        allow_hosts: default_allow_hosts(),
    };
    let facts = analyze_shell(command, &env);
    assert!(!(facts.parsed && facts.unparseable));
    assert!(!(facts.read_only && facts.unparseable));
});
