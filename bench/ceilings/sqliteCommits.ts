// The storage ceiling: single-row commits per second on SQLite WAL at synchronous NORMAL and FULL.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";

export function singleRowCommitsPerSecond(synchronous: "NORMAL" | "FULL", durationMs: number): number {
  const dir = mkdtempSync(join(tmpdir(), "bench-sqlite-"));
  try {
    const db = new Database(join(dir, "ceiling.db"));
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${synchronous}`);
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, user_id TEXT, amount INTEGER, created_at INTEGER)");
    const insert = db.prepare("INSERT INTO t (user_id, amount, created_at) VALUES (?, ?, ?)");
    const commit = db.transaction((i: number) => insert.run(`u${i % 1000}`, i, Date.now()));
    const started = performance.now();
    let commits = 0;
    while (performance.now() - started < durationMs) commit(commits++);
    const rate = commits / ((performance.now() - started) / 1000);
    db.close();
    return rate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
