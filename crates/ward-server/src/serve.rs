//! `ward serve`: bind HTTP and the unix socket, keep engines warm, group-commit the log, ingest
//! what offline hooks spooled, and stop cleanly on SIGINT/SIGTERM.

use crate::commit::Committer;
use crate::config::{self, Flags, Offline, Settings};
use crate::home::Home;
use crate::http::{Peer, router};
use crate::metrics::Metrics;
use crate::service::{Service, Sink};
use crate::spool;
use serde::{Deserialize, Serialize};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use ward_core::{ErrorCode, EventKind, WardError};
use ward_store::{Conn, OnDuplicate, Pool, repo};

/// `$WARD_HOME/daemon.json`: written by `ward serve`, read by every hook. Its presence says "this
/// home is served by a daemon": hooks then talk to the socket, and when it does not answer they
/// follow `offline` instead of writing the log themselves.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Marker {
    pub socket: PathBuf,
    pub offline: String,
    pub listen: String,
    pub database: String,
    pub pid: u32,
    /// The daemon's default approval wait, so a hook knows how long an answer may take.
    #[serde(default)]
    pub approval_wait_secs: u64,
}

pub fn marker_path(home: &Home) -> PathBuf {
    home.dir.join("daemon.json")
}

/// The marker, if this home is served. A damaged marker is an error (the hook blocks).
pub fn read_marker(home: &Home) -> Result<Option<Marker>, WardError> {
    let path = marker_path(home);
    match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
            WardError::new(
                ErrorCode::Config,
                format!(
                    "`{}` is damaged: {e}; restart `ward serve` to rewrite it",
                    path.display()
                ),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(WardError::new(
            ErrorCode::Config,
            format!("cannot read `{}`: {e}", path.display()),
        )),
    }
}

/// The offline rule a hook follows: `WARD_OFFLINE`, else what the daemon recorded.
pub fn offline_rule(marker: &Marker) -> Result<Offline, WardError> {
    let v = std::env::var("WARD_OFFLINE").unwrap_or_else(|_| marker.offline.clone());
    match v.trim() {
        "local" => Ok(Offline::Local),
        "deny" => Ok(Offline::Deny),
        other => Err(WardError::new(
            ErrorCode::Config,
            format!("offline setting `{other}` is not one of \"local\", \"deny\""),
        )),
    }
}

/// What `ward serve` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    pub flags: Flags,
    /// Drop events instead of recording them: only to measure what durability costs.
    pub bench_no_audit: bool,
}

fn startup(what: &str, e: impl std::fmt::Display) -> WardError {
    WardError::new(ErrorCode::Config, format!("{what}: {e}"))
}

/// Load and check the settings; every problem at once.
pub fn settings(home: &Home, flags: &Flags) -> Result<Settings, WardError> {
    config::load(home, flags, &|k| std::env::var(k).ok()).map_err(|errs| {
        let list: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        WardError::new(
            ErrorCode::Config,
            format!(
                "{} bad setting{}: {}",
                errs.len(),
                if errs.len() == 1 { "" } else { "s" },
                list.join("; ")
            ),
        )
    })
}

/// Run the daemon until SIGINT/SIGTERM. `ready` is called with the bound addresses.
pub fn run(
    home: Home,
    opts: ServeOptions,
    ready: impl FnOnce(&Settings, std::net::SocketAddr),
) -> Result<(), WardError> {
    home.init()?;
    let settings = settings(&home, &opts.flags)?;
    if opts.bench_no_audit {
        // Answers without records break "no record, no allow": only for measuring, only local.
        if !settings.listen.ip().is_loopback() {
            return Err(WardError::new(
                ErrorCode::Config,
                format!(
                    "`--bench-no-audit` records nothing and is for benchmarks on loopback only, not on {}",
                    settings.listen
                ),
            ));
        }
        eprintln!("ward serve: --bench-no-audit: decisions are NOT recorded (benchmarking only)");
    }
    // More workers than cores: a decision waits (briefly, blocking) for its shell-parser thread,
    // and a waiting worker must not leave a core idle.
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads((cores * 4).clamp(4, 32))
        .enable_all()
        .thread_name("ward-serve")
        .build()
        .map_err(|e| startup("cannot start the runtime", e))?;
    rt.block_on(serve(home, settings, opts.bench_no_audit, ready))
}

/// Bind the unix socket: refuse if a daemon answers there, replace a stale file, mode 0600.
fn bind_socket(path: &Path) -> Result<tokio::net::UnixListener, WardError> {
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(startup(
                &format!("another ward daemon answers on `{}`", path.display()),
                "stop it first",
            ));
        }
        std::fs::remove_file(path).map_err(|e| {
            startup(
                &format!("cannot remove the stale socket `{}`", path.display()),
                e,
            )
        })?;
    }
    let l = tokio::net::UnixListener::bind(path)
        .map_err(|e| startup(&format!("cannot bind the socket `{}`", path.display()), e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
        startup(
            &format!("cannot restrict the socket `{}`", path.display()),
            e,
        )
    })?;
    Ok(l)
}

async fn serve(
    home: Home,
    settings: Settings,
    bench_no_audit: bool,
    ready: impl FnOnce(&Settings, std::net::SocketAddr),
) -> Result<(), WardError> {
    let signer = Arc::new(home.signer()?);
    let metrics = Arc::new(Metrics::default());
    let pool = Pool::connect(&settings.database, 8).await.map_err(|e| {
        WardError::new(
            ErrorCode::StoreOpen,
            format!(
                "cannot open the store `{}`: {}",
                settings.database.display(),
                e.to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        )
    })?;
    let sink = if bench_no_audit {
        Sink::Discard
    } else {
        Sink::Audit(
            Committer::start(
                settings.database.clone(),
                signer.clone(),
                metrics.clone(),
                settings.group_commit_max,
                16 * 1024,
            )
            .await?,
        )
    };
    let tcp = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| startup(&format!("cannot listen on {}", settings.listen), e))?;
    let local = tcp
        .local_addr()
        .map_err(|e| startup("cannot read the bound address", e))?;
    let uds = bind_socket(&settings.socket)?;
    let marker = Marker {
        socket: settings.socket.clone(),
        offline: settings.offline.as_str().to_string(),
        listen: local.to_string(),
        database: settings.database.display(),
        pid: std::process::id(),
        approval_wait_secs: settings.approval_wait.as_secs(),
    };
    let marker_bytes =
        serde_json::to_vec_pretty(&marker).map_err(|e| startup("cannot write daemon.json", e))?;
    crate::home::write_atomic(&marker_path(&home), &marker_bytes, 0o644)?;
    let svc = Arc::new(Service::new(
        home,
        settings.clone(),
        pool,
        sink,
        signer,
        metrics,
    )?);
    svc.refresh_pack();
    // Parser threads must not spin for work on a shared 2-core box.
    ward_policy::normalize::set_parser_poll(Duration::ZERO);
    // Anything spooled while the daemon was down goes in before new decisions are answered.
    if !bench_no_audit {
        ingest_spool(&svc).await?;
    }
    let background = tokio::spawn(housekeeping(svc.clone(), !bench_no_audit));
    // Postgres: registry changes are announced; until the listener is up, nothing is remembered.
    let follower = {
        let svc = svc.clone();
        tokio::spawn(async move {
            ward_store::registry::follow_changes(
                &svc.pool,
                &svc.registry_generation,
                &svc.registry_listening,
            )
            .await;
        })
    };
    let app = router(svc.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let wait_stop = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|v| *v).await;
    };
    let tcp_server = axum::serve(
        tcp,
        app.clone().into_make_service_with_connect_info::<Peer>(),
    )
    .with_graceful_shutdown(wait_stop(stop_rx.clone()));
    let uds_server = axum::serve(uds, app.into_make_service_with_connect_info::<Peer>())
        .with_graceful_shutdown(wait_stop(stop_rx));
    let t1 = tokio::spawn(async move { tcp_server.await });
    let t2 = tokio::spawn(async move { uds_server.await });
    ready(&settings, local);
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    let _ = t1.await;
    let _ = t2.await;
    background.abort();
    follower.abort();
    svc.mcp.shutdown().await;
    let _ = std::fs::remove_file(&settings.socket);
    svc.pool.close().await;
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Once a second: pick up policy changes, ingest the spool, report its depth.
async fn housekeeping(svc: Arc<Service>, audit: bool) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        svc.refresh_pack();
        // Parser threads must not spin for work on a shared 2-core box.
        ward_policy::normalize::set_parser_poll(Duration::ZERO);
        svc.mcp.sweep(std::time::Instant::now());
        if audit && let Err(e) = ingest_spool(&svc).await {
            eprintln!(
                "ward serve: {}: {} (the spool is kept and retried)",
                e.code, e.message
            );
        }
        let home = svc.home.clone();
        if let Ok(d) = tokio::task::spawn_blocking(move || spool::depth(&home)).await {
            svc.metrics.set_spool_depth(d);
        }
    }
}

/// Append what offline hooks spooled, in spool order, skipping ids already logged, then empty
/// the spool. Effects are linked to their decisions here (the hook could not look them up).
pub async fn ingest_spool(svc: &Service) -> Result<usize, WardError> {
    let home = svc.home.clone();
    let locked = tokio::task::spawn_blocking(move || spool::take(&home))
        .await
        .map_err(|e| {
            WardError::new(ErrorCode::AuditAppend, format!("spool reader failed: {e}"))
        })??;
    let Some(mut locked) = locked else {
        return Ok(0);
    };
    if locked.events.is_empty() {
        locked.clear()?;
        return Ok(0);
    }
    let mut conn = Conn::open(&svc.settings.database)
        .await
        .map_err(ward_store::append_err)?;
    let mut added = 0;
    for start in (0..locked.events.len()).step_by(500) {
        let end = (start + 500).min(locked.events.len());
        for i in start..end {
            let ev = &locked.events[i];
            if ev.kind == EventKind::Effect && ev.decision_event.is_none() {
                let link = repo::find_decision(
                    conn.r(),
                    &ev.session_id,
                    ev.tool_use_id.as_deref(),
                    ev.tool_name.as_deref(),
                    ev.input_hash.as_deref(),
                )
                .await
                .map_err(ward_store::read_err)?;
                locked.events[i].decision_event = link;
            }
        }
        // In turn with the audit writer (SQLite), not polling its lock.
        let turn = svc.write_turn().await;
        let receipts = repo::append_batch(
            conn.r(),
            &locked.events[start..end],
            &svc.signer,
            svc.signer.name(),
            OnDuplicate::Skip,
            &mut repo::FrontierCache::default(),
        )
        .await
        .map_err(ward_store::append_err)?;
        drop(turn);
        added += receipts.iter().filter(|r| r.is_some()).count();
    }
    let rejected = locked.rejected;
    locked.clear()?;
    svc.metrics.spool_ingested(added as u64);
    if rejected > 0 {
        eprintln!(
            "ward serve: {rejected} spool line(s) were not events; kept in spool/rejected.jsonl"
        );
    }
    Ok(added)
}
