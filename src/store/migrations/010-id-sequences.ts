// Schema version 10: the id sequences of a cluster (issue 15). Nodes sharing one PostgreSQL must
// never hand out the same concert, schedule, reservation or payment id, so each kind draws from a
// sequence (src/store/postgres/idBlocks.ts takes blocks of it ahead of need). Each starts just
// above its table's highest id, so a database that already has rows keeps working. They are plain
// INCREMENT BY 1 sequences: the block size is each node's choice, not the schema's.

/** One process (SQLite) hands out ids in memory (src/actors/ids.ts): a statement that does nothing. */
export const up = `
SELECT 1;
`;

// setval(…, max + 1, false): the next nextval returns max + 1 (1 on an empty table, where max + 0
// with is_called would be 0, below the sequence's minimum).
export const postgres = `
CREATE SEQUENCE concert_ids AS BIGINT;
CREATE SEQUENCE schedule_ids AS BIGINT;
CREATE SEQUENCE reservation_ids AS BIGINT;
CREATE SEQUENCE payment_ids AS BIGINT;

SELECT setval('concert_ids', COALESCE((SELECT MAX(id) FROM concerts), 0) + 1, false);
SELECT setval('schedule_ids', COALESCE((SELECT MAX(id) FROM schedules), 0) + 1, false);
SELECT setval('reservation_ids', COALESCE((SELECT MAX(id) FROM reservations), 0) + 1, false);
SELECT setval('payment_ids', COALESCE((SELECT MAX(id) FROM payments), 0) + 1, false);
`;
