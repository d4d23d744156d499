// Entry point of `npm run backup -- [--force] <file>`: a consistent copy of the database while the server runs.
import { dataDirFrom } from "./config.js";
import { BackupError, backupDatabase } from "./store/backup.js";

const USAGE = `usage: npm run backup -- [--force] <file>
  Writes a consistent, self-contained copy of $DATA_DIR/tickets.db (DATA_DIR as for the server,
  default ./data) to <file>, mode 0600, while the server keeps running. --force replaces <file>.
  Exit codes: 0 written and checked, 1 not written, 2 bad usage.
  With DATABASE_URL set the state is in PostgreSQL: back it up with pg_dump (docs/postgres.md).`;

function parseArguments(args: string[]): { file: string; force: boolean } | "help" | undefined {
  let force = false;
  const files: string[] = [];
  for (const arg of args) {
    if (arg === "--force" || arg === "-f") force = true;
    else if (arg === "--help" || arg === "-h") return "help";
    else if (arg.startsWith("-")) return undefined;
    else files.push(arg);
  }
  return files.length === 1 ? { file: files[0]!, force } : undefined;
}

async function main(): Promise<number> {
  const args = parseArguments(process.argv.slice(2));
  if (args === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (process.env.DATABASE_URL) {
    process.stderr.write(
      "backup: DATABASE_URL is set, so the state is in PostgreSQL, not in DATA_DIR: back it up with pg_dump " +
        "(docs/postgres.md, Backups)\n",
    );
    return 2;
  }
  try {
    const done = await backupDatabase(dataDirFrom(process.env), args.file, { force: args.force });
    process.stdout.write(
      `backup: wrote ${done.file}: ${done.bytes} bytes, ${done.pages} pages, ${done.source} as of ` +
        `${new Date(done.snapshotAt).toISOString()}, copied in ${done.copySeconds.toFixed(3)} s, ` +
        `integrity ok in ${done.checkSeconds.toFixed(3)} s\n`,
    );
    return 0;
  } catch (error) {
    // SQLite and file-system errors say enough on their own; nothing was written at <file>.
    const reason = error instanceof BackupError ? error.message : `backup failed: ${String(error)}`;
    process.stderr.write(`${reason}\n`);
    return 1;
  }
}

main().then((code) => {
  process.exitCode = code;
});
