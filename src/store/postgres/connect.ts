// Connections to PostgreSQL (the `postgres` client: it pipelines the statements of a
// transaction, see README "PostgreSQL"). Numbers come back as numbers: ids, epoch milliseconds and
// money are BIGINT columns whose values stay far below 2^53.
import postgres from "postgres";

export type Sql = postgres.Sql;

export interface ConnectOptions {
  /** Connections in this pool. */
  max: number;
  /** Called when a connection of the pool closes (the server went away, say). */
  onclose?: () => void;
  /**
   * PostgreSQL ends this pool's sessions when a transaction stays open and idle this long (a
   * cluster node stuck or cut off mid-transaction must not keep lease rows locked FOR SHARE, and
   * so block every other node's renewals and takeovers, for longer than a lease).
   */
  idleInTransactionMs?: number;
}

export function connect(url: string, { max, onclose, idleInTransactionMs }: ConnectOptions): Sql {
  return postgres(url, {
    max,
    // A connection lives as long as the process: the lock's must, and the others gain nothing by cycling.
    max_lifetime: null,
    idle_timeout: 0,
    connect_timeout: 5,
    // NOTICE messages (e.g. "relation already exists" in migrations) are not the log's business.
    onnotice: () => {},
    ...(onclose ? { onclose } : {}),
    ...(idleInTransactionMs !== undefined
      ? { connection: { idle_in_transaction_session_timeout: Math.max(1, Math.floor(idleInTransactionMs)) } }
      : {}),
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (value: number) => String(value),
        parse: (value: string) => Number(value),
      },
    },
  });
}

/** `?` placeholders (writeStatements.ts) as PostgreSQL's `$1, $2, …`. */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** The URL without its password, for logs and messages. */
export function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(an unparsable URL)";
  }
}
