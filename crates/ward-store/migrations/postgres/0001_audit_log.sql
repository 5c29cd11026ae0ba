-- The audit log: one row per Merkle leaf. `seq` is the leaf index (0-based, contiguous),
-- assigned inside the appending transaction while it holds the tree_state row lock.
CREATE TABLE events (
    seq          BIGINT  PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    ts           TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    session_id   TEXT    NOT NULL,
    tool_use_id  TEXT,
    tool_name    TEXT,
    input_hash   TEXT,
    outcome      TEXT,
    commit_sha   TEXT,
    body         BYTEA   NOT NULL,
    leaf_hash    BYTEA   NOT NULL
);
CREATE INDEX events_session ON events (session_id, tool_name, input_hash);
CREATE INDEX events_tool_use ON events (tool_use_id);
CREATE INDEX events_commit ON events (commit_sha text_pattern_ops);

-- Files an effect changed, for `ward audit trace <path>`.
CREATE TABLE event_files (
    seq     BIGINT  NOT NULL REFERENCES events (seq),
    path    TEXT    NOT NULL,
    sha256  TEXT
);
CREATE INDEX event_files_path ON event_files (path);

-- The right edge of the tree (compact range), so an append costs O(log n). The one row exists
-- from the start so that every appender can lock it (`SELECT … FOR UPDATE`).
CREATE TABLE tree_state (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    size      BIGINT  NOT NULL,
    frontier  BYTEA   NOT NULL
);
INSERT INTO tree_state (id, size, frontier) VALUES (1, 0, '\x0000000000000000');

-- Signed checkpoints (C2SP signed note), one per committed tree size.
CREATE TABLE checkpoints (
    size  BIGINT  PRIMARY KEY,
    root  BYTEA   NOT NULL,
    note  TEXT    NOT NULL
);
