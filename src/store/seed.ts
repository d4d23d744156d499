// Loads the demo catalog (data/demo-catalog.json) into an empty database.
import { readFileSync } from "node:fs";
import type { Store } from "./store.js";

export interface DemoCatalog {
  concerts: { title: string; schedules: { startsAt: string; seatCount: number; price: number }[] }[];
}

/** Returns the number of concerts inserted (0 when the database already has a catalog). */
export function seedDemoCatalog(store: Store, file: string, now: number): number {
  if (store.allConcerts().length > 0) return 0;
  const catalog = JSON.parse(readFileSync(file, "utf8")) as DemoCatalog;
  let scheduleId = store.maxIds().schedule;
  store.writeNow(() => {
    catalog.concerts.forEach((concert, index) => {
      const id = index + 1;
      store.insertConcert({ id, title: concert.title, timeZone: "UTC" }, now);
      for (const s of concert.schedules) {
        scheduleId += 1;
        const startsAt = new Date(s.startsAt).toISOString();
        store.insertSchedule({ id: scheduleId, concertId: id, startsAt, seatCount: s.seatCount, price: s.price });
      }
    });
  });
  return catalog.concerts.length;
}
