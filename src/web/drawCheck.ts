// The draw of an on-sale checked in the browser from published values only (docs/api.md, "On-sales"),
// with Web Crypto: SHA-256(seed) must be the commitment published before the opening, the entries
// must be in ascending HMAC-SHA256(seed, entryId) order, and the fan's own entry id tells their
// place. The same check as `npm run verify-draw` (src/verifyDraw.ts), without trusting this server.

export interface PublishedDraw {
  concertId: number;
  commitment: string | null;
  seed: string | null;
  entries: readonly string[];
}

export interface DrawCheck {
  seed: string;
  commitment: string;
  /** SHA-256(seed) is the commitment. */
  commitmentMatches: boolean;
  /** The first place (1-based) where the published order differs from the recomputed one; null: none. */
  firstMisplaced: number | null;
  total: number;
  /** hex(SHA-256("<concertId>:<userId>")): the fan's entry. */
  entryId: string;
  /** The fan's place in the drawn order (1-based); null when they were not in the draw. */
  place: number | null;
}

/** HMACs computed per batch: 100,000 entries need no 100,000 promises at once. */
const BATCH = 2000;

/** UTF-8 bytes: the server's encoding of "<concertId>:<userId>", and ASCII's for the hex seed and ids. */
const bytes = (text: string) => new TextEncoder().encode(text);

function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Web Crypto's subtle API exists only in secure contexts (https, or http on localhost). */
export function webCryptoAvailable(): boolean {
  return globalThis.crypto?.subtle !== undefined;
}

export async function sha256Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", bytes(text)));
}

/** The fan's entry id: "<concertId>:<userId>" as UTF-8 (TextEncoder's encoding), hashed. */
export function entryIdOf(concertId: number, userId: string): Promise<string> {
  return sha256Hex(`${concertId}:${userId}`);
}

/** Recomputes the draw; `null` before the opening (no seed yet) or for an on-sale that had none. */
export async function checkDraw(draw: PublishedDraw, userId: string): Promise<DrawCheck | null> {
  const { seed, commitment, entries } = draw;
  if (seed === null || commitment === null) return null;
  const key = await crypto.subtle.importKey("raw", bytes(seed), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const keyed: { entryId: string; key: string }[] = [];
  for (let start = 0; start < entries.length; start += BATCH) {
    const batch = entries.slice(start, start + BATCH);
    const macs = await Promise.all(batch.map((entryId) => crypto.subtle.sign("HMAC", key, bytes(entryId))));
    batch.forEach((entryId, index) => {
      keyed.push({ entryId, key: hex(macs[index]!) });
    });
  }
  // Lower HMAC first, compared as hex strings exactly as the server sorts them.
  const order = keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((entry) => entry.entryId);
  const misplaced = order.findIndex((entryId, index) => entries[index] !== entryId);
  const entryId = await entryIdOf(draw.concertId, userId);
  const place = entries.indexOf(entryId);
  return {
    seed,
    commitment,
    commitmentMatches: (await sha256Hex(seed)) === commitment,
    firstMisplaced: misplaced < 0 ? null : misplaced + 1,
    total: entries.length,
    entryId,
    place: place < 0 ? null : place + 1,
  };
}
