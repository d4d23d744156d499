// Loads the demo catalog (data/demo-catalog.json) into an empty database. A concert of it may have
// an on-sale whose opening is relative ("opensInSeconds"): it becomes a time when the catalog is
// loaded, so a fresh `npm start` shows the pre-queue, its countdown and the draw.
import { readFileSync } from "node:fs";
import { commitmentOf, newSeed } from "../draw.js";
import type { OnSaleRow, Store } from "./store.js";

export interface DemoCatalog {
  concerts: {
    title: string;
    /** The venue's IANA time zone; UTC when absent. */
    timeZone?: string;
    /** An on-sale opening this many seconds after the catalog is loaded (with a draw), or at once (0). */
    onSale?: { opensInSeconds: number; activeMax?: number };
    schedules: { startsAt: string; seatCount: number; price: number }[];
  }[];
}

/** Returns the number of concerts inserted (0 when the database already has a catalog). */
export async function seedDemoCatalog(store: Store, file: string, now: number): Promise<number> {
  if ((await store.reads.concertCount()) > 0) return 0;
  const catalog = JSON.parse(readFileSync(file, "utf8")) as DemoCatalog;
  let scheduleId = (await store.reads.maxIds()).schedule;
  await store.writeNow(() => {
    catalog.concerts.forEach((concert, index) => {
      const id = index + 1;
      store.insertConcert({ id, title: concert.title, timeZone: knownTimeZone(concert.timeZone ?? "UTC") }, now);
      for (const s of concert.schedules) {
        scheduleId += 1;
        const startsAt = new Date(s.startsAt).toISOString();
        store.insertSchedule({ id: scheduleId, concertId: id, startsAt, seatCount: s.seatCount, price: s.price });
      }
      if (concert.onSale) store.insertOnSale(demoOnSale(id, concert.onSale, now));
    });
  });
  return catalog.concerts.length;
}

/** As an admin create would make it: a future opening gets a secret seed, published only as its commitment. */
function demoOnSale(concertId: number, onSale: { opensInSeconds: number; activeMax?: number }, now: number): OnSaleRow {
  const opensAt = onSale.opensInSeconds > 0 ? now + onSale.opensInSeconds * 1000 : null;
  const seed = opensAt === null ? null : newSeed();
  return {
    concertId,
    opensAt,
    activeMax: onSale.activeMax ?? null,
    paused: false,
    seed,
    commitment: seed === null ? null : commitmentOf(seed),
    drawnAt: null,
  };
}

/** A zone the catalog file misspelt stops the start with its name rather than a page that cannot show it. */
function knownTimeZone(timeZone: string): string {
  try {
    new Intl.DateTimeFormat("en", { timeZone });
  } catch {
    throw new Error(`demo catalog: unknown time zone ${JSON.stringify(timeZone)}`);
  }
  return timeZone;
}
