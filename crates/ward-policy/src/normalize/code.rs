//! Inline code in other languages (`python -c`, heredoc bodies, `node -e`, `perl -e`, `ruby -e`,
//! `php -r`, PowerShell): what it does with the environment, the network and processes.
//!
//! This is a scan of the text, not a parse: each finding is a marker that the language's
//! standard library gives away (`os.environ`, `urlopen(url, data)`, `socket.socket`, `pty.spawn`,
//! `process.env`, `fetch(…, {method: 'POST'})`, `%ENV`, `Net::HTTP.post`, …). Markers are matched
//! on the lowercased text with blanks removed, so spacing does not hide them.

/// What one piece of code does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CodeFacts {
    /// Reads the whole environment (`os.environ`, `process.env`, `%ENV`, `ENV.to_h`, `getenv()`).
    pub env_dump: bool,
    /// Secret-looking environment variables it reads by name.
    pub secret_env: Vec<String>,
    /// Prints to stdout (`print`, `console.log`, `puts`, `Write-Output`, …).
    pub prints: bool,
    /// Sends data over HTTP or a socket (POST/PUT bodies, `urlopen(url, data)`, `.send(`, uploads).
    pub sends: bool,
    /// Opens a raw network socket.
    pub socket: bool,
    /// Host literals handed to a socket connect (`connect(("203.0.113.5", 4444))`).
    pub socket_hosts: Vec<String>,
    /// A shell or interpreter is attached to a socket (dup2 / pty / exec of a shell next to a
    /// socket, PowerShell `TCPClient` + `iex`).
    pub reverse_shell: bool,
    /// `fork` in an endless loop.
    pub fork_loop: bool,
    /// Clears event logs or history (`wevtutil cl`, `Clear-EventLog`, `Clear-History`).
    pub clears_logs: bool,
    /// Fetches code over the network and evaluates it (`exec(urlopen(…).read())`, `iwr … | iex`).
    pub download_exec: bool,
}

/// Scan `code`.
pub(crate) fn scan(code: &str) -> CodeFacts {
    let lower = code.to_ascii_lowercase();
    let compact: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    let has = |needles: &[&str]| needles.iter().any(|n| compact.contains(n));
    let mut f = CodeFacts {
        env_dump: env_dump(&lower, &compact),
        secret_env: secret_env_names(code, &lower),
        ..CodeFacts::default()
    };
    f.prints = [
        "print(",
        "print \"",
        "print '",
        "print\"",
        "print'",
        "print ",
        "printf(",
        "console.log(",
        "console.error(",
        "console.dir(",
        "process.stdout.write(",
        "sys.stdout.write(",
        "puts ",
        "puts(",
        "pp(",
        "pp ",
        "p(",
        "write-output",
        "write-host",
        "echo ",
        "var_dump(",
        "print_r(",
        "say ",
    ]
    .iter()
    .any(|w| word(&lower, w));
    f.socket = has(&[
        "socket.socket(",
        "socket(",
        "create_connection(",
        "tcpsocket",
        "fsockopen(",
        "net.connect(",
        "net.createconnection(",
        "net.socket(",
        "io::socket",
        "sockets.tcpclient",
        "tcpclient(",
        "/inet/tcp/",
        "/inet/udp/",
        "socket.tcp(",
        "dgram.createsocket(",
        "udpsocket",
    ]);
    let post = [
        "'post'",
        "\"post\"",
        "`post`",
        "'put'",
        "\"put\"",
        "'patch'",
        "\"patch\"",
    ];
    let method_post = [
        "method:",
        "method=",
        "'method'=>",
        "\"method\"=>",
        "-method",
        "method\":",
    ]
    .iter()
    .any(|m| post.iter().any(|p| compact.contains(&format!("{m}{p}"))))
        || compact.contains("-methodpost")
        || compact.contains("-methodput")
        || compact.contains("request(\"post\"")
        || compact.contains("request('post'")
        || compact.contains("->new(post")
        || compact.contains("->new('post'")
        || compact.contains("->new(\"post\"");
    f.sends = method_post
        || has(&[
            ".post(",
            ".put(",
            ".patch(",
            "requests.request(",
            "uploadstring(",
            "uploadfile(",
            "uploaddata(",
            "uploadvalues(",
            ".sendall(",
            ".sendto(",
            "sendbeacon(",
            "postfields",
            "net::http.post",
            "net::http::post",
            "net::http::put",
            "storbinary(",
            "storlines(",
            "sendmail(",
            "-infile",
            ".upload(",
            "->post(",
            "http.post(",
            "https.post(",
        ])
        || (has(&["fetch("]) && has(&["body:", "body\":", "body="]))
        || (has(&["invoke-webrequest", "invoke-restmethod", "iwr", "irm"]) && has(&["-body"]))
        || urlopen_with_data(&compact)
        || (has(&["urllib.request.request(", "request.request("]) && has(&["data="]))
        || (f.socket
            && has(&[
                ".send(",
                ".write(",
                "syswrite",
                "fwrite(",
                "fputs(",
                "print$",
                "printsock",
                "prints",
                "|&",
                ".puts(",
                "getstream(",
            ]))
        || (has(&["http.request(", "https.request("]) && has(&[".write(", ".end(", "method"]));
    f.socket_hosts = socket_hosts(code, &lower);
    let shell_literal = has(&[
        "/bin/sh",
        "/bin/bash",
        "/bin/zsh",
        "\"sh\"",
        "'sh'",
        "\"bash\"",
        "'bash'",
        "cmd.exe",
        "\"cmd\"",
        "powershell",
        "sh-i",
        "bash-i",
    ]);
    let spawns = has(&[
        "subprocess",
        "os.system(",
        "os.popen(",
        "os.exec",
        "spawn(",
        "exec(",
        "execsync(",
        "system(",
        "popen(",
        "proc_open(",
        "shell_exec(",
        "passthru(",
        "os.execute(",
        "io.popen(",
        "child_process",
        "start-process",
        "exec\"",
        "exec'",
        "execsprintf(",
    ]);
    let wires_stdio = has(&[
        "dup2(",
        "pty.spawn(",
        "open(stdin,\">&",
        "open(stdout,\">&",
        "open(stdin,'>&",
        "stdin=s.fileno()",
        "stdin=s",
        "<&3",
        ">&3",
        "<&%d",
        ".pipe(",
        "to_i;exec",
        "getstream()",
    ]);
    let evals_input = word(&lower, "iex") || lower.contains("invoke-expression");
    f.reverse_shell = f.socket
        && ((spawns && (shell_literal || wires_stdio))
            || wires_stdio && shell_literal
            || evals_input);
    let forks = has(&[
        "fork(",
        "fork;",
        "forkwhile",
        "{fork",
        "fork}",
        "fork)",
        "fork\n",
    ]) || lower.contains("fork while")
        || lower.ends_with("fork");
    let endless = has(&[
        "whiletrue",
        "while1",
        "while(1)",
        "while(true)",
        "for(;;)",
        "loop{",
        "loopdo",
        "whilefork",
        "iter(int,1)",
        "itertools.count(",
    ]);
    f.fork_loop = forks && endless;
    let downloads = has(&[
        "urlopen(",
        "requests.get(",
        "httpx.get(",
        "urllib.request",
        "fetch(",
        "http.get(",
        "https.get(",
        "invoke-webrequest",
        "iwr",
        "invoke-restmethod",
        "irm",
        "downloadstring(",
        "downloadfile(",
        "downloaddata(",
        "net::http.get",
        "open-uri",
        "uri.open",
        "lwp::simple",
        "file_get_contents('http",
        "file_get_contents(\"http",
        "curl_exec(",
    ]);
    // Evaluation of text as code (not `re.compile(`, `json.load(` or a regex's `.exec(`).
    let evaluates = [
        "exec(",
        "exec ",
        "eval(",
        "eval ",
        "iex",
        "iex(",
        "instance_eval",
    ]
    .iter()
    .any(|w| word(&lower, w))
        || has(&[
            "invoke-expression",
            "newfunction(",
            "vm.runin",
            "kernel.eval",
            "scriptblock]::create",
        ]);
    f.download_exec = downloads && evaluates && has(&["http://", "https://", "ftp://"]);
    f.clears_logs = has(&[
        "wevtutilcl",
        "wevtutilclear-log",
        "clear-eventlog",
        "remove-eventlog",
        "clear-history",
        "limit-eventlog",
    ]) || (compact.contains("remove-item") && compact.contains("historysavepath"));
    f
}

/// `needle` occurs at the start of a word: not preceded by a letter, digit, `_`, `.` or `$`
/// (so `print(` is not `blueprint(`, `puts` is not `inputs`, `exec(` is not `re.exec(`).
fn word(lower: &str, needle: &str) -> bool {
    let mut from = 0;
    while let Some(pos) = lower.get(from..).and_then(|t| t.find(needle)) {
        let at = from + pos;
        let before = lower[..at].chars().next_back();
        let after = lower[at + needle.len()..].chars().next();
        let starts =
            before.is_none_or(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$')));
        // A bare word (`iex`, `print `) must also end there.
        let ends = needle.ends_with(['(', ' ', '"', '\''])
            || after.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        if starts && ends {
            return true;
        }
        from = at + needle.len();
    }
    false
}

/// The whole environment is read (not one variable).
fn env_dump(lower: &str, compact: &str) -> bool {
    // Python `os.environ` not followed by a lookup.
    let mut from = 0;
    while let Some(pos) = compact.get(from..).and_then(|t| t.find("os.environ")) {
        let after = compact.get(from + pos + "os.environ".len()..).unwrap_or("");
        let after = after.strip_prefix('b').unwrap_or(after);
        let lookup = [
            "[",
            ".get(",
            ".setdefault(",
            ".pop(",
            ".update(",
            ".__setitem__",
            ".__getitem__",
            "=",
        ]
        .iter()
        .any(|l| after.starts_with(l));
        if !lookup {
            return true;
        }
        from += pos + "os.environ".len();
    }
    // Node `process.env` not followed by `.NAME` or `[…]`.
    let mut from = 0;
    while let Some(pos) = compact.get(from..).and_then(|t| t.find("process.env")) {
        let after = compact
            .get(from + pos + "process.env".len()..)
            .unwrap_or("");
        let lookup = after.starts_with('[')
            || after.starts_with('.')
                && after
                    .chars()
                    .nth(1)
                    .is_some_and(|c| c.is_alphabetic() || c == '_');
        if !lookup && !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            return true;
        }
        from += pos + "process.env".len();
    }
    [
        "%env",
        "env.to_h",
        "env.to_a",
        "env.to_hash",
        "env.inspect",
        "env.each",
        "env.map",
        "env.select",
        "env.filter",
        "env.sort",
        "env.values",
        "getenv()",
        "$_env",
        "$_server",
        "getenvironmentvariables(",
        "get-childitemenv:",
        "gcienv:",
        "lsenv:",
        "direnv:",
        "/proc/self/environ",
        "system.getenv()",
        "deno.env.toobject(",
        "bun.env)",
    ]
    .iter()
    .any(|n| compact.contains(n))
        || lower.contains("get-childitem env:")
        || lower.contains("dir env:")
}

/// Names of secret-looking variables read by name: `os.environ['X']`, `os.getenv("X")`,
/// `process.env.X`, `$ENV{X}`, `ENV['X']`, `getenv('X')`, `$env:X`.
fn secret_env_names(code: &str, lower: &str) -> Vec<String> {
    const OPENERS: &[&str] = &[
        "os.environ[",
        "os.environ.get(",
        "os.getenv(",
        "process.env.",
        "process.env[",
        "$env{",
        "env[",
        "env.fetch(",
        "getenv(",
        "$env:",
        "deno.env.get(",
    ];
    let mut out: Vec<String> = Vec::new();
    for opener in OPENERS {
        let mut from = 0;
        while let Some(pos) = lower.get(from..).and_then(|t| t.find(opener)) {
            let start = from + pos + opener.len();
            from = start;
            let rest = code.get(start..).unwrap_or("");
            let rest = rest.trim_start_matches(['"', '\'', '`', ' ']);
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty()
                && crate::normalize::text::is_secret_env_name(&name)
                && !out.contains(&name)
                && out.len() < 16
            {
                out.push(name);
            }
        }
    }
    out
}

/// `urlopen(url, data)`: a second argument at the top level of the call is a POST body.
fn urlopen_with_data(compact: &str) -> bool {
    let mut from = 0;
    while let Some(pos) = compact.get(from..).and_then(|t| t.find("urlopen(")) {
        let start = from + pos + "urlopen(".len();
        from = start;
        let mut depth = 0i32;
        let mut quote: Option<char> = None;
        for c in compact.get(start..).unwrap_or("").chars() {
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                continue;
            }
            match c {
                '\'' | '"' => quote = Some(c),
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' if depth == 0 => break,
                ')' | ']' | '}' => depth -= 1,
                ',' if depth == 0 => return true,
                _ => {}
            }
        }
    }
    false
}

/// String literals that look like hosts (IP addresses or dotted names) near a socket connect.
fn socket_hosts(code: &str, lower: &str) -> Vec<String> {
    const CALLS: &[&str] = &[
        "connect(",
        "create_connection(",
        "tcpsocket.new(",
        "tcpsocket.open(",
        "tcpsocket(",
        "fsockopen(",
        "tcpclient(",
        "createconnection(",
        "peeraddr",
        "inet_aton(",
        "/inet/tcp/",
        "socket.tcp(",
    ];
    let mut out: Vec<String> = Vec::new();
    for call in CALLS {
        let mut from = 0;
        while let Some(pos) = lower.get(from..).and_then(|t| t.find(call)) {
            let start = from + pos + call.len();
            from = start;
            let mut end = (start + 160).min(code.len());
            while !code.is_char_boundary(end) {
                end -= 1;
            }
            let window = code.get(start..end).unwrap_or("");
            if *call == "/inet/tcp/" {
                // gawk: /inet/tcp/LOCALPORT/HOST/PORT
                if let Some(h) = window.split('/').nth(1)
                    && looks_like_host_literal(h)
                {
                    out.push(h.to_string());
                }
                continue;
            }
            for lit in literals(window) {
                if looks_like_host_literal(&lit) && !out.contains(&lit) && out.len() < 8 {
                    out.push(lit);
                }
            }
        }
    }
    out
}

/// Quoted literals in a snippet.
fn literals(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if matches!(c, '"' | '\'') {
            let lit: String = chars.by_ref().take_while(|x| *x != c).collect();
            out.push(lit);
        }
    }
    out
}

/// An IPv4/IPv6 literal or a dotted name with a letter-only last label (not a file name).
fn looks_like_host_literal(s: &str) -> bool {
    if s.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && labels.last().is_some_and(|t| {
            t.len() >= 2
                && t.chars().all(|c| c.is_ascii_alphabetic())
                && !matches!(
                    *t,
                    "py" | "js"
                        | "rb"
                        | "sh"
                        | "json"
                        | "txt"
                        | "md"
                        | "pl"
                        | "php"
                        | "ts"
                        | "so"
                        | "gz"
                        | "zip"
                        | "tar"
                        | "log"
                        | "conf"
                        | "cfg"
                        | "ini"
                        | "yml"
                        | "yaml"
                        | "toml"
                        | "xml"
                        | "html"
                        | "css"
                        | "exe"
                        | "dll"
                        | "path"
                        | "environ"
                        | "stdout"
                        | "stderr"
                        | "stdin"
                )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_dumps() {
        assert!(scan("import os; print(dict(os.environ))").env_dump);
        assert!(scan("console.log(JSON.stringify(process.env))").env_dump);
        assert!(!scan("import os; print(os.environ.get('HOME'))").env_dump);
        assert!(!scan("console.log(process.env.NODE_ENV)").env_dump);
        assert_eq!(
            scan("import os; t = os.environ['GITHUB_TOKEN']").secret_env,
            vec!["GITHUB_TOKEN".to_string()]
        );
    }

    #[test]
    fn sends() {
        assert!(scan("urllib.request.urlopen('https://x.example/e', data)").sends);
        assert!(!scan("urllib.request.urlopen('https://x.example/e').read()").sends);
        assert!(scan("requests.post('https://x.example', json=d)").sends);
        assert!(scan("fetch('https://x.example', {method: 'POST', body: b})").sends);
        assert!(!scan("fetch('https://x.example').then(r => r.json())").sends);
        assert!(!scan("print(1)").sends);
    }

    #[test]
    fn hosts_near_sockets() {
        let f = scan("s=socket.socket();s.connect((\"203.0.113.9\",4444))");
        assert!(f.socket);
        assert_eq!(f.socket_hosts, vec!["203.0.113.9".to_string()]);
        assert!(!looks_like_host_literal("config.json"));
        assert!(looks_like_host_literal("c2.example.net"));
    }
}
