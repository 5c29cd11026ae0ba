-- Long-lived secrets seen in an assistant's environment (names only, never values): what its
-- SessionStart hook inherited from the client. `ward report standing` lists them.
CREATE TABLE env_exposure (
    assistant      TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    first_seen_ms  BIGINT  NOT NULL,
    last_seen_ms   BIGINT  NOT NULL,
    PRIMARY KEY (assistant, name)
);
