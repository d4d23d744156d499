// Which file the open database is (st_dev + st_ino, taken when it is opened), so that a database
// deleted or replaced under the running server is noticed: SQLite would go on writing to the
// unlinked file, and every acknowledged change would vanish with the process.
import { statSync } from "node:fs";
import { basename } from "node:path";

export class DatabaseIdentity {
  private constructor(
    private readonly path: string,
    private readonly dev: bigint,
    private readonly ino: bigint,
  ) {}

  /** Remembers the file now at `path` (call right after SQLite opened it). */
  static of(path: string): DatabaseIdentity {
    // BigInt: inode numbers are 64-bit on some filesystems, past what a double holds exactly (same cost).
    const { dev, ino } = statSync(path, { bigint: true });
    return new DatabaseIdentity(path, dev, ino);
  }

  /** Why the file at the path is no longer the open database (file name only: /healthz shows it), or undefined. */
  problem(): string | undefined {
    // One stat: the commit path calls this once per batch.
    const now = statSync(this.path, { bigint: true, throwIfNoEntry: false });
    if (now === undefined) return `the database file ${basename(this.path)} was deleted`;
    if (now.ino !== this.ino || now.dev !== this.dev) {
      return `the database file ${basename(this.path)} was replaced by another file`;
    }
    return undefined;
  }

  /** Throws when the open database is no longer the file at its path: nothing written now would last. */
  assertUnchanged(): void {
    const problem = this.problem();
    if (problem !== undefined) throw new Error(`${problem} (${this.path}) while the server was running`);
  }
}
