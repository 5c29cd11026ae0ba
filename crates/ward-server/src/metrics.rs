//! Prometheus metrics in the text exposition format: decisions by outcome and policy, decision
//! and commit latency histograms, batch sizes, audit lag and spool depth.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds in seconds (the last bucket is +Inf).
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
];
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    sum_micros: AtomicU64,
    total: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            total: AtomicU64::new(0),
        }
    }

    /// Observe `v` (seconds, or a count); `micros` is the value in millionths for the sum.
    fn observe(&self, v: f64) {
        let i = self
            .bounds
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(self.bounds.len());
        if let Some(c) = self.counts.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_micros
            .fetch_add((v * 1e6) as u64, Ordering::Relaxed);
        self.total.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        self.render_series(out, name, "");
    }

    /// The buckets, sum and count; `labels` (`key="value",` each) go before `le`.
    fn render_series(&self, out: &mut String, name: &str, labels: &str) {
        let mut cum = 0u64;
        for (i, b) in self.bounds.iter().enumerate() {
            cum += self.counts[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}le=\"{b}\"}} {cum}");
        }
        cum += self.counts[self.bounds.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}le=\"+Inf\"}} {cum}");
        let plain = labels.trim_end_matches(',');
        let braces = if plain.is_empty() {
            String::new()
        } else {
            format!("{{{plain}}}")
        };
        let _ = writeln!(
            out,
            "{name}_sum{braces} {}",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "{name}_count{braces} {}",
            self.total.load(Ordering::Relaxed)
        );
    }
}

/// The steps of a decision the daemon times apart, so a slow one shows in `/metrics`
/// (`ward_decision_stage_seconds{stage=…}`) instead of only in the whole decision's latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Parse, normalise and the policy's decision (no I/O).
    Decide,
    /// The assistant's registration (a read, or an enrolment when first seen).
    Registry,
    /// Finding the decision a post-tool event follows.
    Link,
    /// The session's task (a read, or opening and closing one).
    Task,
    /// An `ask`: creating or consuming its approval, and any wait for the approver.
    Approval,
    /// Waiting for the event's group commit (queue and commit).
    Record,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Decide,
        Stage::Registry,
        Stage::Link,
        Stage::Task,
        Stage::Approval,
        Stage::Record,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Decide => "decide",
            Stage::Registry => "registry",
            Stage::Link => "link",
            Stage::Task => "task",
            Stage::Approval => "approval",
            Stage::Record => "record",
        }
    }
}

/// The daemon's metrics.
pub struct Metrics {
    decisions: Mutex<BTreeMap<(String, String), u64>>,
    decision_latency: Histogram,
    stage_latency: [Histogram; Stage::ALL.len()],
    commit_latency: Histogram,
    batch_size: Histogram,
    commit_failures: AtomicU64,
    spool_depth: AtomicU64,
    spool_ingested: AtomicU64,
    approvals: Mutex<BTreeMap<String, u64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            decisions: Mutex::new(BTreeMap::new()),
            decision_latency: Histogram::new(LATENCY_BUCKETS),
            stage_latency: Stage::ALL.map(|_| Histogram::new(LATENCY_BUCKETS)),
            commit_latency: Histogram::new(LATENCY_BUCKETS),
            batch_size: Histogram::new(BATCH_BUCKETS),
            commit_failures: AtomicU64::new(0),
            spool_depth: AtomicU64::new(0),
            spool_ingested: AtomicU64::new(0),
            approvals: Mutex::new(BTreeMap::new()),
        }
    }
}

fn bump<K: Ord>(m: &Mutex<BTreeMap<K, u64>>, k: K) {
    if let Ok(mut g) = m.lock() {
        *g.entry(k).or_insert(0) += 1;
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// One decision answered: its outcome, deciding policy (or `default`), end-to-end latency.
    pub fn decision(&self, outcome: &str, policies: &[String], took: Duration) {
        let policy = policies.first().map_or("default", String::as_str);
        bump(&self.decisions, (outcome.to_string(), policy.to_string()));
        self.decision_latency.observe(took.as_secs_f64());
    }

    /// One step of a decision took `took`.
    pub fn stage(&self, stage: Stage, took: Duration) {
        if let Some(h) = self.stage_latency.get(stage as usize) {
            h.observe(took.as_secs_f64());
        }
    }

    /// One group commit of `n` events.
    pub fn commit(&self, n: usize, took: Duration) {
        self.commit_latency.observe(took.as_secs_f64());
        self.batch_size.observe(n as f64);
    }

    pub fn commit_failed(&self) {
        self.commit_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn set_spool_depth(&self, n: u64) {
        self.spool_depth.store(n, Ordering::Relaxed);
    }

    pub fn spool_ingested(&self, n: u64) {
        self.spool_ingested.fetch_add(n, Ordering::Relaxed);
    }

    /// An approval step (`requested`, `approved`, `denied`, `used`).
    pub fn approval(&self, step: &str) {
        bump(&self.approvals, step.to_string());
    }

    /// The exposition text; `audit_lag` is the number of events waiting for a commit.
    pub fn render(&self, audit_lag: usize) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP ward_decisions_total Decisions answered, by outcome and deciding policy.\n# TYPE ward_decisions_total counter\n");
        if let Ok(g) = self.decisions.lock() {
            for ((outcome, policy), n) in g.iter() {
                let _ = writeln!(
                    out,
                    "ward_decisions_total{{outcome=\"{}\",policy=\"{}\"}} {n}",
                    label(outcome),
                    label(policy)
                );
            }
        }
        self.decision_latency.render(
            &mut out,
            "ward_decision_seconds",
            "Time from request to answer, recording included.",
        );
        out.push_str("# HELP ward_decision_stage_seconds Time each step of a decision took (decide: parse and policy; registry; link; task; approval, waiting included; record: waiting for the group commit).\n# TYPE ward_decision_stage_seconds histogram\n");
        for (stage, h) in Stage::ALL.iter().zip(&self.stage_latency) {
            h.render_series(
                &mut out,
                "ward_decision_stage_seconds",
                &format!("stage=\"{}\",", stage.as_str()),
            );
        }
        self.commit_latency.render(
            &mut out,
            "ward_audit_commit_seconds",
            "Time one group commit took (transaction, fsync, checkpoint).",
        );
        self.batch_size.render(
            &mut out,
            "ward_audit_batch_events",
            "Events per group commit.",
        );
        let _ = writeln!(
            out,
            "# HELP ward_audit_lag_events Events waiting for their commit.\n# TYPE ward_audit_lag_events gauge\nward_audit_lag_events {audit_lag}"
        );
        let _ = writeln!(
            out,
            "# HELP ward_audit_commit_failures_total Group commits that failed (their callers were denied).\n# TYPE ward_audit_commit_failures_total counter\nward_audit_commit_failures_total {}",
            self.commit_failures.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP ward_spool_depth Events spooled by offline hooks and not yet ingested.\n# TYPE ward_spool_depth gauge\nward_spool_depth {}",
            self.spool_depth.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP ward_spool_ingested_total Spooled events ingested into the log.\n# TYPE ward_spool_ingested_total counter\nward_spool_ingested_total {}",
            self.spool_ingested.load(Ordering::Relaxed)
        );
        out.push_str(
            "# HELP ward_approvals_total Approval steps.\n# TYPE ward_approvals_total counter\n",
        );
        if let Ok(g) = self.approvals.lock() {
            for (step, n) in g.iter() {
                let _ = writeln!(out, "ward_approvals_total{{step=\"{}\"}} {n}", label(step));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_counts_and_buckets() {
        let m = Metrics::default();
        m.decision(
            "deny",
            &["deny-secret-read".into()],
            Duration::from_micros(300),
        );
        m.decision(
            "deny",
            &["deny-secret-read".into()],
            Duration::from_millis(3),
        );
        m.decision("allow", &[], Duration::from_micros(50));
        m.commit(7, Duration::from_micros(900));
        m.stage(Stage::Registry, Duration::from_millis(30));
        m.stage(Stage::Record, Duration::from_micros(400));
        let text = m.render(3);
        assert!(
            text.contains("ward_decision_stage_seconds_bucket{stage=\"registry\",le=\"0.025\"} 0")
        );
        assert!(
            text.contains("ward_decision_stage_seconds_bucket{stage=\"registry\",le=\"0.05\"} 1")
        );
        assert!(text.contains("ward_decision_stage_seconds_count{stage=\"record\"} 1"));
        assert!(text.contains("ward_decision_stage_seconds_count{stage=\"link\"} 0"));
        assert!(text.contains("ward_decision_seconds_sum "));
        assert!(
            text.contains("ward_decisions_total{outcome=\"deny\",policy=\"deny-secret-read\"} 2")
        );
        assert!(text.contains("ward_decisions_total{outcome=\"allow\",policy=\"default\"} 1"));
        assert!(text.contains("ward_decision_seconds_bucket{le=\"0.0001\"} 1"));
        assert!(text.contains("ward_decision_seconds_bucket{le=\"0.0005\"} 2"));
        assert!(text.contains("ward_decision_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(text.contains("ward_decision_seconds_count 3"));
        assert!(text.contains("ward_audit_batch_events_bucket{le=\"8\"} 1"));
        assert!(text.contains("ward_audit_lag_events 3"));
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
