// The ordered list of schema migrations, one list for both stores: each has its SQLite and its
// PostgreSQL form. SQLite's user_version, PostgreSQL's schema_version table, is the number applied.
import * as initial from "./001-initial.js";
import * as oneLiveIndex from "./002-one-index-for-live-seats.js";
import * as noLedgerIndex from "./003-no-ledger-index.js";
import * as meta from "./004-meta.js";
import * as idempotencyByUser from "./005-idempotency-by-user.js";
import * as reservationsByUser from "./006-reservations-by-user.js";
import * as onsales from "./007-onsales.js";
import * as moneyInTheLedger from "./008-money-in-the-ledger.js";
import * as leases from "./009-leases.js";
import * as idSequences from "./010-id-sequences.js";
import * as venues from "./011-venues.js";

export interface Migration {
  version: number;
  sqlite: string;
  postgres: string;
}

export const migrations: readonly Migration[] = [
  initial,
  oneLiveIndex,
  noLedgerIndex,
  meta,
  idempotencyByUser,
  reservationsByUser,
  onsales,
  moneyInTheLedger,
  leases,
  idSequences,
  venues,
].map((migration, index) => ({ version: index + 1, sqlite: migration.up, postgres: migration.postgres }));
