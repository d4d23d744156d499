// The opening's sort: the same order as a plain string sort of the draw keys, whatever the keys.
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sortByDrawKey } from "../../machines/drawSort.js";

const plain = (keys: (string | null)[]) =>
  [...keys].sort((a, b) => ((a ?? "") < (b ?? "") ? -1 : (a ?? "") > (b ?? "") ? 1 : 0));
const sortedKeys = (keys: (string | null)[]) =>
  sortByDrawKey(keys.map((drawKey) => ({ drawKey }))).map((e) => e.drawKey);
const hex = (i: number) => createHash("sha256").update(String(i)).digest("hex");

describe("sortByDrawKey", () => {
  it("orders 100,000 HMAC-like keys as a string sort does", () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => hex(i));
    expect(sortedKeys(keys)).toEqual(plain(keys));
  });

  it("orders keys that share their first 13 digits, or more, by the whole key", () => {
    const shared = "0123456789abc";
    const keys = Array.from({ length: 5000 }, (_, i) =>
      i % 10 === 0
        ? `${shared}${randomBytes(8).toString("hex")}`
        : i % 10 === 1
          ? `${shared.slice(0, 9)}${hex(i)}`
          : hex(i),
    );
    keys.push(`${shared}`, `${shared}0`, keys[0]!);
    expect(sortedKeys(keys)).toEqual(plain(keys));
  });

  it("falls back to a string sort for keys that are not lowercase hex (and a missing key sorts first)", () => {
    const keys: (string | null)[] = Array.from({ length: 200 }, (_, i) => hex(i));
    keys.push("c", "a", "B", null, "ABCDEF0123456789");
    expect(sortedKeys(keys)).toEqual(plain(keys));
    expect(sortedKeys(["c", "a", "b"])).toEqual(["a", "b", "c"]);
  });
});
