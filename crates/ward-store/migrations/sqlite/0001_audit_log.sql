-- The audit log: one row per Merkle leaf. `seq` is the leaf index (0-based, contiguous).
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    ts           TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    session_id   TEXT    NOT NULL,
    tool_use_id  TEXT,
    tool_name    TEXT,
    input_hash   TEXT,
    outcome      TEXT,
    commit_sha   TEXT,
    body         BLOB    NOT NULL,
    leaf_hash    BLOB    NOT NULL
);
CREATE INDEX events_session ON events (session_id, tool_name, input_hash);
CREATE INDEX events_tool_use ON events (tool_use_id);
CREATE INDEX events_commit ON events (commit_sha);

-- Files an effect changed, for `ward audit trace <path>`.
CREATE TABLE event_files (
    seq     INTEGER NOT NULL REFERENCES events (seq),
    path    TEXT    NOT NULL,
    sha256  TEXT
);
CREATE INDEX event_files_path ON event_files (path);

-- The right edge of the tree (compact range), so an append costs O(log n).
CREATE TABLE tree_state (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    size      INTEGER NOT NULL,
    frontier  BLOB    NOT NULL
);

-- Signed checkpoints (C2SP signed note), one per tree size.
CREATE TABLE checkpoints (
    size  INTEGER PRIMARY KEY,
    root  BLOB    NOT NULL,
    note  TEXT    NOT NULL
);
