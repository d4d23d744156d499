// Schema version 4: a small key-value table of facts about the database itself. Every start
// writes its time here, a real write that finds a full disk before the server says it is healthy.
export const up = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

export const postgres = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;
