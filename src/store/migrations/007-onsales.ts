// Schema version 7: on-sales. A concert may have one (its opening, its active set, pause, the
// draw's seed and commitment), the drawn order is kept for anyone to check, concerts and
// schedules carry a time zone, and queue tokens belong to a room (0: the site room; otherwise
// the on-sale's concert), with one live token per user per room and, before the opening, a
// place in the draw and the last time the fan was seen.
export const up = `
CREATE TABLE onsales (
  concert_id  INTEGER PRIMARY KEY REFERENCES concerts(id),
  opens_at    INTEGER,
  active_max  INTEGER CHECK (active_max > 0),
  paused      INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
  seed        TEXT,
  commitment  TEXT,
  drawn_at    INTEGER
);

-- The entry ids of the draw in drawn order, 64 hexadecimal characters each, end to end.
CREATE TABLE draws (
  concert_id  INTEGER PRIMARY KEY REFERENCES concerts(id),
  entries     TEXT NOT NULL
);

ALTER TABLE concerts ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE schedules ADD COLUMN time_zone TEXT;

CREATE TABLE queue_tokens_by_room (
  token        TEXT    PRIMARY KEY,
  room         INTEGER NOT NULL,
  user_id      TEXT    NOT NULL,
  seq          INTEGER NOT NULL,
  status       TEXT    NOT NULL CHECK (status IN ('pre', 'waiting', 'active')),
  draw_key     TEXT,
  joined_at    INTEGER NOT NULL,
  last_seen_at INTEGER,
  activated_at INTEGER,
  expires_at   INTEGER,
  UNIQUE (room, user_id)
) WITHOUT ROWID;
INSERT INTO queue_tokens_by_room (token, room, user_id, seq, status, joined_at, activated_at, expires_at)
  SELECT token, 0, user_id, seq, status, joined_at, activated_at, expires_at FROM queue_tokens;
DROP TABLE queue_tokens;
ALTER TABLE queue_tokens_by_room RENAME TO queue_tokens;
`;

/** The same in PostgreSQL, where the draw's order is BYTEA (SQLite keeps the bytes in its TEXT column). */
export const postgres = `
CREATE TABLE onsales (
  concert_id  BIGINT  PRIMARY KEY REFERENCES concerts(id),
  opens_at    BIGINT,
  active_max  INTEGER CHECK (active_max > 0),
  paused      INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
  seed        TEXT,
  commitment  TEXT,
  drawn_at    BIGINT
);

CREATE TABLE draws (
  concert_id  BIGINT  PRIMARY KEY REFERENCES concerts(id),
  entries     BYTEA   NOT NULL
);

ALTER TABLE concerts ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE schedules ADD COLUMN time_zone TEXT;

ALTER TABLE queue_tokens DROP CONSTRAINT queue_tokens_user_id_key;
ALTER TABLE queue_tokens DROP CONSTRAINT queue_tokens_status_check;
ALTER TABLE queue_tokens ADD COLUMN room BIGINT NOT NULL DEFAULT 0;
ALTER TABLE queue_tokens ALTER COLUMN room DROP DEFAULT;
ALTER TABLE queue_tokens ADD COLUMN draw_key TEXT;
ALTER TABLE queue_tokens ADD COLUMN last_seen_at BIGINT;
ALTER TABLE queue_tokens ADD CONSTRAINT queue_tokens_status_check CHECK (status IN ('pre', 'waiting', 'active'));
ALTER TABLE queue_tokens ADD CONSTRAINT queue_tokens_room_user_id_key UNIQUE (room, user_id);
`;
