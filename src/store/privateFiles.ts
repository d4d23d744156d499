// The server's files in DATA_DIR are private: created 0600, and tightened to 0600 when found looser.
import { chmodSync, closeSync, openSync, statSync } from "node:fs";

const PRIVATE = 0o600;

/**
 * Creates `file` empty with mode 0600 if it does not exist, or sets an existing one to 0600.
 * Run before SQLite opens the file: SQLite gives a database's -wal and -shm the mode of the
 * database, and closing a descriptor of a file this process has locked would drop its locks.
 */
export function ensurePrivateFile(file: string): void {
  const found = statSync(file, { throwIfNoEntry: false });
  if (found === undefined) closeSync(openSync(file, "a", PRIVATE));
  else makePrivate(file, found.mode);
}

/** Sets `file` to 0600 when it exists with another mode (by path: no descriptor is opened). */
export function tightenIfPresent(file: string): void {
  const found = statSync(file, { throwIfNoEntry: false });
  if (found !== undefined) makePrivate(file, found.mode);
}

function makePrivate(file: string, mode: number): void {
  if ((mode & 0o777) !== PRIVATE) chmodSync(file, PRIVATE);
}
