//! The `ward` command line. `main` calls [`run`]; each command lives in its own module.

pub mod assistant_cmd;
pub mod audit_cmd;
pub mod demo;
pub mod eval;
pub mod hook;
pub mod install_cmd;
pub mod mcp_cmd;
pub mod output;
pub mod people_cmd;
pub mod policy_cmd;
pub mod serve_cmd;
pub mod task_cmd;

pub use ward_server::{home, ident, pipeline};

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use ward_core::{ClientKind, ErrorCode, WardError};

#[derive(Parser, Debug)]
#[command(
    name = "ward",
    version,
    about = "govern AI coding assistants: decide, record and prove every tool call"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Decide one hook payload from stdin (what clients run), or manage hook installs
    Hook {
        #[command(subcommand)]
        sub: HookCmd,
    },
    /// Create $WARD_HOME: signing key, audit database, editable policy pack (never overwrites a key)
    Init,
    /// Show, for one payload on stdin, the normalized call, the facts, and the decision
    Explain {
        /// The client that sent the payload
        #[arg(long, default_value = "claude-code")]
        client: String,
        /// The event name (Copilot camelCase payloads carry none)
        #[arg(long)]
        event: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Check or test the policy pack
    Policy {
        #[command(subcommand)]
        sub: PolicyCmd,
    },
    /// Verify, prove and read the audit log
    Audit {
        #[command(subcommand)]
        sub: AuditCmd,
    },
    /// Run a labelled corpus through the hook path and score it
    Eval {
        /// JSONL corpus: {"id","label","expected","client","event"} per line
        corpus: PathBuf,
        /// Print every case that did not get its expected answer
        #[arg(long)]
        show: bool,
        #[arg(long)]
        json: bool,
    },
    /// Pipe real payloads of several clients through the hook in a temporary $WARD_HOME
    Demo,
    /// Run the daemon: HTTP API and hook endpoints, a unix socket for local hooks, approvals
    Serve {
        /// Address for the HTTP API (default 127.0.0.1:7878)
        #[arg(long)]
        listen: Option<String>,
        /// `postgres://…` or an SQLite file (default $WARD_HOME/ward.db)
        #[arg(long)]
        database_url: Option<String>,
        /// Unix socket path (default $WARD_HOME/ward.sock)
        #[arg(long)]
        socket: Option<String>,
        /// Config file (default $WARD_HOME/ward.toml)
        #[arg(long)]
        config: Option<PathBuf>,
        /// Benchmarking only: drop events instead of recording them
        #[arg(long, hide = true)]
        bench_no_audit: bool,
    },
    /// Manage the humans who approve and administer (the owner of $WARD_HOME needs no key)
    User {
        #[command(subcommand)]
        sub: UserCmd,
    },
    /// Register and manage assistants as identities with an owner (the owner of $WARD_HOME needs no key)
    Assistant {
        #[command(subcommand)]
        sub: AssistantCmd,
    },
    /// Start, end and inspect tasks: one unit of delegated work, with its own short-lived token
    Task {
        #[command(subcommand)]
        sub: TaskCmd,
    },
    /// Inspect task tokens (RFC 7662 introspection) and publish their verification keys
    Token {
        #[command(subcommand)]
        sub: TokenCmd,
    },
    /// What is issued and still live: tokens, released secrets, database roles
    Lease {
        #[command(subcommand)]
        sub: LeaseCmd,
    },
    /// Static secrets, sealed at rest; released only through a credential helper inside a task
    Secret {
        #[command(subcommand)]
        sub: SecretCmd,
    },
    /// Credential helpers tools call just in time (git) and providers that mint logins (postgres)
    Credential {
        #[command(subcommand)]
        sub: CredentialCmd,
    },
    /// Govern MCP servers: every tools/call decided, recorded and answered like a hook call
    Mcp {
        #[command(subcommand)]
        sub: McpCmd,
    },
    /// Reports for security reviews
    Report {
        #[command(subcommand)]
        sub: ReportCmd,
    },
    /// List approval requests (needs an API key)
    Approvals {
        #[command(subcommand)]
        sub: ApprovalsCmd,
    },
    /// Approve a pending request (needs an approver's API key; never your own request)
    Approve {
        id: String,
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
        #[arg(long)]
        json: bool,
    },
    /// Deny a pending request (needs an approver's API key)
    Deny {
        id: String,
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
        #[arg(long)]
        json: bool,
    },
    /// Check an API key against the daemon and save it for later commands
    Login {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Drive the daemon with concurrent callers and print throughput and latency percentiles
    Bench(serve_cmd::BenchArgs),
}

#[derive(clap::Args, Debug, Clone)]
struct ApiArgs {
    /// API key (default: `WARD_API_KEY`, then the one saved by `ward login`)
    #[arg(long)]
    api_key: Option<String>,
    /// `http://host:port` or `unix:/path` (default: `WARD_SERVER`, the saved login, this home's daemon)
    #[arg(long)]
    server: Option<String>,
}

#[derive(Subcommand, Debug)]
enum UserCmd {
    /// Add a user and print their API key (last line)
    Add {
        name: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        json: bool,
    },
    /// List users
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum TaskCmd {
    /// Start a task for an assistant (prints its id and its token; `WARD_TASK` carries either)
    Start {
        /// The assistant's id or name (it must be active)
        #[arg(long)]
        assistant: String,
        /// The repository it works in (`owner/name`, or `host/owner/name`)
        #[arg(long)]
        repo: String,
        /// The environment it may touch (one of the assistant's)
        #[arg(long)]
        env: Option<String>,
        /// How long it lives: 90s, 15m, 2h (default 1h, at most 8h)
        #[arg(long)]
        ttl: Option<String>,
        /// An extra `kind:glob` scope, e.g. `secret:npm-token` or `postgres:analytics` (repeatable)
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Delegate from this task: the new task's scopes can only narrow it
        #[arg(long)]
        parent: Option<String>,
        /// The sub-agent the task is for (added to the actor chain)
        #[arg(long)]
        agent: Option<String>,
        /// The ward user the work is for (default: you, mapped through `[requesters]`)
        #[arg(long)]
        requester: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// End a task and every task delegated from it; revoke every lease they hold
    End {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// List live tasks (`--all`: ended ones too)
    List {
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// One task, its actor chain and its leases
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum McpCmd {
    /// Run a stdio MCP server behind ward: `ward mcp wrap --name fs -- npx … ARGS`
    Wrap {
        /// The server's name (policies see `mcp__NAME__TOOL`)
        #[arg(long)]
        name: String,
        /// The client the wrapper speaks for (its assistant identity)
        #[arg(long, default_value = "claude-code")]
        client: String,
        /// The server's command and arguments (after `--`, or simply last)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// Run every stdio MCP server of a client through `ward mcp wrap` (backup first; `--revert` undoes)
    Install {
        /// claude-code, claude-desktop, cursor, vscode, windsurf, gemini or codex
        client: String,
        /// Take the wrapper back out (the original commands return; other edits stay)
        #[arg(long)]
        revert: bool,
        /// Print the new file(s) instead of writing
        #[arg(long)]
        print: bool,
    },
    /// Review and accept tool definitions that changed since they were pinned (or look poisoned)
    Tools {
        #[command(subcommand)]
        sub: McpToolsCmd,
    },
}

#[derive(Subcommand, Debug)]
enum McpToolsCmd {
    /// Show each held tool's pinned and new definition and what the scan found (exit 1 if any)
    Diff {
        name: String,
        #[command(flatten)]
        api: ApiArgs,
        #[arg(long)]
        json: bool,
    },
    /// Trust the held definitions of a server's tools (all, or one). With an API key (an
    /// approver's) through the daemon; without one, the install's owner on its store
    Accept {
        name: String,
        tool: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
}

#[derive(Subcommand, Debug)]
enum ReportCmd {
    /// Long-lived secrets an assistant can still reach: static secrets ward releases, and
    /// secret-looking variables its client's environment holds
    Standing {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum TokenCmd {
    /// Is this token active? An RFC 7662 answer (`-` reads the token from stdin)
    Introspect {
        token: String,
        #[arg(long)]
        json: bool,
    },
    /// The JWKS that verifies task tokens
    Jwks,
    /// RFC 8693 exchange: a task token for a narrower token for one audience
    Exchange {
        /// The task token (`-`: from stdin; default `WARD_TASK`)
        #[arg(long)]
        subject_token: Option<String>,
        /// A token of the assistant that will act (it joins the actor chain)
        #[arg(long)]
        actor_token: Option<String>,
        /// The audience the new token is for (`ward` renews)
        #[arg(long)]
        audience: String,
        /// Narrower `kind:glob` scopes (repeatable; default: the subject's)
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum LeaseCmd {
    /// Live leases (`--all`: revoked and expired ones too)
    List {
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum SecretCmd {
    /// Store a secret read from stdin, sealed with the key in $WARD_HOME
    Put { name: String },
    /// Names of stored secrets (never their values)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a secret
    Rm { name: String },
}

#[derive(Subcommand, Debug)]
enum CredentialCmd {
    /// git's credential helper (`git config credential.helper "!ward credential git"`); the task
    /// comes from `WARD_TASK`
    Git {
        /// get, store or erase (only get answers)
        #[arg(default_value = "get")]
        op: String,
    },
    /// Sign an SSH public key with ward's CA for minutes, for a task (`[providers.NAME]` of kind ssh)
    Ssh {
        name: String,
        /// The public key file to sign (`~/.ssh/id_ed25519.pub`)
        #[arg(long)]
        public_key: PathBuf,
        /// The task's id or token (default `WARD_TASK`)
        #[arg(long)]
        task: Option<String>,
        /// Write the certificate here (default: print it)
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The public key of ward's SSH CA (for sshd's `TrustedUserCAKeys`)
    SshCa,
    /// AWS `credential_process` for a profile (`credential_process = ward credential aws --profile P`)
    Aws {
        #[arg(long)]
        profile: String,
    },
    /// Docker credential helper (`docker-credential-ward` is a link to ward; `credsStore: ward`)
    Docker {
        /// get, store, erase or list (only get answers)
        #[arg(default_value = "get")]
        op: String,
    },
    /// kubectl exec credential plugin for a cluster (`users[].user.exec` in the kubeconfig)
    Kubectl {
        #[arg(long)]
        cluster: String,
    },
    /// Mint a Postgres login role for a task from a `[providers.NAME]` of kind postgres
    Postgres {
        name: String,
        /// The task's id or token (default `WARD_TASK`)
        #[arg(long)]
        task: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum AssistantCmd {
    /// Register an assistant with an owner; it is active at once (prints its id)
    Register {
        name: String,
        /// claude-code, codex, cursor, gemini, copilot, ci or custom
        #[arg(long)]
        kind: String,
        /// The ward user who answers for it
        #[arg(long)]
        owner: String,
        /// Host its hooks run on (default: this host)
        #[arg(long)]
        host: Option<String>,
        /// OS user its hooks run as (default: you)
        #[arg(long)]
        os_user: Option<String>,
        #[arg(long, default_value = "")]
        purpose: String,
        /// Repository glob it may work in (repeatable)
        #[arg(long = "repo")]
        repos: Vec<String>,
        /// Environment it may touch (repeatable)
        #[arg(long = "env")]
        envs: Vec<String>,
        /// Date by which its owner must review it (YYYY-MM-DD)
        #[arg(long)]
        review_by: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List assistants (`--stale`: only review and offboarding gaps, with the reasons)
    List {
        #[arg(long)]
        json: bool,
        /// Only live assistants past their review date, unused for `--unused-days`, without an
        /// owner, or whose owner is not a ward user
        #[arg(long)]
        stale: bool,
        /// Days without a call after which an assistant counts as unused
        #[arg(long, default_value_t = 30)]
        unused_days: u64,
    },
    /// Show one assistant (by id or name)
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a live assistant's owner, purpose, repositories, environments or review date
    Update {
        id: String,
        /// The ward user who answers for it
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        purpose: Option<String>,
        /// Repository glob it may work in (repeatable; replaces the list)
        #[arg(long = "repo")]
        repos: Vec<String>,
        /// Environment it may touch (repeatable; replaces the list)
        #[arg(long = "env")]
        envs: Vec<String>,
        /// Empty the repository list
        #[arg(long, conflicts_with = "repos")]
        no_repos: bool,
        /// Empty the environment list
        #[arg(long, conflicts_with = "envs")]
        no_envs: bool,
        /// Date by which its owner must review it (YYYY-MM-DD), or `none`
        #[arg(long)]
        review_by: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Activate a pending assistant; it needs an owner
    Approve {
        id: String,
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Stop a pending or active assistant until it is resumed
    Suspend {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Make a suspended assistant active again
    Resume {
        id: String,
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Retire an assistant for good
    Retire {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ApprovalsCmd {
    /// List approval requests
    List {
        /// pending, approved, denied, used, expired or all
        #[arg(long, default_value = "pending")]
        state: String,
        #[command(flatten)]
        api: ApiArgs,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum HookCmd {
    /// Install ward's hook into a client's settings (claude-code, codex, gemini, cursor, copilot)
    Install {
        client: String,
        /// Print the resulting settings instead of writing them
        #[arg(long)]
        print: bool,
        /// Install into this project's settings instead of the user's
        #[arg(long)]
        project: Option<PathBuf>,
        /// Claude Code only: an `http` hook posting to the daemon (creates a hook token)
        #[arg(long)]
        http: bool,
        /// The daemon's URL for `--http` (default http://127.0.0.1:7878)
        #[arg(long)]
        url: Option<String>,
    },
    /// Remove ward's hook entries from a client's settings
    Uninstall {
        client: String,
        /// Print the resulting settings instead of writing them
        #[arg(long)]
        print: bool,
        #[arg(long)]
        project: Option<PathBuf>,
    },
    /// Create (or rotate) the bearer token of an HTTP hook and print it (last line)
    Token { name: String },
    /// Tell when a client would skip or ignore ward's hook
    Doctor {
        client: Option<String>,
        #[arg(long)]
        json: bool,
    },
    #[command(external_subcommand)]
    Client(Vec<String>),
}

#[derive(Subcommand, Debug)]
enum PolicyCmd {
    /// Validate the pack against the schema
    Check {
        /// Policy directory (default: $WARD_HOME/policies)
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Run policy test cases (input + expected decision) from a directory
    Test {
        dir: PathBuf,
        /// Policy directory (default: $WARD_HOME/policies)
        #[arg(long)]
        policies: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Print the Cedar schema policies are validated against
    Schema,
    /// List the policies of the pack
    List {
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCmd {
    /// Recompute the tree and check every checkpoint signature
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// Print an inclusion proof of one event against the latest checkpoint
    Prove { event_id: String },
    /// Check a proof bundle offline (file or `-` for stdin)
    CheckProof { file: PathBuf },
    /// Print a consistency proof between two tree sizes
    Consistency { old_size: u64, new_size: u64 },
    /// Show the latest events
    Tail {
        #[arg(short = 'n', long, default_value_t = 20)]
        n: u64,
        #[arg(long)]
        json: bool,
    },
    /// Export events for a SIEM
    Export {
        #[arg(long, default_value = "jsonl")]
        format: String,
    },
    /// Which call made this commit or changed this file
    Trace {
        what: String,
        #[arg(long)]
        json: bool,
    },
}

/// Parse arguments and run; returns the process exit code.
pub fn run() -> i32 {
    // The hook path is the hot one: dispatch it before clap builds the whole command tree.
    let args: Vec<String> = std::env::args().collect();
    if args.len() >= 3
        && args[1] == "hook"
        && let Ok(client) = args[2].parse::<ClientKind>()
    {
        return match hook_event_arg(&args[3..]) {
            Ok(ev) => hook::run(client, ev.as_deref()),
            Err(e) => hook::emit(&ward_clients::render_error(client, None, &e)),
        };
    }
    restore_default_sigpipe();
    // Docker finds its credential helpers by name: `docker-credential-ward` is a link to ward.
    if args.first().is_some_and(|a| {
        Path::new(a).file_name().and_then(|n| n.to_str()) == Some("docker-credential-ward")
    }) {
        let op = args.get(1).map(String::as_str).unwrap_or("get");
        return match task_cmd::credential_docker(op) {
            Ok(code) => code,
            Err(e) => {
                output::print_error(&e);
                1
            }
        };
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 64 } else { 0 };
        }
    };
    match dispatch(cli.cmd) {
        Ok(code) => code,
        Err(e) => {
            output::print_error(&e);
            1
        }
    }
}

/// Outside the hook, behave like other command-line tools when the reader goes away
/// (`ward audit export | head`): end quietly instead of failing on every write. Not for the
/// daemon and the load tool: a client hanging up must be an error on one connection, never the
/// end of the process.
#[expect(
    unsafe_code,
    reason = "libc::signal is the only way to restore SIGPIPE's default action"
)]
fn restore_default_sigpipe() {
    let args: Vec<String> = std::env::args().take(2).collect();
    if matches!(args.get(1).map(String::as_str), Some("serve" | "bench")) {
        return;
    }
    // SAFETY: setting SIGPIPE to SIG_DFL has no preconditions and touches no Rust state.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn hook_event_arg(rest: &[String]) -> Result<Option<String>, WardError> {
    let mut ev = None;
    let mut i = 0;
    while i < rest.len() {
        let a = &rest[i];
        if let Some(v) = a.strip_prefix("--event=") {
            ev = Some(v.to_string());
        } else if a == "--event" {
            i += 1;
            ev = Some(rest.get(i).cloned().ok_or_else(|| {
                WardError::new(ErrorCode::Usage, "`--event` needs an event name")
            })?);
        } else {
            return Err(WardError::new(
                ErrorCode::Usage,
                format!("unexpected hook argument `{a}`"),
            ));
        }
        i += 1;
    }
    Ok(ev)
}

fn client_arg(s: &str) -> Result<ClientKind, WardError> {
    s.parse::<ClientKind>()
        .map_err(|m| WardError::new(ErrorCode::BadInput, m))
}

fn dispatch(cmd: Cmd) -> Result<i32, WardError> {
    match cmd {
        Cmd::Hook { sub } => match sub {
            HookCmd::Token { name } => people_cmd::hook_token(&name),
            HookCmd::Install {
                client,
                print,
                project,
                http,
                url,
            } => {
                let client = client_arg(&client)?;
                if http {
                    return install_cmd::install_http(client, print, project, url.as_deref());
                }
                let env = install_cmd::install_env_from_process()?;
                let bin = std::env::current_exe().map_err(|e| {
                    WardError::new(ErrorCode::Io, format!("cannot find the ward binary: {e}"))
                })?;
                let summary =
                    install_cmd::install(client, print, project, &bin.display().to_string(), &env)?;
                println!("{summary}");
                Ok(0)
            }
            HookCmd::Uninstall {
                client,
                print,
                project,
            } => {
                let client = client_arg(&client)?;
                let env = install_cmd::install_env_from_process()?;
                println!("{}", install_cmd::uninstall(client, print, project, &env)?);
                Ok(0)
            }
            HookCmd::Doctor { client, json } => {
                let clients = match client {
                    Some(c) => vec![client_arg(&c)?],
                    None => ClientKind::ALL.to_vec(),
                };
                let env = install_cmd::install_env_from_process()?;
                let (text, any_error) = install_cmd::doctor(&clients, &env, json)?;
                println!("{text}");
                Ok(if any_error { 1 } else { 0 })
            }
            HookCmd::Client(args) => {
                // Reached only for an unknown client name (known ones are dispatched in run()).
                let name = args.first().cloned().unwrap_or_default();
                Err(WardError::new(
                    ErrorCode::BadInput,
                    client_arg(&name)
                        .err()
                        .map(|e| e.message)
                        .unwrap_or_else(|| format!("unknown hook command `{name}`")),
                ))
            }
        },
        Cmd::Init => {
            let home = home::Home::resolve()?;
            let created = home.init()?;
            if created.is_empty() {
                println!(
                    "ward home `{}` already initialised; nothing changed",
                    home.dir.display()
                );
            } else {
                println!("initialised ward home `{}`", home.dir.display());
                for c in created {
                    println!("  created {c}");
                }
            }
            println!("verifier key: {}", home.verifier()?.vkey());
            Ok(0)
        }
        Cmd::Explain {
            client,
            event,
            json,
        } => eval::explain(client_arg(&client)?, event.as_deref(), json),
        Cmd::Policy { sub } => match sub {
            PolicyCmd::Check { dir, json } => policy_cmd::check(dir, json),
            PolicyCmd::Test {
                dir,
                policies,
                json,
            } => policy_cmd::test(&dir, policies, json),
            PolicyCmd::Schema => {
                print!("{}", ward_policy::pack::schema_text());
                Ok(0)
            }
            PolicyCmd::List { dir, json } => policy_cmd::list(dir, json),
        },
        Cmd::Audit { sub } => match sub {
            AuditCmd::Verify { json } => audit_cmd::verify(json),
            AuditCmd::Prove { event_id } => audit_cmd::prove(&event_id),
            AuditCmd::CheckProof { file } => audit_cmd::check_proof(&file),
            AuditCmd::Consistency { old_size, new_size } => {
                audit_cmd::consistency(old_size, new_size)
            }
            AuditCmd::Tail { n, json } => audit_cmd::tail(n, json),
            AuditCmd::Export { format } => audit_cmd::export(&format),
            AuditCmd::Trace { what, json } => audit_cmd::trace(&what, json),
        },
        Cmd::Eval { corpus, show, json } => eval::eval(&corpus, show, json),
        Cmd::Demo => demo::run(),
        Cmd::Serve {
            listen,
            database_url,
            socket,
            config,
            bench_no_audit,
        } => serve_cmd::serve(ward_server::serve::ServeOptions {
            flags: ward_server::config::Flags {
                config,
                listen,
                database_url,
                socket,
            },
            bench_no_audit,
        }),
        Cmd::User { sub } => match sub {
            UserCmd::Add { name, role, json } => people_cmd::user_add(&name, &role, json),
            UserCmd::List { json } => people_cmd::user_list(json),
        },
        Cmd::Assistant { sub } => assistant(sub),
        Cmd::Task { sub } => task(sub),
        Cmd::Token { sub } => match sub {
            TokenCmd::Introspect { token, json } => task_cmd::introspect(&token, json),
            TokenCmd::Jwks => task_cmd::jwks(),
            TokenCmd::Exchange {
                subject_token,
                actor_token,
                audience,
                scopes,
                json,
            } => task_cmd::exchange(subject_token, actor_token, &audience, &scopes, json),
        },
        Cmd::Mcp { sub } => match sub {
            McpCmd::Wrap {
                name,
                client,
                command,
            } => {
                let client = client.parse::<ClientKind>().map_err(|_| {
                    WardError::new(
                        ErrorCode::BadInput,
                        format!("`{client}` is not a client; use claude-code, codex, gemini, cursor or copilot"),
                    )
                })?;
                mcp_cmd::wrap(&name, client, &command)
            }
            McpCmd::Install {
                client,
                revert,
                print,
            } => {
                let env = install_cmd::install_env_from_process()?;
                let bin = std::env::current_exe().map_err(|e| {
                    WardError::new(ErrorCode::Io, format!("cannot find the ward binary: {e}"))
                })?;
                let summary = install_cmd::mcp_install(
                    &client,
                    revert,
                    print,
                    &bin.display().to_string(),
                    &env,
                )?;
                println!("{summary}");
                Ok(0)
            }
            McpCmd::Tools { sub } => match sub {
                McpToolsCmd::Diff { name, api, json } => {
                    mcp_cmd::tools_diff(&name, explicit_api(&api)?.as_ref(), json)
                }
                McpToolsCmd::Accept { name, tool, api } => {
                    mcp_cmd::tools_accept(&name, tool.as_deref(), explicit_api(&api)?.as_ref())
                }
            },
        },
        Cmd::Report { sub } => match sub {
            ReportCmd::Standing { json } => task_cmd::report_standing(json),
        },
        Cmd::Lease { sub } => match sub {
            LeaseCmd::List { all, json } => task_cmd::lease_list(all, json),
        },
        Cmd::Secret { sub } => match sub {
            SecretCmd::Put { name } => task_cmd::secret_put(&name),
            SecretCmd::List { json } => task_cmd::secret_list(json),
            SecretCmd::Rm { name } => task_cmd::secret_rm(&name),
        },
        Cmd::Credential { sub } => match sub {
            CredentialCmd::Git { op } => task_cmd::credential_git(&op),
            CredentialCmd::Ssh {
                name,
                public_key,
                task,
                out,
                json,
            } => task_cmd::credential_ssh(&name, &public_key, task, out.as_deref(), json),
            CredentialCmd::SshCa => task_cmd::ssh_ca(),
            CredentialCmd::Aws { profile } => task_cmd::credential_tool("aws", &profile),
            CredentialCmd::Docker { op } => task_cmd::credential_docker(&op),
            CredentialCmd::Kubectl { cluster } => task_cmd::credential_tool("kubectl", &cluster),
            CredentialCmd::Postgres { name, task, json } => {
                task_cmd::credential_postgres(&name, task, json)
            }
        },
        Cmd::Approvals { sub } => match sub {
            ApprovalsCmd::List { state, api, json } => {
                let api = people_cmd::Api::resolve(api.server.as_deref(), api.api_key.as_deref())?;
                people_cmd::approvals_list(&api, &state, json)
            }
        },
        Cmd::Approve {
            id,
            note,
            api,
            json,
        } => {
            let api = people_cmd::Api::resolve(api.server.as_deref(), api.api_key.as_deref())?;
            people_cmd::approve(&api, &id, true, note.as_deref(), json)
        }
        Cmd::Deny {
            id,
            note,
            api,
            json,
        } => {
            let api = people_cmd::Api::resolve(api.server.as_deref(), api.api_key.as_deref())?;
            people_cmd::approve(&api, &id, false, note.as_deref(), json)
        }
        Cmd::Login { api } => people_cmd::login(api.server.as_deref(), api.api_key.as_deref()),
        Cmd::Bench(args) => serve_cmd::bench(&args),
    }
}

/// The daemon's API when the command was pointed at it (`--server`, `--api-key` or
/// `WARD_API_KEY`); otherwise the command works on the install's own store.
fn explicit_api(api: &ApiArgs) -> Result<Option<people_cmd::Api>, WardError> {
    if api.server.is_none() && api.api_key.is_none() && std::env::var_os("WARD_API_KEY").is_none() {
        return Ok(None);
    }
    people_cmd::Api::resolve(api.server.as_deref(), api.api_key.as_deref()).map(Some)
}

fn task(sub: TaskCmd) -> Result<i32, WardError> {
    match sub {
        TaskCmd::Start {
            assistant,
            repo,
            env,
            ttl,
            scopes,
            parent,
            agent,
            requester,
            json,
        } => {
            let ttl_ms = ttl
                .as_deref()
                .map(ward_broker::task::parse_ttl)
                .transpose()
                .map_err(|e| WardError::new(ErrorCode::BadInput, e))?;
            let req = ward_server::tasks::StartTask {
                assistant,
                repo,
                env,
                ttl_ms,
                scopes,
                parent,
                agent,
                session_id: None,
            };
            task_cmd::start(req, requester, json)
        }
        TaskCmd::End { id, json } => task_cmd::end(&id, json),
        TaskCmd::List { all, json } => task_cmd::list(all, json),
        TaskCmd::Show { id, json } => task_cmd::show(&id, json),
    }
}

fn assistant(sub: AssistantCmd) -> Result<i32, WardError> {
    use ward_server::assistants::Change;
    match sub {
        AssistantCmd::Register {
            name,
            kind,
            owner,
            host,
            os_user,
            purpose,
            repos,
            envs,
            review_by,
            json,
        } => {
            let r = ward_server::assistants::Registration {
                name,
                kind,
                owner,
                host: host.unwrap_or_else(ward_server::ident::hostname),
                os_user: os_user.unwrap_or_else(ward_server::ident::os_user),
                purpose,
                repos,
                envs,
                review_by_ms: assistant_cmd::review_by(review_by.as_deref())?,
            };
            assistant_cmd::register(r, json)
        }
        AssistantCmd::List {
            json,
            stale,
            unused_days,
        } => assistant_cmd::list(json, stale.then_some(unused_days)),
        AssistantCmd::Show { id, json } => assistant_cmd::show(&id, json),
        AssistantCmd::Update {
            id,
            owner,
            purpose,
            repos,
            envs,
            no_repos,
            no_envs,
            review_by,
            json,
        } => {
            let list = |v: Vec<String>, clear: bool| (clear || !v.is_empty()).then_some(v);
            let review_by_ms = match review_by.as_deref() {
                None => None,
                Some("none") => Some(None),
                Some(d) => Some(assistant_cmd::review_by(Some(d))?),
            };
            let u = ward_server::assistants::Update {
                owner,
                purpose,
                repos: list(repos, no_repos),
                envs: list(envs, no_envs),
                review_by_ms,
            };
            assistant_cmd::update(&id, &u, json)
        }
        AssistantCmd::Approve { id, owner, json } => {
            assistant_cmd::change(&id, Change::Approve, owner.as_deref(), json)
        }
        AssistantCmd::Suspend { id, json } => {
            assistant_cmd::change(&id, Change::Suspend, None, json)
        }
        AssistantCmd::Resume { id, owner, json } => {
            assistant_cmd::change(&id, Change::Resume, owner.as_deref(), json)
        }
        AssistantCmd::Retire { id, json } => assistant_cmd::change(&id, Change::Retire, None, json),
    }
}
