//! Shell command analysis: brush-parser judges, tree-sitter-bash gives a second opinion.
//!
//! brush runs behind a guard (DESIGN.md, "Shell parsing"): an input cap, a nesting cap, a
//! big-stack worker thread, `catch_unwind`, and a deadline. Anything that trips the guard is
//! `unparseable`. tree-sitter parses the same text on the calling thread meanwhile; where the
//! two disagree on program names or redirect targets the facts say so and keep the stricter
//! reading. What only tree-sitter parses counts as understood only when it is plain words
//! from the read-only allowlist.

mod opts;
mod programs;
mod ts;
mod walk;

use crate::facts::{Facts, NormalizeEnv};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use walk::{Out, Walker};

/// Longest command analysed (bytes).
pub const MAX_INPUT: usize = 64 * 1024;
/// Deepest bracket/quote nesting analysed.
pub const MAX_NESTING: usize = 64;
/// Time budget for parsing and analysis of one command. An ordinary command takes tens of
/// microseconds; the budget is generous so that a loaded machine or a debug build never turns an
/// ordinary command into `unparseable`, while still bounding runaway inputs (the inputs known to
/// hang the parser never reach it: see [`heredoc_hazard`] and [`MAX_NESTING`]).
pub const DEADLINE: Duration = Duration::from_millis(250);
/// Stack of the parser thread (virtual; committed only as used).
const STACK: usize = 64 * 1024 * 1024;
/// A run of this many blanks inside a line hides what follows.
const PADDING_RUN: usize = 40;
/// An `&&`/`||` chain this long is padding.
const PADDING_CHAIN: usize = 40;

/// Analyse one shell command line.
pub fn analyze_shell(command: &str, env: &NormalizeEnv) -> Facts {
    let deadline = Instant::now() + DEADLINE;
    if command.len() > MAX_INPUT {
        return limited(format!(
            "command longer than {} KiB is not analysed",
            MAX_INPUT / 1024
        ));
    }
    if nesting(command) > MAX_NESTING {
        return limited(format!(
            "command nested deeper than {MAX_NESTING} levels is not analysed"
        ));
    }
    let (reply, answer) = mpsc::sync_channel(1);
    let job = Job {
        command: command.to_string(),
        env: env.clone(),
        deadline,
        reply,
    };
    let sent = pool::submit(job);
    // The second opinion is skipped, never guessed, where its C scanner would crash.
    let second = if ts_scanner_hazard(command) {
        None
    } else {
        ts::parse(command, deadline)
    };
    let judged = match sent {
        Some(worker) => match pool::wait(&answer, deadline) {
            Ok(Ok(r)) => {
                pool::give_back(worker);
                Judged::Done(r)
            }
            Ok(Err(_)) => {
                pool::give_back(worker);
                Judged::Failed("the shell parser crashed on this input")
            }
            // The worker is still busy: it is not given back; it exits once it finishes.
            Err(()) => Judged::Failed("parsing exceeded its time limit"),
        },
        None => Judged::Failed("the parser thread could not start"),
    };
    combine(judged, second)
}

/// Analyse shell text found inside other content (hooks in settings files, CI `run:` steps).
pub(crate) fn analyze_inline(text: &str, env: &NormalizeEnv) -> Facts {
    analyze_shell(text, env)
}

/// brush's answer for one command.
type Verdict = std::thread::Result<Option<(Facts, ts::SyntaxView)>>;

/// How long parser workers and their callers poll before sleeping (default 200 µs, right for a
/// short-lived hook process; a daemon under load sets zero).
pub fn set_parser_poll(d: Duration) {
    pool::set_poll(d);
}

/// One command for a parser worker.
struct Job {
    command: String,
    env: NormalizeEnv,
    deadline: Instant,
    reply: mpsc::SyncSender<Verdict>,
}

/// Parser worker threads with big stacks, kept between calls: spawning one per command
/// costs more than the analysis. A worker that misses its deadline is abandoned.
mod pool {
    use super::{Job, STACK, judge};
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::{Mutex, mpsc};
    use std::time::{Duration, Instant};

    use std::sync::atomic::{AtomicU64, Ordering};

    /// Idle workers kept.
    const IDLE: usize = 8;
    /// How long (µs) a worker keeps polling for the next job, and a caller for its answer,
    /// before sleeping. Waking a sleeping thread costs tens of microseconds on a virtual
    /// machine, more than the parse itself, so a one-shot hook process polls (`yield_now`
    /// leaves the core to others). A busy daemon sets 0: there, polling threads take CPU from
    /// the requests in flight (measured: 15% of the daemon's samples in `sched_yield`).
    static POLL_MICROS: AtomicU64 = AtomicU64::new(200);

    pub(super) fn set_poll(d: Duration) {
        POLL_MICROS.store(
            d.as_micros().min(u128::from(u64::MAX)) as u64,
            Ordering::Relaxed,
        );
    }

    fn poll() -> Duration {
        Duration::from_micros(POLL_MICROS.load(Ordering::Relaxed))
    }

    pub(super) struct Worker(mpsc::Sender<Job>);

    static IDLE_WORKERS: Mutex<Vec<Worker>> = Mutex::new(Vec::new());

    /// Hand `job` to an idle worker (or a new one). `None`: no thread could run it.
    pub(super) fn submit(job: Job) -> Option<Worker> {
        let idle = IDLE_WORKERS.lock().ok().and_then(|mut w| w.pop());
        let worker = match idle {
            Some(w) => w,
            None => spawn()?,
        };
        match worker.0.send(job) {
            Ok(()) => Some(worker),
            Err(mpsc::SendError(job)) => {
                let fresh = spawn()?;
                fresh.0.send(job).ok()?;
                Some(fresh)
            }
        }
    }

    pub(super) fn give_back(worker: Worker) {
        if let Ok(mut idle) = IDLE_WORKERS.lock()
            && idle.len() < IDLE
        {
            idle.push(worker);
        }
    }

    fn next_job(rx: &mpsc::Receiver<Job>) -> Option<Job> {
        let start = Instant::now();
        let limit = poll();
        while start.elapsed() < limit {
            match rx.try_recv() {
                Ok(job) => return Some(job),
                Err(mpsc::TryRecvError::Disconnected) => return None,
                Err(mpsc::TryRecvError::Empty) => std::thread::yield_now(),
            }
        }
        rx.recv().ok()
    }

    /// The worker's answer, or `Err` when the deadline passes (or the worker is gone).
    pub(super) fn wait(
        answer: &mpsc::Receiver<super::Verdict>,
        deadline: Instant,
    ) -> Result<super::Verdict, ()> {
        let start = Instant::now();
        let limit = poll();
        while start.elapsed() < limit {
            match answer.try_recv() {
                Ok(v) => return Ok(v),
                Err(mpsc::TryRecvError::Disconnected) => return Err(()),
                Err(mpsc::TryRecvError::Empty) => std::thread::yield_now(),
            }
        }
        let left = deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(1);
        answer.recv_timeout(left).map_err(|_| ())
    }

    /// Name of the parser threads; their panics are caught and become `unparseable`.
    const THREAD_NAME: &str = "ward-shell-parse";

    /// A panic in a parser thread is an expected, handled outcome (`catch_unwind` turns it into
    /// `unparseable`): keep the process's panic hook from printing it to stderr, where it would
    /// corrupt a hook's reply channel. Panics on every other thread reach the previous hook.
    fn silence_parser_panics() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(wrap_panic_hook);
    }

    /// Wrap the current panic hook so that parser-thread panics skip it.
    pub(super) fn wrap_panic_hook() {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some(THREAD_NAME) {
                previous(info);
            }
        }));
    }

    fn spawn() -> Option<Worker> {
        silence_parser_panics();
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .stack_size(STACK)
            .spawn(move || {
                while let Some(job) = next_job(&rx) {
                    let verdict = catch_unwind(AssertUnwindSafe(|| {
                        judge(&job.command, &job.env, job.deadline)
                    }));
                    let _ = job.reply.send(verdict);
                }
            })
            .ok()?;
        Some(Worker(tx))
    }
}

enum Judged {
    Done(Option<(Facts, ts::SyntaxView)>),
    Failed(&'static str),
}

fn limited(note: String) -> Facts {
    Facts {
        unparseable: true,
        notes: vec![note],
        ..Facts::default()
    }
}

/// Bracket/paren/brace/backtick depth, counted without regard to quoting (an over-estimate).
pub(crate) fn nesting(s: &str) -> usize {
    let mut depth: usize = 0;
    let mut max = 0;
    let mut backtick = false;
    for c in s.chars() {
        match c {
            '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' => depth = depth.saturating_sub(1),
            '`' => {
                backtick = !backtick;
                if backtick {
                    depth += 1;
                } else {
                    depth = depth.saturating_sub(1);
                }
            }
            _ => {}
        }
        max = max.max(depth);
    }
    max
}

/// brush-parser 0.4.0 loops forever, allocating, when a here-document operator's line opens a
/// quote or expansion it never closes (`<<E$[` + two blanks: ~10 GB in seconds; fixed upstream
/// after 0.4.0 in reubeno/brush 49b7c968). Such text is never handed to brush.
pub(crate) fn heredoc_hazard(s: &str) -> bool {
    let mut from = 0;
    while let Some(pos) = s.get(from..).and_then(|t| t.find("<<")) {
        let start = from + pos + 2;
        let rest = s.get(start..).unwrap_or("");
        if let Some(after) = rest.strip_prefix('<') {
            from = s.len() - after.len();
            continue;
        }
        let line = rest.split('\n').next().unwrap_or(rest);
        if unbalanced(line) {
            return true;
        }
        from = start;
    }
    false
}

/// tree-sitter-bash 0.25's external scanner classifies the character after `{` (and after
/// `{N..`) with C `isdigit`, which reads outside its table for a code point above 255: the
/// process segfaults (found by `normalize_props`). Such text never reaches tree-sitter; brush
/// alone judges it.
pub(crate) fn ts_scanner_hazard(s: &str) -> bool {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '{' {
            continue;
        }
        while let Some(&n) = chars.peek() {
            if n.is_ascii_digit() || n == '.' {
                chars.next();
            } else {
                break;
            }
        }
        if chars.peek().is_some_and(|n| !n.is_ascii()) {
            return true;
        }
    }
    false
}

/// Quotes, backquotes or `$(`/`$[`/`${` left open at the end of `line`.
fn unbalanced(line: &str) -> bool {
    let mut stack: Vec<char> = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let top = stack.last().copied();
        if top == Some('\'') {
            if c == '\'' {
                stack.pop();
            }
            continue;
        }
        match c {
            '\\' => {
                chars.next();
            }
            '\'' if top != Some('"') => stack.push('\''),
            '"' | '`' if top == Some(c) => {
                stack.pop();
            }
            '"' | '`' => stack.push(c),
            '$' => {
                if let Some(&n) = chars.peek()
                    && matches!(n, '(' | '[' | '{')
                {
                    chars.next();
                    stack.push(n);
                }
            }
            '(' if top != Some('"') => stack.push('('),
            ')' if top == Some('(') => {
                stack.pop();
            }
            ']' if top == Some('[') => {
                stack.pop();
            }
            '}' if top == Some('{') => {
                stack.pop();
            }
            _ => {}
        }
    }
    !stack.is_empty()
}

/// Unit tests make the parser thread panic with this command, to prove the guard holds.
#[cfg(test)]
const TEST_CRASH: &str = "\u{0}ward test: crash the parser thread\u{0}";

/// brush's verdict: `None` when it cannot parse the top level.
fn judge(command: &str, env: &NormalizeEnv, deadline: Instant) -> Option<(Facts, ts::SyntaxView)> {
    #[cfg(test)]
    if command == TEST_CRASH {
        panic!("injected parser crash");
    }
    let mut w = Walker::new(env, deadline);
    let program = w.parse(command)?;
    let _ = w.walk_program(&program, Out::default());
    raw_checks(command, &mut w);
    let read_only = w.all_read_only;
    let limit_hit = w.limit_hit;
    let only_computed = w.computed_destruction && !w.known_destruction;
    let syntax = std::mem::take(&mut w.syntax);
    let mut f = w.facts;
    f.destroys_only_computed_paths = f.destroys_outside_workspace && only_computed;
    if limit_hit {
        f.unparseable = true;
    }
    f.parsed = !f.unparseable;
    f.read_only = f.parsed
        && read_only
        && !f.dynamic_program
        && f.paths_written.is_empty()
        && !f.reads_secret
        && !f.reads_workspace_env
        && !f.reads_secret_env
        && !f.reads_credential_store
        && !f.network
        && !f.privileged
        && !f.obfuscated;
    Some((f, syntax))
}

/// Checks on the raw text: padding, long chains, invisible characters, bare carriage returns.
fn raw_checks(command: &str, w: &mut Walker<'_>) {
    let mut run = 0usize;
    let mut line_start = true;
    let mut longest = 0usize;
    for c in command.chars() {
        match c {
            ' ' | '\t' => {
                if !line_start {
                    run += 1;
                    longest = longest.max(run);
                }
            }
            '\n' => {
                run = 0;
                line_start = true;
            }
            _ => {
                run = 0;
                line_start = false;
            }
        }
    }
    if longest >= PADDING_RUN {
        w.facts.padding = true;
        w.note(format!(
            "a run of {longest} blanks hides part of the command"
        ));
    }
    if w.longest_chain() > PADDING_CHAIN {
        w.facts.padding = true;
        w.note(format!(
            "an `&&`/`||` chain of {} commands",
            w.longest_chain()
        ));
    }
    if w.commands() > 200 {
        w.facts.padding = true;
        w.note(format!("{} commands in one call", w.commands()));
    }
    if crate::normalize::text::has_invisible(command) {
        w.facts.obfuscated = true;
        w.note("invisible or bidirectional characters in the command".into());
    }
    let bytes = command.as_bytes();
    if bytes
        .iter()
        .enumerate()
        .any(|(i, b)| *b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
    {
        w.facts.obfuscated = true;
        w.note("a bare carriage return can hide part of the command on screen".into());
    }
}

fn combine(judged: Judged, second: Option<ts::TsView>) -> Facts {
    match judged {
        Judged::Done(Some((mut f, brush_view))) => {
            if let Some(tv) = second {
                let diff = brush_view.difference(&tv.syntax);
                if !diff.is_empty() {
                    f.parser_disagreement = true;
                    f.read_only = false;
                    for p in tv.syntax.programs.difference(&brush_view.programs) {
                        f.programs
                            .insert(p.rsplit('/').next().unwrap_or(p).to_string());
                    }
                    let shown: Vec<String> = diff.into_iter().take(4).collect();
                    f.notes.push(format!(
                        "the two shell parsers disagree on {}",
                        shown.join(", ")
                    ));
                }
            }
            f
        }
        Judged::Done(None) => match second {
            Some(tv) if !tv.has_error => {
                let programs: Vec<String> = tv.syntax.programs.iter().cloned().collect();
                let plain = tv.plain
                    && !programs.is_empty()
                    && programs.iter().all(|p| programs::plain_read_only(p));
                let mut f = Facts {
                    parser_disagreement: true,
                    unparseable: !plain,
                    read_only: plain,
                    programs: programs.into_iter().collect(),
                    ..Facts::default()
                };
                f.notes
                    .push("only the second shell parser accepts this command".into());
                f
            }
            _ => limited("the command does not parse as shell".into()),
        },
        Judged::Failed(why) => limited(why.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static SEEN: AtomicUsize = AtomicUsize::new(0);

    #[test]
    fn a_parser_crash_is_unparseable_and_prints_nothing() {
        // A hook standing for the default one (which prints to stderr): it must not see the
        // parser thread's panic.
        std::panic::set_hook(Box::new(|_| {
            SEEN.fetch_add(1, Ordering::SeqCst);
        }));
        pool::wrap_panic_hook();
        let env = NormalizeEnv {
            home: "/home/dev".into(),
            cwd: "/home/dev/src/app".into(),
            ..NormalizeEnv::default()
        };
        let f = analyze_shell(TEST_CRASH, &env);
        assert!(f.unparseable && !f.parsed, "{f:?}");
        assert!(
            f.notes.iter().any(|n| n.contains("crashed")),
            "{:?}",
            f.notes
        );
        assert_eq!(
            SEEN.load(Ordering::SeqCst),
            0,
            "the panic reached the process hook"
        );
        // Panics elsewhere still reach it.
        let other = std::thread::spawn(|| panic!("elsewhere")).join();
        assert!(other.is_err());
        assert_eq!(SEEN.load(Ordering::SeqCst), 1);
        let _ = std::panic::take_hook();
        // The pool keeps working after a crash.
        assert!(analyze_shell("ls -la", &env).parsed);
    }

    #[test]
    fn text_that_crashes_tree_sitter_never_reaches_it() {
        assert!(ts_scanner_hazard("echo {\u{10FFFF}"));
        assert!(ts_scanner_hazard("echo {1..\u{1F600}}"));
        assert!(!ts_scanner_hazard("echo {a,b} ${x} é"));
        let env = NormalizeEnv {
            home: "/home/dev".into(),
            cwd: "/home/dev/src/app".into(),
            ..NormalizeEnv::default()
        };
        for s in ["echo {\u{10FFFF}", "x {12..\u{E0000}", "{\u{1F600}"] {
            // Would segfault inside tree-sitter-bash's scanner.
            let _ = analyze_shell(s, &env);
        }
    }

    #[test]
    fn the_deadline_leaves_room_for_a_loaded_machine() {
        assert!(DEADLINE >= Duration::from_millis(200));
        assert!(DEADLINE <= Duration::from_secs(1));
        // The known hangs never reach brush, whatever the deadline.
        assert!(heredoc_hazard("cat <<E$[  \n"));
        assert!(nesting(&"(".repeat(MAX_NESTING + 1)) > MAX_NESTING);
    }
}
