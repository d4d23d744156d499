// Copies the live database into one self-contained, checked file with SQLite's online backup API.
import {
  chmodSync,
  closeSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import Database from "better-sqlite3";
import { databasePath } from "./db.js";

/** The backup was not made (nothing to copy, a target in the way, a failed copy or check). */
export class BackupError extends Error {}

export interface BackupResult {
  file: string;
  bytes: number;
  pages: number;
  source: string;
  /** The copy holds every change committed before this moment (ms since the epoch). */
  snapshotAt: number;
  copySeconds: number;
  checkSeconds: number;
}

// One step copies every page inside one read transaction. A WAL reader never blocks the
// server's writer; but with several steps, every commit the server makes in between would
// restart the copy from page 1, so under steady load a stepped backup might never finish.
const ALL_PAGES = 0x7fffffff;

/** Writes a consistent copy of DATA_DIR's database to `target` (mode 0600), then checks it. */
export async function backupDatabase(
  dataDir: string,
  target: string,
  options: { force: boolean },
): Promise<BackupResult> {
  const source = databasePath(dataDir);
  const file = resolve(target);
  if (lstatSync(source, { throwIfNoEntry: false }) === undefined) {
    throw new BackupError(`no database at ${source}: is DATA_DIR the server's data directory?`);
  }
  const directory = dirname(file);
  if (lstatSync(directory, { throwIfNoEntry: false })?.isDirectory() !== true) {
    throw new BackupError(`cannot write ${file}: ${directory} is not a directory`);
  }
  if (isLiveFile(source, file)) throw new BackupError(`refusing to write over the live database (${file})`);
  if (!options.force && lstatSync(file, { throwIfNoEntry: false }) !== undefined) {
    throw new BackupError(`${file} already exists; pass --force to replace it`);
  }

  // Built beside the target under another name, so the target is never a half-written file.
  const partial = join(directory, `.${basename(file)}.${process.pid}.partial`);
  closeSync(openSync(partial, "wx", 0o600));
  chmodSync(partial, 0o600); // the umask may not narrow it; balances are in there
  try {
    const copy = await copyDatabase(source, partial);
    const check = checkCopy(partial);
    publish(partial, file, options.force);
    return { file, source, bytes: statSync(file).size, ...copy, ...check };
  } finally {
    for (const leftover of ["", "-journal", "-wal", "-shm"]) rmSync(partial + leftover, { force: true });
  }
}

async function copyDatabase(source: string, partial: string) {
  // Read-only: the tool can neither write the live database nor checkpoint its WAL.
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    let snapshotAt = Date.now();
    const progress = await db.backup(partial, {
      // Called between better-sqlite3's sizing step and the step that copies: the copy's
      // read transaction begins after this moment, so every earlier commit is in it.
      progress: () => {
        snapshotAt = Date.now();
        return ALL_PAGES;
      },
    });
    return { pages: progress.totalPages, snapshotAt, copySeconds: (Date.now() - snapshotAt) / 1000 };
  } finally {
    db.close();
  }
}

/** Makes the copy stand alone (rollback journal, no -wal) and proves it is whole. */
function checkCopy(partial: string) {
  const started = Date.now();
  const db = new Database(partial, { fileMustExist: true });
  try {
    // The copied header still says WAL; DELETE mode rewrites it, so the file alone is the database.
    const mode = db.pragma("journal_mode = DELETE", { simple: true });
    if (mode !== "delete") throw new BackupError(`the copy stayed in journal mode ${String(mode)}`);
    const verdict = db.pragma("integrity_check", { simple: true });
    if (verdict !== "ok") throw new BackupError(`the copy failed integrity_check: ${String(verdict)}`);
    return { checkSeconds: (Date.now() - started) / 1000 };
  } finally {
    db.close();
  }
}

/** Moves the checked copy to its name (replacing only with --force) and makes the name durable. */
function publish(partial: string, file: string, force: boolean): void {
  if (force) renameSync(partial, file);
  else {
    try {
      linkSync(partial, file); // fails if the name appeared meanwhile, where a rename would replace it
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") {
        throw new BackupError(`${file} already exists; pass --force to replace it`);
      }
      throw error;
    }
  }
  const directory = openSync(dirname(file), "r");
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
}

/** True when `file` names the database or one of its companions, whatever the spelling of its path. */
function isLiveFile(source: string, file: string): boolean {
  const sameDirectory = realpathSync(dirname(source)) === realpathSync(dirname(file));
  const name = basename(file);
  return sameDirectory && ["", "-wal", "-shm", "-journal"].some((suffix) => name === basename(source) + suffix);
}
