"""DDL of a service's event store schema in PostgreSQL.

One schema per service (``roster``, ``contacts``...). The ``append_group`` function does one
or more appends in one round trip: it takes the service's advisory lock (so positions are
gap-free and commit in order), and for each append replays an already applied command (with
the fingerprint its first append recorded), or checks each stream's version, links each event
to its predecessor's hash and inserts (with the command's fingerprint). The lock is held until
the statement's transaction commits.
"""

from __future__ import annotations

CONFLICT_SQLSTATE = "SL409"


def schema_ddl(schema: str) -> str:
    """The statements that create (idempotently) the event store in ``schema``."""
    s = schema
    return f"""
CREATE SCHEMA IF NOT EXISTS {s};

CREATE TABLE IF NOT EXISTS {s}.events (
    position        bigint PRIMARY KEY,
    stream_id       text NOT NULL,
    stream_version  integer NOT NULL,
    event_id        uuid NOT NULL UNIQUE,
    event_type      text NOT NULL,
    schema_version  integer NOT NULL,
    time            timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    actor           text NOT NULL,
    correlation_id  uuid NOT NULL,
    causation_id    uuid,
    command_id      uuid,
    data            jsonb NOT NULL,
    prev_hash       text NOT NULL,
    hash            text NOT NULL,
    UNIQUE (stream_id, stream_version)
);
-- Guarded by the catalog rather than IF NOT EXISTS, which locks the table first: a restarted
-- process must not lock the events of the ones still appending (see migration.py).
DO $$ BEGIN
    IF to_regclass('{s}.events_command_id') IS NULL THEN
        CREATE INDEX events_command_id ON {s}.events (command_id) WHERE command_id IS NOT NULL;
    END IF;
END $$;

CREATE TABLE IF NOT EXISTS {s}.checkpoints (
    name        text PRIMARY KEY,
    position    bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- What each command id's first append was asked for (a digest), to tell a retry from another
-- request under the same id.
CREATE TABLE IF NOT EXISTS {s}.commands (
    command_id   uuid PRIMARY KEY,
    fingerprint  text,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

-- Events are immutable: corrections are new events, never edits.
CREATE OR REPLACE FUNCTION {s}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable: append a correcting event instead';
END $$;
-- Created once (the function they call is replaced above): a trigger statement locks the table.
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = '{s}.events'::regclass
                   AND tgname = 'events_immutable') THEN
        CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE ON {s}.events
            FOR EACH ROW EXECUTE FUNCTION {s}.refuse_change();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = '{s}.events'::regclass
                   AND tgname = 'events_no_truncate') THEN
        CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON {s}.events
            FOR EACH STATEMENT EXECUTE FUNCTION {s}.refuse_change();
    END IF;
END $$;

-- Superseded signatures (earlier versions of this schema).
DROP FUNCTION IF EXISTS {s}.append_group(jsonb);
DROP FUNCTION IF EXISTS {s}.append_group(integer[], integer[], uuid[], text[], uuid[], uuid[],
    text[], integer[], integer[], uuid[], text[], integer[], timestamptz[], jsonb[], text[]);
DROP FUNCTION IF EXISTS {s}.append_events(uuid, text[], integer[], integer[], uuid[], text[],
    integer[], timestamptz[], text, uuid, uuid, jsonb[], text[]);

-- A group of appends (one or more commands) in one call: one round trip, one transaction, one
-- WAL flush. The arrays are flattened: per append (item) its command (id and fingerprint),
-- audit fields and how many streams and events it has; per stream its expected version; per
-- event its stream (1-based, within its append) and columns. Each append keeps its own
-- outcome: its rows, its earlier rows when its command id was already applied (replayed, with
-- the fingerprint recorded then in out_detail, for the caller to compare), or one row naming
-- the version clash. A clash is found before anything of that append is written, so no
-- savepoint is needed; any other error fails the whole call and the caller retries the
-- appends one by one.
CREATE OR REPLACE FUNCTION {s}.append_group(
    p_item_streams integer[],
    p_item_events integer[],
    p_command_ids uuid[],
    p_fingerprints text[],
    p_actors text[],
    p_correlation_ids uuid[],
    p_causation_ids uuid[],
    p_streams text[],
    p_expected integer[],
    p_stream_index integer[],
    p_event_ids uuid[],
    p_types text[],
    p_schema_versions integer[],
    p_times timestamptz[],
    p_data jsonb[],
    p_digests text[]
) RETURNS TABLE (
    out_item integer, out_position bigint, out_stream_version integer, out_prev_hash text,
    out_hash text, out_replayed boolean, out_error text, out_detail text
) LANGUAGE plpgsql AS $$
DECLARE
    v_position bigint;
    v_versions integer[];
    v_heads text[];
    v_version integer;
    v_hash text;
    v_clash text;
    v_idx integer;
    v_s integer := 0;  -- streams of earlier appends
    v_e integer := 0;  -- events of earlier appends
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('sanlian.append.{s}'));
    SELECT coalesce(max(e.position), 0) INTO v_position FROM {s}.events e;

    FOR i IN 1 .. array_length(p_item_streams, 1) LOOP
        IF p_command_ids[i] IS NOT NULL THEN
            RETURN QUERY
                SELECT i - 1, e.position, e.stream_version, e.prev_hash, e.hash, true,
                       NULL::text, c.fingerprint
                FROM {s}.events e LEFT JOIN {s}.commands c ON c.command_id = e.command_id
                WHERE e.command_id = p_command_ids[i] ORDER BY e.position;
        END IF;
        IF p_command_ids[i] IS NULL OR NOT FOUND THEN
            v_versions := '{{}}';
            v_heads := '{{}}';
            v_clash := NULL;
            FOR k IN v_s + 1 .. v_s + p_item_streams[i] LOOP
                SELECT e.stream_version, e.hash INTO v_version, v_hash
                    FROM {s}.events e WHERE e.stream_id = p_streams[k]
                    ORDER BY e.stream_version DESC LIMIT 1;
                v_version := coalesce(v_version, 0);
                IF v_version <> p_expected[k] THEN
                    v_clash := p_streams[k] || E'\\n' || p_expected[k] || E'\\n' || v_version;
                    EXIT;
                END IF;
                v_versions := v_versions || v_version;
                v_heads := v_heads || coalesce(v_hash, repeat('0', 64));
            END LOOP;
            out_item := i - 1;
            IF v_clash IS NOT NULL THEN
                out_position := NULL;
                out_stream_version := NULL;
                out_prev_hash := NULL;
                out_hash := NULL;
                out_replayed := NULL;
                out_error := '{CONFLICT_SQLSTATE}';
                out_detail := v_clash;
                RETURN NEXT;
            ELSE
                out_replayed := false;
                out_error := NULL;
                out_detail := NULL;
                FOR j IN v_e + 1 .. v_e + p_item_events[i] LOOP
                    v_idx := p_stream_index[j];
                    v_version := v_versions[v_idx] + 1;
                    v_hash := encode(sha256(convert_to(v_heads[v_idx] || p_digests[j], 'UTF8')),
                                     'hex');
                    v_position := v_position + 1;
                    INSERT INTO {s}.events (position, stream_id, stream_version, event_id,
                        event_type, schema_version, time, actor, correlation_id, causation_id,
                        command_id, data, prev_hash, hash)
                    VALUES (v_position, p_streams[v_s + v_idx], v_version, p_event_ids[j],
                        p_types[j], p_schema_versions[j], p_times[j], p_actors[i],
                        p_correlation_ids[i], p_causation_ids[i], p_command_ids[i], p_data[j],
                        v_heads[v_idx], v_hash);
                    out_position := v_position;
                    out_stream_version := v_version;
                    out_prev_hash := v_heads[v_idx];
                    out_hash := v_hash;
                    RETURN NEXT;
                    v_versions[v_idx] := v_version;
                    v_heads[v_idx] := v_hash;
                END LOOP;
                IF p_command_ids[i] IS NOT NULL THEN
                    INSERT INTO {s}.commands (command_id, fingerprint)
                    VALUES (p_command_ids[i], p_fingerprints[i]);
                END IF;
            END IF;
        END IF;
        v_s := v_s + p_item_streams[i];
        v_e := v_e + p_item_events[i];
    END LOOP;
END $$;
"""
