// Brings a PostgreSQL database's schema up to date from the one list of migrations
// (../migrations/index.ts): each in its own transaction, under a transaction-level advisory lock
// so that two servers starting at once do not both apply it.
import { StartupError } from "../../startupError.js";
import { migrations } from "../migrations/index.js";
import type { Sql } from "./connect.js";

/** The advisory lock key of migrations (any constant; the server's lock is another). */
const MIGRATION_LOCK = 7_215_001;

/** The number of migrations applied to the database (0: a new one). */
export async function schemaVersion(sql: Sql): Promise<number> {
  const [row] = await sql<{ table: string | null }[]>`SELECT to_regclass('schema_version')::text AS "table"`;
  if (row?.table === null || row === undefined) return 0;
  const [version] = await sql<{ version: number }[]>`SELECT version FROM schema_version`;
  return version?.version ?? 0;
}

/** Applies what the database has not had yet; refuses a database with tables of ours and no schema_version. */
export async function migrate(sql: Sql): Promise<number> {
  // Under the lock: a server migrating at the same moment (cluster nodes starting together) has
  // either made both tables or neither, as this transaction sees them.
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    const [tables] = await tx<{ version: string | null; concerts: string | null }[]>`
      SELECT to_regclass('schema_version')::text AS version, to_regclass('concerts')::text AS concerts`;
    if (tables?.version == null && tables?.concerts != null) {
      throw new StartupError(
        "refusing to use this PostgreSQL database: it has a concerts table but no schema_version (not a database this server made)",
        2,
      );
    }
  });
  for (const migration of migrations) {
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
      await tx`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`;
      const [row] = await tx<{ version: number }[]>`SELECT version FROM schema_version`;
      const current = row?.version ?? 0;
      if (migration.version <= current) return;
      await tx.unsafe(migration.postgres);
      if (row === undefined) await tx`INSERT INTO schema_version (version) VALUES (${migration.version})`;
      else await tx`UPDATE schema_version SET version = ${migration.version}`;
    });
  }
  return migrations.length;
}
