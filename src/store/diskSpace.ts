// A full disk at start: the server says so and exits, instead of reporting healthy and dying on
// its first write.
import { statfsSync } from "node:fs";
import { StartupError } from "../startupError.js";

/** Bytes an unprivileged writer may still use in `dir`. */
export function freeBytes(dir: string): number {
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
}

export function diskFullError(dataDir: string, minFreeBytes: number): StartupError {
  return new StartupError(
    `the disk is full: ${freeBytes(dataDir)} bytes free in DATA_DIR ${dataDir} (DISK_MIN_FREE_BYTES is ${minFreeBytes}); free some space and start again`,
    1,
  );
}

/** Throws the disk-full StartupError when `dataDir` has less than `minFreeBytes` free. */
export function requireFreeSpace(dataDir: string, minFreeBytes: number): void {
  if (freeBytes(dataDir) < minFreeBytes) throw diskFullError(dataDir, minFreeBytes);
}

/**
 * Whether a start-up storage error means the disk is full. SQLite reports SQLITE_FULL for a write
 * that finds no space, and SQLITE_IOERR_SHMSIZE when it cannot allocate the WAL index (the -shm
 * file) on opening; Node reports ENOSPC for its own files.
 */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_FULL" || code === "SQLITE_IOERR_SHMSIZE" || code === "ENOSPC";
}
