-- MCP tool definitions as first seen (pinned), per server. A later, different definition waits
-- in pending_* until a person accepts it; a definition that looks poisoned is flagged.
CREATE TABLE mcp_pins (
    server              TEXT    NOT NULL,
    tool                TEXT    NOT NULL,
    hash                TEXT    NOT NULL,
    definition          TEXT    NOT NULL,
    state               TEXT    NOT NULL CHECK (state IN ('pinned', 'changed', 'flagged')),
    findings            TEXT    NOT NULL DEFAULT '[]',
    pending_hash        TEXT,
    pending_definition  TEXT,
    first_seen_ms       INTEGER  NOT NULL,
    updated_ms          INTEGER  NOT NULL,
    PRIMARY KEY (server, tool)
);
