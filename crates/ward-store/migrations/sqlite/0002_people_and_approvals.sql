-- Humans: a name, a role (viewer < approver < admin).
CREATE TABLE users (
    name        TEXT    PRIMARY KEY,
    role        TEXT    NOT NULL CHECK (role IN ('viewer', 'approver', 'admin')),
    created_ms  INTEGER NOT NULL,
    disabled    INTEGER NOT NULL DEFAULT 0
);

-- API keys, stored as the SHA-256 of the key (keys are 256-bit random, shown once).
CREATE TABLE api_keys (
    id          TEXT    PRIMARY KEY,
    user_name   TEXT    NOT NULL REFERENCES users (name),
    key_hash    BLOB    NOT NULL UNIQUE,
    created_ms  INTEGER NOT NULL,
    revoked_ms  INTEGER
);

-- Per-assistant bearer tokens for HTTP hooks (Claude Code's `http` hook type).
CREATE TABLE hook_tokens (
    name        TEXT    PRIMARY KEY,
    token_hash  BLOB    NOT NULL UNIQUE,
    created_ms  INTEGER NOT NULL,
    revoked_ms  INTEGER
);

-- Approval requests, bound to the canonical hash of the exact action.
CREATE TABLE approvals (
    id             TEXT    PRIMARY KEY,
    action_hash    TEXT    NOT NULL,
    requester      TEXT    NOT NULL,
    assistant      TEXT    NOT NULL,
    session_id     TEXT    NOT NULL,
    tool_name      TEXT,
    action         TEXT,
    reason         TEXT    NOT NULL,
    policies       TEXT    NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'used')),
    created_ms     INTEGER NOT NULL,
    expires_ms     INTEGER NOT NULL,
    decided_by     TEXT,
    decided_ms     INTEGER,
    note           TEXT,
    used_ms        INTEGER,
    request_event  TEXT
);
CREATE INDEX approvals_action ON approvals (action_hash, state);
CREATE INDEX approvals_state ON approvals (state, created_ms);
