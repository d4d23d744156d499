// Schema version 1: catalog, reservations, money (ledger), idempotency records, queue tokens.
export const up = `
CREATE TABLE concerts (
  id          INTEGER PRIMARY KEY,
  title       TEXT    NOT NULL,
  created_at  INTEGER NOT NULL
);

CREATE TABLE schedules (
  id          INTEGER PRIMARY KEY,
  concert_id  INTEGER NOT NULL REFERENCES concerts(id),
  starts_at   TEXT    NOT NULL,
  seat_count  INTEGER NOT NULL CHECK (seat_count > 0),
  price       INTEGER NOT NULL CHECK (price >= 0)
);
CREATE INDEX schedules_by_concert ON schedules(concert_id);

-- A seat that is merely available has no row: its state is the absence of a live reservation.
CREATE TABLE reservations (
  id          INTEGER PRIMARY KEY,
  user_id     TEXT    NOT NULL,
  schedule_id INTEGER NOT NULL REFERENCES schedules(id),
  seat_no     INTEGER NOT NULL,
  price       INTEGER NOT NULL,
  status      TEXT    NOT NULL CHECK (status IN ('held', 'paid', 'expired', 'released')),
  expires_at  INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  payment_id  INTEGER
);
-- The database itself refuses a seat held or sold twice.
CREATE UNIQUE INDEX reservations_one_live_per_seat
  ON reservations(schedule_id, seat_no) WHERE status IN ('held', 'paid');
CREATE INDEX reservations_live ON reservations(status) WHERE status IN ('held', 'paid');

CREATE TABLE users (
  id          TEXT    PRIMARY KEY,
  balance     INTEGER NOT NULL CHECK (balance >= 0)
) WITHOUT ROWID;

-- Append-only: every balance equals the sum of its user's rows.
CREATE TABLE ledger (
  id          INTEGER PRIMARY KEY,
  user_id     TEXT    NOT NULL,
  amount      INTEGER NOT NULL,
  kind        TEXT    NOT NULL CHECK (kind IN ('charge', 'payment')),
  payment_id  INTEGER,
  created_at  INTEGER NOT NULL
);
CREATE INDEX ledger_by_user ON ledger(user_id);

CREATE TABLE payments (
  id          INTEGER PRIMARY KEY,
  user_id     TEXT    NOT NULL,
  amount      INTEGER NOT NULL,
  created_at  INTEGER NOT NULL
);

CREATE TABLE idempotency (
  user_id     TEXT    NOT NULL,
  key         TEXT    NOT NULL,
  fingerprint TEXT    NOT NULL,
  status      INTEGER NOT NULL,
  response    TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_by_age ON idempotency(created_at);

CREATE TABLE queue_tokens (
  token        TEXT    PRIMARY KEY,
  user_id      TEXT    NOT NULL UNIQUE,
  seq          INTEGER NOT NULL,
  status       TEXT    NOT NULL CHECK (status IN ('waiting', 'active')),
  joined_at    INTEGER NOT NULL,
  activated_at INTEGER,
  expires_at   INTEGER
) WITHOUT ROWID;
`;
