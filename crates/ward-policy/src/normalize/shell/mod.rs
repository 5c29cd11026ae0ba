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
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use walk::{Out, Walker};

/// Longest command analysed (bytes).
pub const MAX_INPUT: usize = 64 * 1024;
/// Deepest bracket/quote nesting analysed.
pub const MAX_NESTING: usize = 64;
/// Time budget for parsing and analysis of one command.
pub const DEADLINE: Duration = Duration::from_millis(25);
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
        return limited(format!("command longer than {} KiB is not analysed", MAX_INPUT / 1024));
    }
    if nesting(command) > MAX_NESTING {
        return limited(format!("command nested deeper than {MAX_NESTING} levels is not analysed"));
    }
    let (tx, rx) = mpsc::sync_channel(1);
    let cmd = command.to_string();
    let owned_env = env.clone();
    let spawned = std::thread::Builder::new().name("ward-shell-parse".into()).stack_size(STACK).spawn(move || {
        let result = catch_unwind(AssertUnwindSafe(|| judge(&cmd, &owned_env, deadline)));
        let _ = tx.send(result);
    });
    let second = ts::parse(command, deadline);
    let judged = match spawned {
        Ok(_) => match rx.recv_timeout(deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(1)) {
            Ok(Ok(r)) => Judged::Done(r),
            Ok(Err(_)) => Judged::Failed("the shell parser crashed on this input"),
            Err(_) => Judged::Failed("parsing exceeded its time limit"),
        },
        Err(_) => Judged::Failed("the parser thread could not start"),
    };
    combine(judged, second)
}

/// Analyse shell text found inside other content (hooks in settings files, CI `run:` steps).
pub(crate) fn analyze_inline(text: &str, env: &NormalizeEnv) -> Facts {
    analyze_shell(text, env)
}

enum Judged {
    Done(Option<(Facts, ts::SyntaxView)>),
    Failed(&'static str),
}

fn limited(note: String) -> Facts {
    Facts { unparseable: true, notes: vec![note], ..Facts::default() }
}

/// Bracket/paren/brace/backtick depth, counted without regard to quoting (an over-estimate).
fn nesting(s: &str) -> usize {
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

/// brush's verdict: `None` when it cannot parse the top level.
fn judge(command: &str, env: &NormalizeEnv, deadline: Instant) -> Option<(Facts, ts::SyntaxView)> {
    let mut w = Walker::new(env, deadline);
    let program = w.parse(command)?;
    let _ = w.walk_program(&program, Out::default());
    raw_checks(command, &mut w);
    let read_only = w.all_read_only;
    let limit_hit = w.limit_hit;
    let syntax = std::mem::take(&mut w.syntax);
    let mut f = w.facts;
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
        w.note(format!("a run of {longest} blanks hides part of the command"));
    }
    if w.longest_chain() > PADDING_CHAIN {
        w.facts.padding = true;
        w.note(format!("an `&&`/`||` chain of {} commands", w.longest_chain()));
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
    if bytes.iter().enumerate().any(|(i, b)| *b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
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
                        f.programs.insert(p.rsplit('/').next().unwrap_or(p).to_string());
                    }
                    let shown: Vec<String> = diff.into_iter().take(4).collect();
                    f.notes.push(format!("the two shell parsers disagree on {}", shown.join(", ")));
                }
            }
            f
        }
        Judged::Done(None) => match second {
            Some(tv) if !tv.has_error => {
                let programs: Vec<String> = tv.syntax.programs.iter().cloned().collect();
                let plain = tv.plain && !programs.is_empty() && programs.iter().all(|p| programs::plain_read_only(p));
                let mut f = Facts {
                    parser_disagreement: true,
                    unparseable: !plain,
                    read_only: plain,
                    programs: programs.into_iter().collect(),
                    ..Facts::default()
                };
                f.notes.push("only the second shell parser accepts this command".into());
                f
            }
            _ => limited("the command does not parse as shell".into()),
        },
        Judged::Failed(why) => limited(why.to_string()),
    }
}
