"""DDL of a service's event store schema in PostgreSQL.

One schema per service (``roster``, ``contacts``...). The ``append_events`` function does a
whole append in one round trip: it takes the service's advisory lock (so positions are
gap-free and commit in order), replays an already applied command, checks each stream's
version, links each event to its predecessor's hash and inserts. The lock is held until the
statement's transaction commits.
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
CREATE INDEX IF NOT EXISTS events_command_id ON {s}.events (command_id)
    WHERE command_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS {s}.checkpoints (
    name        text PRIMARY KEY,
    position    bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Events are immutable: corrections are new events, never edits.
CREATE OR REPLACE FUNCTION {s}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable: append a correcting event instead';
END $$;
DROP TRIGGER IF EXISTS events_immutable ON {s}.events;
CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE ON {s}.events
    FOR EACH ROW EXECUTE FUNCTION {s}.refuse_change();
DROP TRIGGER IF EXISTS events_no_truncate ON {s}.events;
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON {s}.events
    FOR EACH STATEMENT EXECUTE FUNCTION {s}.refuse_change();

CREATE OR REPLACE FUNCTION {s}.append_events(
    p_command_id uuid,
    p_streams text[],
    p_expected integer[],
    p_stream_index integer[],
    p_event_ids uuid[],
    p_types text[],
    p_schema_versions integer[],
    p_times timestamptz[],
    p_actor text,
    p_correlation_id uuid,
    p_causation_id uuid,
    p_data jsonb[],
    p_digests text[]
) RETURNS TABLE (
    out_position bigint, out_stream_id text, out_stream_version integer,
    out_event_id uuid, out_prev_hash text, out_hash text, out_replayed boolean
) LANGUAGE plpgsql AS $$
DECLARE
    v_position bigint;
    v_versions integer[] := '{{}}';
    v_heads text[] := '{{}}';
    v_version integer;
    v_hash text;
    v_idx integer;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('sanlian.append.{s}'));

    IF p_command_id IS NOT NULL THEN
        RETURN QUERY
            SELECT e.position, e.stream_id, e.stream_version, e.event_id, e.prev_hash, e.hash, true
            FROM {s}.events e WHERE e.command_id = p_command_id ORDER BY e.position;
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;

    FOR i IN 1 .. array_length(p_streams, 1) LOOP
        SELECT e.stream_version, e.hash INTO v_version, v_hash
            FROM {s}.events e WHERE e.stream_id = p_streams[i]
            ORDER BY e.stream_version DESC LIMIT 1;
        v_version := coalesce(v_version, 0);
        IF v_version <> p_expected[i] THEN
            RAISE EXCEPTION 'stream % is at version %, not %',
                    p_streams[i], v_version, p_expected[i]
                USING ERRCODE = '{CONFLICT_SQLSTATE}',
                      DETAIL = p_streams[i] || E'\\n' || p_expected[i] || E'\\n' || v_version;
        END IF;
        v_versions := v_versions || v_version;
        v_heads := v_heads || coalesce(v_hash, repeat('0', 64));
    END LOOP;

    SELECT coalesce(max(e.position), 0) INTO v_position FROM {s}.events e;

    FOR j IN 1 .. array_length(p_event_ids, 1) LOOP
        v_idx := p_stream_index[j];
        v_version := v_versions[v_idx] + 1;
        v_hash := encode(sha256(convert_to(v_heads[v_idx] || p_digests[j], 'UTF8')), 'hex');
        v_position := v_position + 1;
        INSERT INTO {s}.events (position, stream_id, stream_version, event_id, event_type,
                                schema_version, time, actor, correlation_id, causation_id,
                                command_id, data, prev_hash, hash)
        VALUES (v_position, p_streams[v_idx], v_version, p_event_ids[j], p_types[j],
                p_schema_versions[j], p_times[j], p_actor, p_correlation_id, p_causation_id,
                p_command_id, p_data[j], v_heads[v_idx], v_hash);
        out_position := v_position;
        out_stream_id := p_streams[v_idx];
        out_stream_version := v_version;
        out_event_id := p_event_ids[j];
        out_prev_hash := v_heads[v_idx];
        out_hash := v_hash;
        out_replayed := false;
        RETURN NEXT;
        v_versions[v_idx] := v_version;
        v_heads[v_idx] := v_hash;
    END LOOP;
END $$;

-- A group of appends in one call (one round trip, one transaction, one WAL flush), each in
-- its own EXCEPTION block (a server-side savepoint) so each keeps its own outcome: rows tagged
-- with the append's index, or one row with the error it caught. p_group is a JSON array of
-- appends, each holding append_events' arguments.
CREATE OR REPLACE FUNCTION {s}.append_group(p_group jsonb)
RETURNS TABLE (
    out_item integer, out_position bigint, out_stream_id text, out_stream_version integer,
    out_event_id uuid, out_prev_hash text, out_hash text, out_replayed boolean,
    out_error text, out_detail text
) LANGUAGE plpgsql AS $$
DECLARE
    v jsonb;
    v_state text;
    v_message text;
    v_detail text;
BEGIN
    FOR i IN 0 .. jsonb_array_length(p_group) - 1 LOOP
        v := p_group -> i;
        BEGIN
            RETURN QUERY SELECT i, a.*, NULL::text, NULL::text FROM {s}.append_events(
                (v ->> 'command_id')::uuid,
                ARRAY(SELECT x FROM jsonb_array_elements_text(v -> 'streams')
                      WITH ORDINALITY AS t(x, n) ORDER BY n),
                ARRAY(SELECT x::integer FROM jsonb_array_elements_text(v -> 'expected')
                      WITH ORDINALITY AS t(x, n) ORDER BY n),
                ARRAY(SELECT x::integer FROM jsonb_array_elements_text(v -> 'stream_index')
                      WITH ORDINALITY AS t(x, n) ORDER BY n),
                ARRAY(SELECT x::uuid FROM jsonb_array_elements_text(v -> 'event_ids')
                      WITH ORDINALITY AS t(x, n) ORDER BY n),
                ARRAY(SELECT x FROM jsonb_array_elements_text(v -> 'types')
                      WITH ORDINALITY AS t(x, n) ORDER BY n),
                ARRAY(SELECT x::integer FROM jsonb_array_elements_text(v -> 'schema_versions')
                      WITH ORDINALITY AS t(x, n) ORDER BY n),
                ARRAY(SELECT x::timestamptz FROM jsonb_array_elements_text(v -> 'times')
                      WITH ORDINALITY AS t(x, n) ORDER BY n),
                v ->> 'actor',
                (v ->> 'correlation_id')::uuid,
                (v ->> 'causation_id')::uuid,
                ARRAY(SELECT x FROM jsonb_array_elements(v -> 'data')
                      WITH ORDINALITY AS t(x, n) ORDER BY n),
                ARRAY(SELECT x FROM jsonb_array_elements_text(v -> 'digests')
                      WITH ORDINALITY AS t(x, n) ORDER BY n)) a;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                    v_detail = PG_EXCEPTION_DETAIL;
            RETURN QUERY SELECT i, NULL::bigint, NULL::text, NULL::integer, NULL::uuid,
                NULL::text, NULL::text, NULL::boolean, v_state,
                coalesce(nullif(v_detail, ''), v_message);
        END;
    END LOOP;
END $$;
"""
