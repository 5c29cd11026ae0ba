-- Tasks (one unit of delegated work each) and the leases issued inside them: task tokens,
-- released secrets, database roles. Ending a task ends its children and revokes every lease
-- of the tree; retiring or suspending an assistant ends its tasks.
CREATE TABLE tasks (
    id          TEXT    PRIMARY KEY,
    parent      TEXT    REFERENCES tasks (id),
    requester   TEXT    NOT NULL,
    assistant   TEXT    NOT NULL,
    repo        TEXT    NOT NULL,
    env         TEXT,
    scopes      TEXT    NOT NULL DEFAULT '[]',
    actors      TEXT    NOT NULL DEFAULT '[]',
    session_id  TEXT,
    created_ms  BIGINT  NOT NULL,
    expires_ms  BIGINT  NOT NULL,
    ended_ms    BIGINT,
    end_reason  TEXT
);
CREATE INDEX tasks_parent ON tasks (parent) WHERE parent IS NOT NULL;
CREATE INDEX tasks_assistant_live ON tasks (assistant) WHERE ended_ms IS NULL;
CREATE INDEX tasks_session ON tasks (session_id) WHERE session_id IS NOT NULL;

CREATE TABLE leases (
    id             TEXT    PRIMARY KEY,
    task           TEXT    NOT NULL REFERENCES tasks (id),
    parent         TEXT    REFERENCES leases (id),
    kind           TEXT    NOT NULL,
    resource       TEXT    NOT NULL,
    detail         TEXT    NOT NULL DEFAULT '{}',
    issued_ms      BIGINT  NOT NULL,
    expires_ms     BIGINT  NOT NULL,
    revoked_ms     BIGINT,
    revoke_reason  TEXT
);
CREATE INDEX leases_task ON leases (task);
CREATE INDEX leases_live ON leases (expires_ms) WHERE revoked_ms IS NULL;

-- Static secrets, sealed with the key in $WARD_HOME (never stored in the clear).
CREATE TABLE secrets (
    name        TEXT    PRIMARY KEY,
    sealed      TEXT    NOT NULL,
    created_ms  BIGINT  NOT NULL,
    created_by  TEXT    NOT NULL
);
