// The writer for DURABILITY=normal: commits each batch on the main thread's own connection.
import type { Db } from "./db.js";
import type { Writer } from "./writer.js";
import { type Committed, WriteStatements, type WriteUnit } from "./writeStatements.js";

/**
 * Commits on the main thread's own connection, inside the turn that formed the batch. The
 * choice for `synchronous=NORMAL`, where a commit appends to the WAL and never waits for the
 * disk: there a thread hop costs more than it saves on a machine with few cores.
 */
export class InlineWriter implements Writer {
  private readonly writes: WriteStatements;

  constructor(db: Db) {
    this.writes = new WriteStatements(db);
  }

  write(units: WriteUnit[]): Promise<Committed> {
    const started = performance.now();
    try {
      const declined = units.length > 0 ? this.writes.apply(units) : [];
      return Promise.resolve({ seconds: (performance.now() - started) / 1000, declined });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
