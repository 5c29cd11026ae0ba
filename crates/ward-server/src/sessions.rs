//! A client session is a task: its SessionStart opens one for the (active) assistant in the
//! repository it runs in, every event of the session records it with its actor chain, and its
//! SessionEnd ends it with every lease it holds.

use crate::credentials::Broker;
use crate::tasks::{self, StartTask};
use ward_audit::NoteSigner;
use ward_broker::jwt::TokenKey;
use ward_core::event::TaskRef;
use ward_core::{HookKind, WardError};
use ward_store::conn::ConnRef;
use ward_store::read_err;
use ward_store::registry::{Assistant, Status};
use ward_store::tasks::{State, Task};

/// The name a session's task gives its repository: with allowed-repository globs, the first of
/// the repository's names one of them matches (none: no task); without, its `owner/name` if a
/// remote gives one, else its root path. Outside a repository: the working directory.
pub fn pick_repo(names: &[String], globs: &[String]) -> Option<String> {
    if !globs.is_empty() {
        return names
            .iter()
            .find(|n| globs.iter().any(|g| ward_core::glob::matches(g, n)))
            .cloned();
    }
    names
        .iter()
        .skip(1)
        .find(|n| n.matches('/').count() == 1)
        .or_else(|| names.first())
        .cloned()
}

pub fn task_ref(t: &Task) -> TaskRef {
    TaskRef {
        id: t.id.clone(),
        actors: t.actors.clone(),
    }
}

/// The live task of a session, if one is open.
pub async fn current(c: ConnRef<'_>, session_id: &str) -> Result<Option<Task>, WardError> {
    let t = ward_store::tasks::task_of_session(c, session_id)
        .await
        .map_err(read_err)?;
    Ok(t.filter(|t| t.state(crate::pipeline::now_ms()) == State::Live))
}

/// The task an event of `session` belongs to: a sub-agent's own child task (opened on its first
/// event: the session task's scopes, the actor chain extended by `agent:ID`), else the
/// session's. `keys` (the audit signer and token key) are loaded only to open a child.
pub async fn of_event(
    mut c: ConnRef<'_>,
    session: &str,
    agent: Option<&str>,
    keys: &(dyn Fn() -> Result<(NoteSigner, TokenKey), WardError> + Sync),
) -> Result<Option<Task>, WardError> {
    let Some(agent) = agent.filter(|a| !a.is_empty()) else {
        return current(c, session).await;
    };
    let own = format!("{session}#agent:{agent}");
    if let Some(t) = current(c.reborrow(), &own).await? {
        return Ok(Some(t));
    }
    let Some(parent) = current(c.reborrow(), session).await? else {
        return Ok(None);
    };
    let (signer, key) = keys()?;
    let req = StartTask {
        assistant: parent.assistant.clone(),
        repo: parent.repo.clone(),
        parent: Some(parent.id.clone()),
        agent: Some(agent.to_string()),
        session_id: Some(own),
        ttl_ms: Some(ward_broker::task::MAX_TTL_MS),
        ..StartTask::default()
    };
    Ok(Some(
        tasks::start(c, &signer, &key, &req, &parent.requester)
            .await?
            .task,
    ))
}

/// What a session event does to its task.
pub enum Step {
    /// SessionStart: open one (if the assistant is active and works here).
    Open,
    /// SessionEnd: end it.
    Close,
    /// Anything else: record the open one.
    Record,
}

pub fn step(kind: HookKind) -> Step {
    match kind {
        HookKind::SessionStart => Step::Open,
        HookKind::SessionEnd => Step::Close,
        _ => Step::Record,
    }
}

/// Open a task for a session of `a` in the repository `names` name (`repo_names`, or the
/// working directory), for `requester`, living as long as a task may. An assistant that is not
/// active, or not allowed here, gets none (its calls are gated by the registry anyway). A
/// session that already has a live task (a resume) keeps it.
pub async fn open(
    mut c: ConnRef<'_>,
    signer: &NoteSigner,
    key: &TokenKey,
    a: &Assistant,
    session_id: &str,
    names: &[String],
    requester: &str,
) -> Result<Option<Task>, WardError> {
    if a.status != Status::Active || session_id.is_empty() {
        return Ok(None);
    }
    if let Some(t) = current(c.reborrow(), session_id).await? {
        return Ok(Some(t));
    }
    let Some(repo) = pick_repo(names, &a.repos) else {
        return Ok(None);
    };
    let req = StartTask {
        assistant: a.id.clone(),
        repo,
        ttl_ms: Some(ward_broker::task::MAX_TTL_MS),
        session_id: Some(session_id.to_string()),
        ..StartTask::default()
    };
    Ok(Some(
        tasks::start(c, signer, key, &req, requester).await?.task,
    ))
}

/// End a session's task (and everything under it); the task it ended, if one was open.
pub async fn close(
    mut c: ConnRef<'_>,
    signer: &NoteSigner,
    session_id: &str,
    broker: &Broker,
) -> Result<Option<Task>, WardError> {
    let Some(t) = current(c.reborrow(), session_id).await? else {
        return Ok(None);
    };
    tasks::end(c, signer, &t.id, "session ended", broker).await?;
    Ok(Some(t))
}

/// Record the standing secrets a session's environment holds (names), on the store and on the
/// SessionStart event.
pub async fn saw_env(
    c: ConnRef<'_>,
    event: &mut ward_core::Event,
    a: &Assistant,
    names: &[String],
) -> Result<(), WardError> {
    if names.is_empty() {
        return Ok(());
    }
    ward_store::tasks::saw_env(c, &a.id, names, crate::pipeline::now_ms())
        .await
        .map_err(ward_store::append_err)?;
    event.action = Some(format!(
        "standing secrets in the environment: {}",
        names.join(", ")
    ));
    Ok(())
}

/// Write `export WARD_TASK=ID` where Claude Code asks SessionStart hooks to put variables for
/// the session's shell (`CLAUDE_ENV_FILE`), so credential helpers find the task. The id, not a
/// token: the helpers run as the user who owns `$WARD_HOME` and read the store themselves.
pub fn export_task(env_file: &std::path::Path, task_id: &str) -> Result<(), WardError> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(env_file)
        .map_err(|e| {
            WardError::new(
                ward_core::ErrorCode::Io,
                format!("cannot write `{}`: {e}", env_file.display()),
            )
        })?;
    writeln!(f, "export WARD_TASK={task_id}").map_err(|e| {
        WardError::new(
            ward_core::ErrorCode::Io,
            format!("cannot write `{}`: {e}", env_file.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_names_its_repository_as_the_registration_does() {
        let names: Vec<String> = ["/w/api", "github.com/acme/api", "acme/api"]
            .map(String::from)
            .to_vec();
        assert_eq!(pick_repo(&names, &[]).as_deref(), Some("acme/api"));
        assert_eq!(
            pick_repo(&names, &["github.com/acme/*".into()]).as_deref(),
            Some("github.com/acme/api")
        );
        assert_eq!(pick_repo(&names, &["other/*".into()]), None);
        assert_eq!(
            pick_repo(&["/w/scratch".to_string()], &[]).as_deref(),
            Some("/w/scratch")
        );
    }
}
