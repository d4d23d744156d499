// Schema version 2: the start-up scan of live reservations uses the unique partial index over
// live seats, so the second partial index (on status) only cost a write per hold, release,
// expiry and sale.
export const up = `
DROP INDEX IF EXISTS reservations_live;
`;

export const postgres = up;
