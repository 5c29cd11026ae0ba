//! The MCP gateway of `ward serve` (`/mcp/NAME`) with real peers: the npm reference servers and a
//! server on the official Python SDK as upstreams (stdio children and a Streamable HTTP server),
//! the Python SDK client and the npm inspector CLI as clients, in both protocol eras.

use super::mcp_peers::{npm_root, npm_server};
use super::*;
use sha2::{Digest, Sha256};
use std::net::TcpStream;

fn script(name: &str) -> String {
    format!("{}/tests/mcp/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// The Python SDK client's report (see tests/mcp/sdk_client.py).
fn sdk_client(url: &str, token: &str, mode: &str, args: &[&str]) -> Value {
    let o = Command::new("python3")
        .arg(script("sdk_client.py"))
        .args(["--url", url, "--token", token, "--mode", mode])
        .args(args)
        .output()
        .expect("python3");
    assert!(
        o.status.success(),
        "the SDK client failed: {}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    serde_json::from_str(text(&o.stdout).lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("not a report ({e}): {}{}", text(&o.stdout), text(&o.stderr)))
}

/// The inspector CLI's answer to one tools/call (its stdout, parsed).
fn inspector(url: &str, token: &str, era: &str, tool: &str, args: &[&str]) -> Value {
    let mut cmd = Command::new(npm_root().join("node_modules/.bin/mcp-inspector"));
    cmd.args(["--cli", "--protocol-era", era, url, "--transport", "http"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--method", "tools/call", "--tool-name", tool]);
    for a in args {
        cmd.args(["--tool-arg", a]);
    }
    let o = cmd.output().expect("mcp-inspector");
    let out = text(&o.stdout);
    let first = out
        .find('{')
        .unwrap_or_else(|| panic!("the inspector printed no JSON: {out}{}", text(&o.stderr)));
    // A refused call is a result (pretty JSON) followed by the CLI's own one-line verdict.
    let mut de = serde_json::Deserializer::from_str(&out[first..]).into_iter::<Value>();
    de.next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("not JSON: {out}"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private CA and a server certificate it signed for 127.0.0.1 (OpenSSL's CLI): the CA's
/// path, and the server's certificate and key.
fn test_pki(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let o = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(o.status.success(), "openssl {args:?}: {}", text(&o.stderr));
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=ward test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run(&ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "key.pem",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    run(&csr);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "cert.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    )
}

/// The Python SDK server on Streamable HTTP (HTTPS with a certificate and key), stopped on drop.
struct HttpUpstream(Child, u16);

impl HttpUpstream {
    fn start() -> HttpUpstream {
        HttpUpstream::start_with(&[])
    }

    fn start_with(tls: &[&Path]) -> HttpUpstream {
        let port = free_port();
        let mode = if tls.is_empty() { "http" } else { "https" };
        let child = Command::new("python3")
            .args([script("sdk_server.py").as_str(), mode, &port.to_string()])
            .args(tls)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 sdk_server.py");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the SDK server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        HttpUpstream(child, port)
    }
}

impl Drop for HttpUpstream {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A user's home with a README, an SSH key and AWS credentials.
fn user_tree(root: &Path) {
    std::fs::create_dir_all(root.join("proj")).unwrap();
    std::fs::create_dir_all(root.join(".ssh")).unwrap();
    std::fs::create_dir_all(root.join(".aws")).unwrap();
    std::fs::write(root.join("proj/README.md"), "# the project\n").unwrap();
    std::fs::write(root.join(".ssh/id_rsa"), "PRIVATE-KEY-MATERIAL\n").unwrap();
    std::fs::write(
        root.join(".aws/credentials"),
        "[default]\naws_secret_access_key = AWS-SECRET-MATERIAL\n",
    )
    .unwrap();
}

const POLICY: &str = r#"
@id("no-fs-writes-through-mcp")
@reason("files change through reviewed commits, not through the MCP filesystem server")
forbid (principal, action == Action::"mcp_call", resource)
when { context.mcp_server == "fs" && context.mcp_tool == "write_file" };

@id("no-args-prompt-or-startup-doc")
@reason("that prompt and that document are not for assistants")
forbid (principal, action == Action::"mcp_call", resource)
when { context.mcp_server == "everything" && (context.mcp_tool == "prompt:args-prompt"
       || context.mcp_tool == "resource:demo://resource/static/document/startup.md") };

@id("calc-add-is-approved")
@reason("the calculator's add needs a person's approval")
@outcome("ask")
forbid (principal, action == Action::"mcp_call", resource)
when { context.mcp_server == "calc" && context.mcp_tool == "add" };
"#;

/// A home whose ward.toml fronts `fs`, `everything`, `sdk` (stdio, with a sealed secret in its
/// environment), `calc` (the same server, under an asking policy) and, when given, `remote`
/// (Streamable HTTP, with a sealed bearer).
fn gateway_home(home: &Path, user: &Path, remote: Option<u16>) {
    gateway_home_tls(home, user, remote, None);
}

/// The same, and when given `remote-tls` (HTTPS, trusting the test CA) and `remote-untrusted`
/// (the same server, checked against the public roots).
fn gateway_home_tls(home: &Path, user: &Path, remote: Option<u16>, tls: Option<(u16, &Path)>) {
    let o = ward(
        home,
        &["secret", "put", "upstream"],
        b"ward-own-upstream-secret",
        &[],
    );
    assert!(o.status.success(), "secret put: {}", text(&o.stderr));
    let node =
        |pkg: &str, extra: &str| format!("[\"node\", \"{}\"{extra}]", npm_server(pkg).display());
    let mut toml = format!(
        "[mcp.servers.fs]\ncommand = {}\n\n[mcp.servers.everything]\ncommand = {}\n\n\
         [mcp.servers.sdk]\ncommand = [\"python3\", \"{sdk}\", \"stdio\"]\nsecrets = {{ UPSTREAM_TOKEN = \"upstream\" }}\n\n\
         [mcp.servers.calc]\ncommand = [\"python3\", \"{sdk}\", \"stdio\"]\n",
        node("server-filesystem", &format!(", \"{}\"", user.display())),
        node("server-everything", ""),
        sdk = script("sdk_server.py"),
    );
    if let Some(port) = remote {
        toml.push_str(&format!(
            "\n[mcp.servers.remote]\nurl = \"http://127.0.0.1:{port}/mcp\"\nbearer_secret = \"upstream\"\n\n[mcp.servers.remote-exchange]\nurl = \"http://127.0.0.1:{port}/mcp\"\nupstream_token = \"exchange\"\n"
        ));
    }
    if let Some((port, ca)) = tls {
        toml.push_str(&format!(
            "\n[mcp.servers.remote-tls]\nurl = \"https://127.0.0.1:{port}/mcp\"\nbearer_secret = \"upstream\"\nca_file = \"{}\"\n\n[mcp.servers.remote-untrusted]\nurl = \"https://127.0.0.1:{port}/mcp\"\n",
            ca.display()
        ));
    }
    std::fs::write(home.join("ward.toml"), toml).unwrap();
    std::fs::write(home.join("policies/test-mcp.cedar"), POLICY).unwrap();
}

fn hook_token(home: &Path, name: &str) -> String {
    let o = ward(home, &["hook", "token", name], b"", &[]);
    assert!(o.status.success(), "hook token: {}", text(&o.stderr));
    last_line(&o)
}

/// A task for the assistant the hook token `dev` registered (on its first call), with `scope`:
/// `ward task start --json`'s answer.
fn dev_task(home: &Path, scope: &str) -> Value {
    let list = ward(home, &["assistant", "list", "--json"], b"", &[]);
    let all: Value = serde_json::from_slice(&list.stdout).unwrap();
    let id = all["assistants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["os_user"] == "dev")
        .unwrap_or_else(|| panic!("no assistant for dev: {all}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let args = [
        "task",
        "start",
        "--assistant",
        &id,
        "--repo",
        "acme/api",
        "--scope",
        scope,
        "--json",
    ];
    let o = ward(home, &args, b"", &[]);
    assert!(o.status.success(), "task start: {}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn call_texts(report: &Value) -> Vec<(bool, String)> {
    report["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["isError"].as_bool().unwrap_or(true),
                c["text"]
                    .as_str()
                    .or(c["error"].as_str())
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn the_gateway_serves_real_servers_to_real_clients_in_both_eras() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let user = dir.path().join("user");
    user_tree(&user);
    let upstream = HttpUpstream::start();
    let pki = dir.path().join("pki");
    std::fs::create_dir_all(&pki).unwrap();
    let (ca, cert, key) = test_pki(&pki);
    let tls_upstream = HttpUpstream::start_with(&[&cert, &key]);
    let token = hook_token(&home, "dev");
    gateway_home_tls(&home, &user, Some(upstream.1), Some((tls_upstream.1, &ca)));
    // The daemon runs as the user whose home the filesystem server exposes; task tokens may be
    // exchanged for MCP servers.
    let d = Daemon::start(
        &home,
        &[
            ("HOME", user.to_str().unwrap()),
            ("WARD_TOKEN_AUDIENCES", "mcp:*"),
        ],
    );
    let url = |name: &str| format!("http://127.0.0.1:{}/mcp/{name}", d.port);
    let path = |p: &str| user.join(p).display().to_string();

    // The filesystem server (legacy-only) to the Python SDK client: the client probes the new
    // era, falls back to initialize; a README is read, credentials are not.
    let readme = json!({"path": path("proj/README.md")}).to_string();
    let key = json!({"path": path(".ssh/id_rsa")}).to_string();
    let aws = json!({"path": path(".aws/credentials")}).to_string();
    let write = json!({"path": path("proj/x.txt"), "content": "x"}).to_string();
    let r = sdk_client(
        &url("fs"),
        &token,
        "auto",
        &[
            "--call",
            "read_text_file",
            &readme,
            "--call",
            "read_text_file",
            &key,
            "--call",
            "read_text_file",
            &aws,
            "--call",
            "write_file",
            &write,
        ],
    );
    assert_eq!(r["era"], "legacy", "{r}");
    let calls = call_texts(&r);
    assert_eq!(calls[0], (false, "# the project\n".into()), "{r}");
    for (i, policy) in [
        (1, "credential-file-read"),
        (2, "credential-file-read"),
        (3, "no-fs-writes-through-mcp"),
    ] {
        assert!(calls[i].0 && calls[i].1.contains(policy), "{i}: {r}");
    }
    let all = r.to_string();
    assert!(!all.contains("PRIVATE-KEY-MATERIAL") && !all.contains("AWS-SECRET-MATERIAL"));
    assert!(
        !user.join("proj/x.txt").exists(),
        "a refused write reached the server"
    );
    // The policy refuses write_file whatever its arguments: it is not even listed.
    let tools: Vec<&str> = r["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        tools.contains(&"read_text_file") && !tools.contains(&"write_file"),
        "{tools:?}"
    );

    // The everything server: a call, and progress notifications streamed before the answer.
    let r = sdk_client(
        &url("everything"),
        &token,
        "auto",
        &[
            "--call",
            "echo",
            r#"{"message":"hi"}"#,
            "--progress",
            "trigger-long-running-operation",
            r#"{"duration":1,"steps":3}"#,
        ],
    );
    assert_eq!(call_texts(&r)[0], (false, "Echo: hi".into()), "{r}");
    assert_eq!(r["progress"]["steps"], 3, "{r}");
    assert_eq!(r["progress"]["isError"], false, "{r}");

    // The Python SDK server speaks both eras: stateless by default, sessions when asked. Its
    // sealed secret reaches its environment and nothing else.
    for (mode, era) in [("auto", "modern"), ("legacy", "legacy")] {
        let r = sdk_client(
            &url("sdk"),
            &token,
            mode,
            &[
                "--call",
                "add",
                r#"{"a":2,"b":3}"#,
                "--call",
                "whoami",
                "{}",
                "--call",
                "read_note",
                &key,
            ],
        );
        assert_eq!(r["era"], era, "{r}");
        let calls = call_texts(&r);
        assert_eq!(calls[0], (false, "5".into()), "{r}");
        assert_eq!(
            calls[1],
            (false, sha256_hex("ward-own-upstream-secret")),
            "{r}"
        );
        assert!(
            calls[2].0 && calls[2].1.contains("credential-file-read"),
            "{r}"
        );
    }

    // A remote upstream gets ward's own bearer, never the client's token, in both eras.
    for (mode, era) in [("auto", "modern"), ("legacy", "legacy")] {
        let r = sdk_client(&url("remote"), &token, mode, &["--call", "whoami", "{}"]);
        assert_eq!(r["era"], era, "{r}");
        let who = &call_texts(&r)[0];
        assert_eq!(
            who,
            &(false, sha256_hex("Bearer ward-own-upstream-secret")),
            "{r}"
        );
        assert_ne!(who.1, sha256_hex(&format!("Bearer {token}")));
    }

    // Over HTTPS too, the server's certificate checked against its `ca_file`; against the public
    // roots the same server is refused, and the client is told why.
    let r = sdk_client(
        &url("remote-tls"),
        &token,
        "auto",
        &["--call", "whoami", "{}"],
    );
    assert_eq!(
        call_texts(&r)[0],
        (false, sha256_hex("Bearer ward-own-upstream-secret")),
        "{r}"
    );
    let (s, v, _) = post(
        &d,
        "remote-untrusted",
        &[("Authorization", &format!("Bearer {token}"))],
        &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "ward-test", "version": "1"}}}),
    );
    assert_eq!(s, 502, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap_or("").contains("TLS"),
        "{v}"
    );

    // `upstream_token = "exchange"`: the upstream gets a token ward exchanged from the caller's
    // task token (audience mcp:NAME, a lease of its own), in both eras; a caller without a task
    // token gets none.
    let task = dev_task(&home, "mcp:remote-exchange/*");
    let task_token = task["token"].as_str().unwrap();
    for mode in ["auto", "legacy"] {
        let r = sdk_client(
            &url("remote-exchange"),
            task_token,
            mode,
            &["--call", "whoami", "{}"],
        );
        let (err, who) = &call_texts(&r)[0];
        assert!(!err, "{r}");
        assert!(
            who.starts_with(&format!(
                "jwt aud=mcp:remote-exchange task={} ",
                task["id"].as_str().unwrap()
            )),
            "{r}"
        );
        // Its id is a lease of the task's own, derived from the caller's: not the caller's token.
        let jti = who.rsplit("jti=").next().unwrap_or("").to_string();
        let shown = ward(
            &home,
            &["task", "show", task["id"].as_str().unwrap(), "--json"],
            b"",
            &[],
        );
        let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
        let lease = shown["leases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == jti.as_str())
            .unwrap_or_else(|| panic!("{jti} is not a lease of the task: {shown}"));
        assert_eq!(lease["resource"], "mcp:remote-exchange", "{lease}");
        assert!(
            lease["parent"].is_string(),
            "not derived from the caller's token: {lease}"
        );
    }
    let (s, v, _) = post(
        &d,
        "remote-exchange",
        &[("Authorization", &format!("Bearer {token}"))],
        &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "ward-test", "version": "1"}}}),
    );
    assert_eq!(s, 403, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("task token"),
        "{v}"
    );

    // The inspector CLI, legacy and modern.
    let v = inspector(
        &url("everything"),
        &token,
        "legacy",
        "echo",
        &["message=hello"],
    );
    assert_eq!(v["content"][0]["text"], "Echo: hello", "{v}");
    let v = inspector(
        &url("fs"),
        &token,
        "legacy",
        "read_text_file",
        &[&format!("path={}", path(".ssh/id_rsa"))],
    );
    assert_eq!(v["isError"], true, "{v}");
    let v = inspector(&url("sdk"), &token, "modern", "add", &["a=1", "b=2"]);
    assert_eq!(v["content"][0]["text"], "3", "{v}");

    // Every call is a decision in the log, its result an effect linked to it; the log verifies.
    let evs = events(&home, &[]);
    let decided: Vec<&Value> = evs
        .iter()
        .filter(|e| e["unmapped"]["tool_name"] == "mcp__fs__read_text_file")
        .collect();
    let outcomes: Vec<&str> = decided
        .iter()
        .filter_map(|e| e["unmapped"]["decision"]["outcome"].as_str())
        .collect();
    assert!(
        outcomes.contains(&"allow") && outcomes.contains(&"deny"),
        "{outcomes:?}"
    );
    let effects: Vec<&&Value> = decided
        .iter()
        .filter(|e| e["unmapped"]["effect"].is_object())
        .collect();
    assert!(
        effects
            .iter()
            .any(|e| e["unmapped"]["decision_event"].is_string()),
        "no result linked to its decision: {effects:?}"
    );
    let log = evs.iter().map(Value::to_string).collect::<String>();
    // Listings are records too, naming what the policy held back.
    assert!(
        evs.iter().any(|e| {
            let a = e["unmapped"]["action"].as_str().unwrap_or("");
            a.starts_with("mcp tools/list fs: hidden [") && a.contains("write_file")
        }),
        "no listing event naming what the policy held back"
    );
    assert!(!log.contains("ward-own-upstream-secret") && !log.contains("PRIVATE-KEY-MATERIAL"));
    verify(&home, &[]);
}

/// A raw Streamable HTTP exchange with the gateway.
fn post(
    d: &Daemon,
    name: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> (u16, Value, client::Response) {
    let mut h = vec![
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
    ];
    h.extend_from_slice(headers);
    let r = client::request(
        &d.http(),
        "POST",
        &format!("/mcp/{name}"),
        &h,
        body.to_string().as_bytes(),
        Duration::from_secs(60),
    )
    .unwrap();
    let body = text(&r.body);
    // A streamed answer: the last `data:` line is the answer.
    let v = if r
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/event-stream"))
    {
        body.lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .next_back()
            .unwrap_or(Value::Null)
    } else {
        serde_json::from_str(&body).unwrap_or(Value::Null)
    };
    (r.status, v, r)
}

fn initialize(d: &Daemon, name: &str, auth: &str) -> String {
    let (s, v, r) = post(
        d,
        name,
        &[("Authorization", auth)],
        &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "ward-test", "version": "1"}}}),
    );
    assert_eq!(s, 200, "{v}");
    r.header("mcp-session-id")
        .expect("a session id")
        .to_string()
}

fn session_call(
    d: &Daemon,
    name: &str,
    auth: &str,
    sid: &str,
    id: u64,
    tool: &str,
    args: Value,
) -> (u16, Value) {
    let (s, v, _) = post(
        d,
        name,
        &[
            ("Authorization", auth),
            ("Mcp-Session-Id", sid),
            ("MCP-Protocol-Version", "2025-11-25"),
        ],
        &json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": tool, "arguments": args}}),
    );
    (s, v)
}

fn modern_call(tool: &str, args: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": tool, "arguments": args, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "ward-test", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {}}}})
}

#[test]
fn the_gateway_checks_callers_headers_sessions_scopes_and_approvals() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let user = dir.path().join("user");
    user_tree(&user);
    let dev = format!("Bearer {}", hook_token(&home, "dev"));
    let other = format!("Bearer {}", hook_token(&home, "mallory"));
    gateway_home(&home, &user, None);
    let d = Daemon::start(&home, &[]);

    // No credential: 401 with a challenge; a bad one the same; a page of another origin: 403.
    let add = modern_call("add", json!({"a": 1, "b": 2}));
    let modern = [
        ("MCP-Protocol-Version", "2026-07-28"),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "add"),
    ];
    let (s, _, r) = post(&d, "sdk", &modern, &add);
    assert_eq!(s, 401);
    assert!(
        r.header("www-authenticate")
            .is_some_and(|w| w.starts_with("Bearer"))
    );
    let (s, _, _) = post(
        &d,
        "sdk",
        &[("Authorization", "Bearer ward_h_forged")],
        &add,
    );
    assert_eq!(s, 401);
    let mut h = modern.to_vec();
    h.push(("Authorization", &dev));
    let mut evil = h.clone();
    evil.push(("Origin", "https://evil.example"));
    assert_eq!(post(&d, "sdk", &evil, &add).0, 403);
    assert_eq!(post(&d, "nope", &h, &add).0, 404);

    // The stateless era: headers must say what the body says, or nothing reaches the server.
    let (s, v, _) = post(&d, "sdk", &h, &add);
    assert_eq!(
        (s, v["result"]["content"][0]["text"].as_str()),
        (200, Some("3")),
        "{v}"
    );
    assert_eq!(v["result"]["isError"], false, "{v}");
    // Decisions only: the allowed call's result is recorded after its answer, at any moment.
    let decisions = || {
        events(&home, &[])
            .iter()
            .filter(|e| !e["unmapped"]["decision"].is_null())
            .count()
    };
    let before = decisions();
    for (bad_header, value) in [
        ("Mcp-Name", "whoami"),
        ("Mcp-Method", "tools/list"),
        ("MCP-Protocol-Version", "2025-11-25"),
    ] {
        let mut hb: Vec<(&str, &str)> = h
            .iter()
            .filter(|(k, _)| *k != bad_header)
            .copied()
            .collect();
        hb.push((bad_header, value));
        let (s, v, _) = post(&d, "sdk", &hb, &add);
        assert_eq!(
            (s, v["error"]["code"].as_i64()),
            (400, Some(-32020)),
            "{bad_header}: {v}"
        );
    }
    let mut hv: Vec<(&str, &str)> = h
        .iter()
        .filter(|(k, _)| *k != "MCP-Protocol-Version")
        .copied()
        .collect();
    hv.push(("MCP-Protocol-Version", "2099-01-01"));
    let (s, v, _) = post(&d, "sdk", &hv, &add);
    assert_eq!((s, v["error"]["code"].as_i64()), (400, Some(-32022)), "{v}");
    assert_eq!(decisions(), before, "a refused request was decided");

    // Sessions: required after initialize, bound to the caller who opened them, ended by DELETE.
    let (s, _, _) = post(
        &d,
        "fs",
        &[("Authorization", &dev)],
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    );
    assert_eq!(s, 400);
    let sid = initialize(&d, "fs", &dev);
    let readme = json!({"path": user.join("proj/README.md").display().to_string()});
    let (s, v) = session_call(&d, "fs", &dev, &sid, 1, "read_text_file", readme.clone());
    assert_eq!(s, 200);
    assert_eq!(v["result"]["content"][0]["text"], "# the project\n", "{v}");
    let (s, _) = session_call(&d, "fs", &other, &sid, 2, "read_text_file", readme.clone());
    assert_eq!(s, 404, "another caller used the session");
    let r = client::request(
        &d.http(),
        "DELETE",
        "/mcp/fs",
        &[("Authorization", &dev), ("Mcp-Session-Id", &sid)],
        b"",
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(r.status, 204);
    assert_eq!(
        session_call(&d, "fs", &dev, &sid, 3, "read_text_file", readme).0,
        404
    );

    // Prompts and resources: listed only when usable, read and fetched only when allowed.
    let sid = initialize(&d, "everything", &dev);
    let ask = |id: u64, method: &str, params: Value| {
        post(
            &d,
            "everything",
            &[
                ("Authorization", &dev),
                ("Mcp-Session-Id", &sid),
                ("MCP-Protocol-Version", "2025-11-25"),
            ],
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        )
        .1
    };
    let names = |v: &Value, array: &str, key: &str| -> Vec<String> {
        v["result"][array]
            .as_array()
            .unwrap_or_else(|| panic!("no {array}: {v}"))
            .iter()
            .filter_map(|x| x[key].as_str().map(str::to_string))
            .collect()
    };
    let prompts = names(&ask(1, "prompts/list", json!({})), "prompts", "name");
    assert!(
        prompts.contains(&"simple-prompt".into()) && !prompts.contains(&"args-prompt".into()),
        "{prompts:?}"
    );
    let docs = names(&ask(2, "resources/list", json!({})), "resources", "uri");
    assert!(
        docs.iter().any(|u| u.ends_with("architecture.md")),
        "{docs:?}"
    );
    assert!(!docs.iter().any(|u| u.ends_with("startup.md")), "{docs:?}");
    let v = ask(
        3,
        "prompts/get",
        json!({"name": "args-prompt", "arguments": {"city": "x"}}),
    );
    assert_eq!(v["error"]["code"], -32001, "{v}");
    let v = ask(
        4,
        "resources/read",
        json!({"uri": format!("file://{}", user.join(".ssh/id_rsa").display())}),
    );
    assert_eq!(v["error"]["code"], -32001, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("credential-file-read"),
        "{v}"
    );
    let v = ask(
        5,
        "resources/read",
        json!({"uri": "demo://resource/static/document/architecture.md"}),
    );
    assert!(v["result"]["contents"][0]["text"].is_string(), "{v}");
    let v = ask(6, "prompts/get", json!({"name": "simple-prompt"}));
    assert!(v["result"]["messages"].is_array(), "{v}");

    // A task token: its scopes bound what is listed and called; ending the task ends access.
    // The hook token's assistant registered on its first call above.
    let task = dev_task(&home, "mcp:sdk/add");
    let tok = format!("Bearer {}", task["token"].as_str().expect("a task token"));
    let mut ht = modern.to_vec();
    ht.push(("Authorization", &tok));
    let (s, v, _) = post(&d, "sdk", &ht, &add);
    assert_eq!(
        (s, v["result"]["content"][0]["text"].as_str()),
        (200, Some("3")),
        "{v}"
    );
    let who = modern_call("whoami", json!({}));
    let mut hw: Vec<(&str, &str)> = ht
        .iter()
        .filter(|(k, _)| *k != "Mcp-Name")
        .copied()
        .collect();
    hw.push(("Mcp-Name", "whoami"));
    let (_, v, _) = post(&d, "sdk", &hw, &who);
    assert_eq!(v["result"]["isError"], true, "{v}");
    assert!(
        v["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("mcp:sdk/whoami"),
        "{v}"
    );
    // The refusal is a recorded decision, under the task, named by the scope rule.
    assert!(
        events(&home, &[]).iter().any(|e| {
            let u = &e["unmapped"];
            u["tool_name"] == "mcp__sdk__whoami"
                && u["decision"]["policies"] == json!(["mcp-task-scope"])
                && u["task"]["id"] == task["id"]
        }),
        "the scope refusal was not recorded"
    );
    let list = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/list", "params": {"_meta": add["params"]["_meta"]}});
    let hl = [
        ("MCP-Protocol-Version", "2026-07-28"),
        ("Mcp-Method", "tools/list"),
        ("Authorization", tok.as_str()),
    ];
    let (_, v, _) = post(&d, "sdk", &hl, &list);
    let names: Vec<&str> = v["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["add"], "{v}");
    let task_id = task["id"].as_str().unwrap();
    let o = ward(&home, &["task", "end", task_id], b"", &[]);
    assert!(o.status.success(), "task end: {}", text(&o.stderr));
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        post(&d, "sdk", &ht, &add).0,
        401,
        "an ended task's token still works"
    );

    // An ask: refused at once with the approval's id; another person approves; the same call
    // then runs, once.
    let approver = add_user(&home, "alice", "approver");
    let sid = initialize(&d, "calc", &dev);
    let (_, v, _) = post(
        &d,
        "calc?wait=0",
        &[
            ("Authorization", &dev),
            ("Mcp-Session-Id", &sid),
            ("MCP-Protocol-Version", "2025-11-25"),
        ],
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 20, "b": 22}}}),
    );
    let reason = v["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert_eq!(v["result"]["isError"], true, "{v}");
    let apr = reason
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find(|w| w.starts_with("ward-apr-"))
        .unwrap_or_else(|| panic!("no approval id in `{reason}`"))
        .to_string();
    let (s, v, _) = req(
        &d,
        "POST",
        &format!("/v1/approvals/{apr}/approve"),
        Some(&approver),
        b"{}",
    );
    assert_eq!(s, 200, "{v}");
    let (_, v) = session_call(&d, "calc", &dev, &sid, 2, "add", json!({"a": 20, "b": 22}));
    assert_eq!(v["result"]["content"][0]["text"], "42", "{v}");
    let (_, v) = session_call(
        &d,
        "calc?wait=0",
        &dev,
        &sid,
        3,
        "add",
        json!({"a": 20, "b": 22}),
    );
    assert_eq!(
        v["result"]["isError"], true,
        "an approval was used twice: {v}"
    );
    // Pin review over the API: a viewer reads, only an approver accepts.
    let viewer = add_user(&home, "vic", "viewer");
    let (s, v) = get(&d, "/v1/mcp/fs/tools", Some(&viewer));
    assert_eq!(
        (s, v["held"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{v}"
    );
    let accept = |key: &str| req(&d, "POST", "/v1/mcp/fs/tools/accept", Some(key), b"{}").0;
    assert_eq!(accept(&viewer), 403);
    assert_eq!(
        accept(&approver),
        404,
        "nothing is held, so nothing is accepted"
    );
    verify(&home, &[]);
}

/// What an rmcp client saw: the tools, then each call's (isError, text).
async fn rmcp_session<T, E, A>(
    transport: T,
    mode: rmcp::ClientLifecycleMode,
    calls: &[(&str, Value)],
) -> (Vec<String>, Vec<(bool, String)>)
where
    T: rmcp::transport::IntoTransport<rmcp::RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let client = rmcp::serve_client_with_lifecycle((), transport, mode)
        .await
        .expect("the rmcp client connects");
    let tools = client.list_all_tools().await.expect("tools/list");
    let mut names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    let mut out = Vec::new();
    for (tool, args) in calls {
        let params = rmcp::model::CallToolRequestParams::new(tool.to_string())
            .with_arguments(args.as_object().cloned().unwrap_or_default());
        let r = client.call_tool(params).await.expect("tools/call");
        let v = serde_json::to_value(&r).unwrap();
        out.push((
            v["isError"].as_bool().unwrap_or(false),
            v["content"][0]["text"].as_str().unwrap_or("").to_string(),
        ));
    }
    let _ = client.cancel().await;
    (names, out)
}

#[test]
fn an_rmcp_client_works_through_the_gateway_and_the_wrapper() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let user = dir.path().join("user");
    user_tree(&user);
    let token = hook_token(&home, "dev");
    gateway_home(&home, &user, None);
    let d = Daemon::start(&home, &[("HOME", user.to_str().unwrap())]);
    let readme = json!({"path": user.join("proj/README.md").display().to_string()});
    let key = json!({"path": user.join(".ssh/id_rsa").display().to_string()});
    let auto = || rmcp::ClientLifecycleMode::Auto {
        preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
        legacy_version: None,
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // Over HTTP: the filesystem server (legacy; rmcp falls back) and the SDK server (modern).
        for (name, calls, want) in [
            (
                "fs",
                vec![("read_text_file", readme.clone()), ("read_text_file", key.clone())],
                "# the project\n",
            ),
            (
                "sdk",
                vec![("add", json!({"a": 40, "b": 2})), ("read_note", key.clone())],
                "42",
            ),
        ] {
            let config = rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
                format!("http://127.0.0.1:{}/mcp/{name}", d.port),
            )
            .auth_header(token.clone());
            let transport = rmcp::transport::StreamableHttpClientTransport::from_config(config);
            let (tools, got) = rmcp_session(transport, auto(), &calls).await;
            assert!(!tools.is_empty(), "{name}: no tools");
            assert_eq!(got[0], (false, want.to_string()), "{name}");
            assert!(got[1].0 && got[1].1.contains("credential-file-read"), "{name}: {got:?}");
        }
        // Over stdio through `ward mcp wrap`.
        let mut cmd = tokio::process::Command::new(super::WARD);
        cmd.args(["mcp", "wrap", "--name", "fs", "--", "node"])
            .arg(npm_server("server-filesystem"))
            .arg(&user)
            .env("WARD_HOME", &home)
            .env("HOME", &user)
            .stderr(Stdio::null());
        let transport = rmcp::transport::TokioChildProcess::new(cmd).expect("ward mcp wrap");
        let (tools, got) = rmcp_session(
            transport,
            auto(),
            &[("read_text_file", readme.clone()), ("read_text_file", key.clone())],
        )
        .await;
        assert!(tools.contains(&"read_text_file".to_string()), "{tools:?}");
        assert_eq!(got[0], (false, "# the project\n".to_string()));
        assert!(got[1].0 && got[1].1.contains("credential-file-read"), "{got:?}");
    });
}

/// A stdio client of `ward mcp wrap` (newline-delimited JSON-RPC).
struct Wrapped {
    child: Child,
    input: std::process::ChildStdin,
    output: BufReader<std::process::ChildStdout>,
}

impl Wrapped {
    fn start(
        home: &Path,
        user: &Path,
        name: &str,
        command: &[&str],
        env: &[(&str, &str)],
    ) -> Wrapped {
        let mut child = Command::new(WARD)
            .args(["mcp", "wrap", "--name", name, "--"])
            .args(command)
            .env("WARD_HOME", home)
            .env("HOME", user)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ward mcp wrap");
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        let mut w = Wrapped {
            child,
            input,
            output,
        };
        w.call(
            0,
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "ward-test", "version": "1"}}),
        );
        writeln!(
            w.input,
            "{}",
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
        )
        .unwrap();
        w
    }

    fn call(&mut self, id: u64, method: &str, params: Value) -> Value {
        writeln!(
            self.input,
            "{}",
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        )
        .unwrap();
        loop {
            let mut line = String::new();
            assert!(
                self.output.read_line(&mut line).unwrap() > 0,
                "the wrapper closed"
            );
            let v: Value = serde_json::from_str(&line).unwrap();
            if v["id"] == id {
                return v;
            }
        }
    }
}

impl Drop for Wrapped {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_wrapper_decides_through_a_running_daemon_and_its_approvals() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let user = dir.path().join("user");
    user_tree(&user);
    gateway_home(&home, &user, None);
    let approver = add_user(&home, "alice", "approver");
    let mut d = Daemon::start(&home, &[]);
    let sdk = script("sdk_server.py");
    let mut w = Wrapped::start(
        &home,
        &user,
        "calc",
        &["python3", &sdk, "stdio"],
        &[("WARD_APPROVAL_WAIT", "0")],
    );
    let add = json!({"name": "add", "arguments": {"a": 1, "b": 2}});
    let v = w.call(1, "tools/call", add.clone());
    let reason = v["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert_eq!(v["result"]["isError"], true, "{v}");
    let apr = reason
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find(|w| w.starts_with("ward-apr-"))
        .unwrap_or_else(|| panic!("no approval id in `{reason}`"))
        .to_string();
    let (s, v, _) = req(
        &d,
        "POST",
        &format!("/v1/approvals/{apr}/approve"),
        Some(&approver),
        b"{}",
    );
    assert_eq!(s, 200, "{v}");
    let v = w.call(2, "tools/call", add.clone());
    assert_eq!(v["result"]["content"][0]["text"], "3", "{v}");
    // The decisions are the daemon's: in its log, with the attested caller.
    let key = add_user(&home, "root-viewer", "viewer");
    let evs = raw_events(&d, &key);
    let decided: Vec<&Value> = evs
        .iter()
        .filter(|e| e["tool_name"] == "mcp__calc__add" && e["kind"] == "decision")
        .collect();
    assert_eq!(decided.len(), 2, "{decided:?}");
    assert!(
        decided.iter().all(|e| e["caller"]["transport"] == "unix"),
        "{decided:?}"
    );
    // The allowed call's result is recorded too (off the answer's path), linked to its decision.
    let allowed = decided
        .iter()
        .find(|e| e["decision"]["outcome"] == "allow")
        .unwrap()["id"]
        .clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let evs = raw_events(&d, &key);
        if let Some(r) = evs.iter().find(|e| e["decision_event"] == allowed) {
            assert_eq!(r["effect"]["success"], true, "{r}");
            assert!(r["effect"]["output_bytes"].as_u64().unwrap() > 0, "{r}");
            break;
        }
        assert!(Instant::now() < deadline, "no result linked to {allowed}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // With the daemon gone and `offline = "deny"`, the wrapper refuses instead of deciding alone.
    d.stop();
    std::fs::write(
        home.join("daemon.json"),
        json!({"socket": home.join("ward.sock"), "offline": "deny", "listen": "", "database": "", "pid": 1}).to_string(),
    )
    .unwrap();
    let mut w = Wrapped::start(&home, &user, "calc", &["python3", &sdk, "stdio"], &[]);
    let v = w.call(3, "tools/call", json!({"name": "whoami", "arguments": {}}));
    assert_eq!(v["result"]["isError"], true, "{v}");
    assert!(
        v["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("offline"),
        "{v}"
    );
}
