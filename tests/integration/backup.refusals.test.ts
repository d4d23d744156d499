// What `npm run backup` refuses: a malformed command line (exit 2), a DATA_DIR without a
// database, a target that exists (without --force) or has no directory, the live database (exit 1).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openDatabase } from "../../src/store/db.js";
import { runBackup } from "../helpers/backupCommand.js";
import { onlyOn } from "../helpers/onlyOn.js";

const workDir = mkdtempSync(join(tmpdir(), "ticketing-backup-refusals-"));
const dataDir = join(workDir, "data");

beforeAll(() => {
  mkdirSync(dataDir);
  openDatabase(dataDir, "normal").close();
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

onlyOn("sqlite", "npm run backup copies tickets.db").describe("backup refusals", () => {
  it.each([[[]], [["a.db", "b.db"]], [["--overwrite", "a.db"]]])(
    "exits 2 with the usage for arguments %j",
    async (args) => {
      const run = await runBackup(dataDir, args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^usage: npm run backup -- \[--force\] <file>/);
      expect(readdirSync(workDir)).toEqual(["data"]);
    },
  );

  it("exits 1 when DATA_DIR holds no database, and creates nothing there", async () => {
    const empty = join(workDir, "empty");
    mkdirSync(empty);
    const run = await runBackup(empty, [join(workDir, "copy.db")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`no database at ${join(empty, "tickets.db")}: is DATA_DIR the server's data directory?\n`);
    expect(readdirSync(empty)).toEqual([]); // no secrets generated, no empty database
    const missing = join(workDir, "missing");
    expect((await runBackup(missing, [join(workDir, "copy.db")])).code).toBe(1);
    expect(readdirSync(workDir).sort()).toEqual(["data", "empty"]);
    rmSync(empty, { recursive: true });
  });

  it("refuses to replace an existing file unless told --force", async () => {
    const target = join(workDir, "existing.db");
    writeFileSync(target, "keep me");
    const refused = await runBackup(dataDir, [target]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`${target} already exists; pass --force to replace it\n`);
    expect(readFileSync(target, "utf8")).toBe("keep me");

    const forced = await runBackup(dataDir, ["--force", target]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(new RegExp(`^backup: wrote ${target}: \\d+ bytes, \\d+ pages, `));
    expect(statSync(target).mode & 0o777).toBe(0o600);
    const copy = new Database(target, { readonly: true });
    expect(copy.pragma("user_version", { simple: true })).toBeGreaterThan(0);
    copy.close();
    rmSync(target);
  });

  it("exits 1 when the target's directory does not exist", async () => {
    const run = await runBackup(dataDir, [join(workDir, "nowhere", "copy.db")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/nowhere is not a directory/);
  });

  it("never writes over the live database, even with --force", async () => {
    const before = readFileSync(join(dataDir, "tickets.db"));
    const run = await runBackup(dataDir, ["--force", join(dataDir, "..", "data", "tickets.db")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^refusing to write over the live database/);
    expect(readFileSync(join(dataDir, "tickets.db")).equals(before)).toBe(true);
    expect(readdirSync(dataDir).filter((name) => name.includes("partial"))).toEqual([]);
  });
});
