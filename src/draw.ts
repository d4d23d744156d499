// The verifiable draw of an on-sale (API.md, "On-sales"): a secret seed published only as its
// SHA-256 commitment until the opening, each fan's entry id, and the HMAC that orders the
// pre-queue. Anyone can recompute the order from the published seed and entry ids.
import { createHash, createHmac, randomBytes } from "node:crypto";

/** 32 random bytes as 64 lowercase hexadecimal characters. */
export function newSeed(): string {
  return randomBytes(32).toString("hex");
}

/** hex(SHA-256(seed)), published before the opening. */
export function commitmentOf(seed: string): string {
  return createHash("sha256").update(seed, "ascii").digest("hex");
}

/** hex(SHA-256("<concertId>:<userId>")): a fan's entry in the draw, without naming them. */
export function entryIdOf(concertId: number, userId: string): string {
  return createHash("sha256").update(`${concertId}:${userId}`, "utf8").digest("hex");
}

/**
 * A fan's entry id as the server keeps it until the draw writes it: its 32 bytes as a latin1
 * string (half the memory of hex, and the draw's order is written as those bytes end to end
 * without converting 100,000 hex strings at the opening), and its draw key.
 */
export function drawEntryOf(concertId: number, userId: string, seed: string): { entryBytes: string; drawKey: string } {
  const digest = createHash("sha256").update(`${concertId}:${userId}`, "utf8").digest();
  return { entryBytes: digest.toString("latin1"), drawKey: drawKeyOf(seed, digest.toString("hex")) };
}

/** hex(HMAC-SHA256(key = seed as ASCII, message = entryId as ASCII)): lower goes first. */
export function drawKeyOf(seed: string, entryId: string): string {
  return createHmac("sha256", Buffer.from(seed, "ascii")).update(entryId, "ascii").digest("hex");
}

/** The drawn order of `entryIds` under `seed`, recomputed from published values only. */
export function drawOrder(seed: string, entryIds: readonly string[]): string[] {
  return entryIds
    .map((entryId) => ({ entryId, key: drawKeyOf(seed, entryId) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ entryId }) => entryId);
}
