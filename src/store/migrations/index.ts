// The ordered list of schema migrations; the database's user_version is the number applied.
import * as initial from "./001-initial.js";
import * as oneLiveIndex from "./002-one-index-for-live-seats.js";
import * as noLedgerIndex from "./003-no-ledger-index.js";
import * as meta from "./004-meta.js";
import * as idempotencyByUser from "./005-idempotency-by-user.js";
import * as reservationsByUser from "./006-reservations-by-user.js";
import * as onsales from "./007-onsales.js";

export const migrations: readonly { version: number; up: string }[] = [
  { version: 1, up: initial.up },
  { version: 2, up: oneLiveIndex.up },
  { version: 3, up: noLedgerIndex.up },
  { version: 4, up: meta.up },
  { version: 5, up: idempotencyByUser.up },
  { version: 6, up: reservationsByUser.up },
  { version: 7, up: onsales.up },
];
