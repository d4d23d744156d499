// Loads the demo catalog (data/demo-catalog.json) into an empty database, through the same rows an
// admin's admin.concerts.create makes: its schedules are checked by the op's schemas (a venue
// inline or named in the concert's `venues`). A concert of it may have an on-sale whose opening is
// relative ("opensInSeconds"): it becomes a time when the catalog is loaded, so a fresh
// `npm start` shows the pre-queue, its countdown and the draw.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { newConcertRows, writeConcert } from "../actors/catalog.js";
import { IdSequence } from "../actors/ids.js";
import { newSchedulesOf, scheduleArgs } from "../api/ops/admin.concerts.create.js";
import { checkVenueReferences, concertVenuesSchema } from "../venues/venue.js";
import type { Store } from "./store.js";

const demoCatalog = z.object({
  concerts: z.array(
    z
      .object({
        title: z.string().min(1),
        /** The venue's IANA time zone; UTC when absent. */
        timeZone: z.string().optional(),
        /** An on-sale opening this many seconds after the catalog is loaded (with a draw), or at once (0). */
        onSale: z
          .object({ opensInSeconds: z.number().min(0), activeMax: z.number().int().min(1).optional() })
          .optional(),
        venues: concertVenuesSchema.optional(),
        schedules: z.array(scheduleArgs).min(1),
      })
      .superRefine(checkVenueReferences),
  ),
});

export type DemoCatalog = z.input<typeof demoCatalog>;

/** Returns the number of concerts inserted (0 when the database already has a catalog). */
export async function seedDemoCatalog(store: Store, file: string, now: number): Promise<number> {
  if ((await store.reads.concertCount()) > 0) return 0;
  const parsed = demoCatalog.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`demo catalog: ${issue.path.join(".")}: ${issue.message}`);
  }
  const max = await store.reads.maxIds();
  const ids = { concert: new IdSequence(max.concert), schedule: new IdSequence(max.schedule) };
  await store.writeNow(() => {
    for (const concert of parsed.data.concerts) {
      const { opensInSeconds, activeMax } = concert.onSale ?? { opensInSeconds: 0 };
      const rows = newConcertRows(
        {
          title: concert.title,
          timeZone: knownTimeZone(concert.timeZone ?? "UTC"),
          // The demo's prices are its own, not bounded by this server's CHARGE_MAX.
          schedules: newSchedulesOf(concert.schedules, concert.venues, Number.MAX_SAFE_INTEGER),
          // As an admin create would make it: a future opening gets a secret seed, published only as its commitment.
          ...(concert.onSale
            ? {
                onSale: {
                  ...(opensInSeconds > 0 ? { opensAt: now + opensInSeconds * 1000 } : {}),
                  ...(activeMax !== undefined ? { activeMax } : {}),
                },
              }
            : {}),
        },
        ids,
        now,
      );
      writeConcert(store, rows, now);
    }
  });
  return parsed.data.concerts.length;
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
