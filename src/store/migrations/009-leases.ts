// Schema version 9: the cluster's ownership leases (issue 15, src/cluster/leases.ts). `nodes`
// holds each node's heartbeat and whether it may own concerts; `leases` says which node owns a
// concert (0: the site room, hence no foreign key), under which epoch, and until when (epoch
// milliseconds). A lease row is never deleted: a release only ends it (expires_at 0), so the
// next owner's epoch numbers above every earlier one. lease_now() is the time a lease statement
// decides at (the caller's, or PostgreSQL's clock). fence_leases() is the check each write
// transaction of an owner runs first (see leases.ts for why it locks FOR SHARE); it raises
// SQLSTATE 'LF001' when the node no longer holds every lease it names, so a writer may pipeline
// it ahead of the batch and the whole transaction aborts.

/** One process (SQLite) owns everything and needs no leases: a statement that does nothing. */
export const up = `
SELECT 1;
`;

export const postgres = `
CREATE TABLE nodes (
  id      TEXT    PRIMARY KEY,
  seen_at BIGINT  NOT NULL,
  owns    BOOLEAN NOT NULL
);

CREATE TABLE leases (
  concert_id BIGINT PRIMARY KEY CHECK (concert_id >= 0),
  node_id    TEXT   NOT NULL,
  epoch      BIGINT NOT NULL CHECK (epoch > 0),
  expires_at BIGINT NOT NULL
);

-- The time a lease statement decides at: the caller's, or else PostgreSQL's own (the start of the
-- statement, one clock for every node).
CREATE FUNCTION lease_now(now_ms BIGINT) RETURNS BIGINT LANGUAGE sql STABLE AS $$
  SELECT COALESCE(now_ms, floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint)
$$;

CREATE FUNCTION fence_leases(node TEXT, concerts BIGINT[], epochs BIGINT[], now_ms BIGINT)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  held integer;
BEGIN
  SELECT count(*) INTO held FROM (
    SELECT 1 FROM leases l
      JOIN unnest(concerts, epochs) AS f(concert_id, epoch)
        ON l.concert_id = f.concert_id AND l.epoch = f.epoch
      WHERE l.node_id = node AND l.expires_at > lease_now(now_ms)
      FOR SHARE OF l
  ) AS fenced;
  IF held <> cardinality(concerts) THEN
    RAISE EXCEPTION 'fenced out: node % holds % of the % leases it wrote under', node, held, cardinality(concerts)
      USING ERRCODE = 'LF001';
  END IF;
  RETURN held;
END $$;
`;
