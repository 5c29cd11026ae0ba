-- Assistants as identities: who owns each, what it may touch, and its lifecycle.
-- host/os_user/kind tie a registration to what hooks report (kind@host/os_user).
CREATE TABLE assistants (
    id            TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('claude-code', 'codex', 'cursor', 'gemini', 'copilot', 'ci', 'custom')),
    host          TEXT    NOT NULL,
    os_user       TEXT    NOT NULL,
    owner         TEXT,
    purpose       TEXT    NOT NULL DEFAULT '',
    repos         TEXT    NOT NULL DEFAULT '[]',
    envs          TEXT    NOT NULL DEFAULT '[]',
    review_by_ms  INTEGER,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'active', 'suspended', 'retired')),
    created_ms    INTEGER  NOT NULL,
    last_seen_ms  INTEGER,
    rotated_ms    INTEGER,
    status_ms     INTEGER  NOT NULL,
    status_by     TEXT    NOT NULL
);
-- One live registration per name, and per hook identity (a retired one may be registered anew).
CREATE UNIQUE INDEX assistants_live_name ON assistants (name) WHERE status <> 'retired';
CREATE UNIQUE INDEX assistants_live_identity ON assistants (kind, host, os_user)
    WHERE status <> 'retired' AND kind NOT IN ('ci', 'custom');
