// Runs the built backup command (dist/src/backup.js) as `npm run backup -- <args>` does.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { MAIN } from "./server.js";

export const BACKUP = join(dirname(MAIN), "backup.js");

export interface BackupRun {
  code: number | null;
  stdout: string;
  stderr: string;
  spawnedAt: number;
  exitedAt: number;
}

/** The command with only PATH and DATA_DIR (left out when undefined) in its environment, plus `extraEnv`. */
export function runBackup(
  dataDir: string | undefined,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<BackupRun> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", ...extraEnv };
  if (dataDir !== undefined) env.DATA_DIR = dataDir;
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [BACKUP, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((done) =>
    child.once("close", (code) => done({ code, stdout, stderr, spawnedAt, exitedAt: Date.now() })),
  );
}
