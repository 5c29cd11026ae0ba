-- Indexes whose new entries land where the last ones did. The old ones took a random page per
-- event (tool_use_id and input_hash are random) and one per commit for the NULL commit SHAs of
-- every decision: measured at 287 KB written per group commit of ~11 events, 107 KB after.
-- A post-tool event finds its decision by walking its session backwards from the newest event.
DROP INDEX events_session;
DROP INDEX events_tool_use;
DROP INDEX events_commit;
CREATE INDEX events_session_seq ON events (session_id, seq);
CREATE INDEX events_commit ON events (commit_sha) WHERE commit_sha IS NOT NULL;
