// dataDirFrom (what the backup tool reads) names the same directory as the server's loadConfig.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { afterAll, expect, it } from "vitest";
import { dataDirFrom, loadConfig } from "../../src/config.js";

const workDir = mkdtempSync(join(tmpdir(), "ticketing-datadir-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
// Given secrets, so that loadConfig generates none.
const secrets = { AUTH_SECRET: "x".repeat(32), ADMIN_TOKEN: "y".repeat(32) };

it.each([
  ["unset", undefined],
  ["blank", ""],
  ["relative", relative(process.cwd(), join(workDir, "relative"))],
  ["absolute", join(workDir, "absolute")],
])("DATA_DIR %s: the backup tool and the server resolve the same directory", (_, value) => {
  const env = value === undefined ? { ...secrets } : { ...secrets, DATA_DIR: value };
  const forTool = dataDirFrom(env);
  expect(forTool).toBe(value ? resolve(value) : resolve("data"));
  expect(loadConfig(env).dataDir).toBe(forTool);
});

it("dataDirFrom creates nothing", () => {
  const dir = join(workDir, "untouched");
  expect(dataDirFrom({ DATA_DIR: dir })).toBe(dir);
  expect(existsSync(dir)).toBe(false);
});
