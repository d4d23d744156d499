// The storage ceiling on PostgreSQL: single-row commits per second, measured like the SQLite one
// (sqliteCommits.ts): one small INSERT per transaction, one after the other, on one connection,
// with the client and settings the server uses (src/store/postgres/connect.ts). Both forms: the
// INSERT alone (autocommit: one round trip, one commit) and BEGIN; INSERT; COMMIT (what a
// transaction function sends: three round trips, one commit).
import { connect } from "../../src/store/postgres/connect.js";

export interface PostgresCommits {
  autocommit: number;
  begin: number;
}

export async function postgresSingleRowCommits(url: string, durationMs: number): Promise<PostgresCommits> {
  const sql = connect(url, { max: 1 });
  try {
    await sql`CREATE TABLE t (id bigserial PRIMARY KEY, user_id text, amount integer, created_at bigint)`;
    const insert = "INSERT INTO t (user_id, amount, created_at) VALUES ($1, $2, $3)";
    const values = (i: number) => [`u${i % 1000}`, i, Date.now()];
    const measure = async (commit: (i: number) => Promise<unknown>) => {
      let commits = 0;
      const warmUntil = performance.now() + 200;
      while (performance.now() < warmUntil) await commit(commits++);
      commits = 0;
      const started = performance.now();
      while (performance.now() - started < durationMs) await commit(commits++);
      return commits / ((performance.now() - started) / 1000);
    };
    const autocommit = await measure((i) => sql.unsafe(insert, values(i), { prepare: true }));
    const begin = await measure((i) => sql.begin((tx) => tx.unsafe(insert, values(i), { prepare: true })));
    return { autocommit, begin };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
