//! Developer aid: `WARD_DEBUG_CMD='…' cargo test -p ward-policy --test normalize_debug -- --nocapture`
//! prints the facts of one command. Does nothing without the variable.

use ward_policy::facts::NormalizeEnv;
use ward_policy::normalize::{analyze_shell, default_allow_hosts};

#[test]
fn print_facts_of_env_command() {
    let Ok(cmd) = std::env::var("WARD_DEBUG_CMD") else {
        return;
    };
    let env = NormalizeEnv {
        home: "/home/dev".into(),
        cwd: "/home/dev/src/webapp".into(),
        repo_root: None,
        allow_hosts: default_allow_hosts().into(),
    };
    for line in cmd.split("\n--\n") {
        let f = analyze_shell(line, &env);
        println!("@@ {}", serde_json::json!({"cmd": line, "facts": f}));
    }
}
