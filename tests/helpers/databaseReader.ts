// Reads a test server's database whichever store it runs on: SQLite's tickets.db (read-only, a WAL
// reader beside a live server or the file a killed one left) or its PostgreSQL database
// (TestServer.databaseUrl, a read-only session). For audits and state counts; write nothing here.
//
// The SQL must be valid in both dialects: `?` placeholders (numbered for PostgreSQL), snake_case or
// double-quoted aliases (PostgreSQL lower-cases bare ones), HAVING on the expression rather than its
// alias, and CAST(SUM(x) AS BIGINT) for sums (SUM of a BIGINT is NUMERIC on PostgreSQL).
import { join } from "node:path";
import Database from "better-sqlite3";
import postgres from "postgres";

export interface DatabaseReader {
  /** Every row of a query; `?` placeholders. Integers come back as numbers on both stores. */
  all<T>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** The first row, or undefined. */
  get<T>(sql: string, ...params: unknown[]): Promise<T | undefined>;
  close(): Promise<void>;
}

export interface DatabaseLocation {
  dataDir: string;
  /** The server's DATABASE_URL: PostgreSQL when set, DATA_DIR/tickets.db otherwise. */
  databaseUrl?: string | undefined;
}

/** `?` placeholders as PostgreSQL's `$1, $2, …` (the audits' SQL has no `?` inside literals). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

// BIGINT and NUMERIC arrive as strings from the client; every value the suites read stays far below 2^53.
const toNumber = (value: string) => Number(value);
export const POSTGRES_NUMBER_TYPES = {
  bigint: { to: 20, from: [20], serialize: (value: number) => String(value), parse: toNumber },
  numeric: { to: 1700, from: [1700], serialize: (value: number) => String(value), parse: toNumber },
};

export function openReader(location: DatabaseLocation): DatabaseReader {
  return location.databaseUrl ? postgresReader(location.databaseUrl) : sqliteReader(location.dataDir);
}

function sqliteReader(dataDir: string): DatabaseReader {
  const db = new Database(join(dataDir, "tickets.db"), { readonly: true, fileMustExist: true });
  const all = async <T>(sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as T[];
  return {
    all,
    get: async <T>(sql: string, ...params: unknown[]) => (db.prepare(sql).get(...params) as T | undefined) ?? undefined,
    close: async () => {
      db.close();
    },
  };
}

function postgresReader(url: string): DatabaseReader {
  const sql = postgres(url, {
    // One connection: the queries of a reader run one after another in one session.
    max: 1,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: "test-reader", default_transaction_read_only: true },
    types: POSTGRES_NUMBER_TYPES,
  });
  const all = async <T>(text: string, ...params: unknown[]) =>
    // A plain array: the client's result carries extra fields (count, command, ...) that JSON would not show.
    [...(await sql.unsafe(numbered(text), params as postgres.ParameterOrJSON<never>[]))] as T[];
  return {
    all,
    get: async <T>(text: string, ...params: unknown[]) => (await all<T>(text, ...params))[0],
    close: () => sql.end({ timeout: 5 }),
  };
}
