// Layout documents (seats.layout) cached by their ETag in sessionStorage: a reload, or another date
// in the same hall, asks with the ETag it has and gets `notModified` instead of the document again.
import type { LayoutDocument } from "../client/index.js";
import type { Connection } from "./connection.js";

const STORE_KEY = "tickets.layouts";
/** A stadium's document is tens of kilobytes; a few halls fit easily in the tab's storage. */
const KEEP = 6;

interface Stored {
  /** Most recently used first. */
  documents: { etag: string; layout: LayoutDocument }[];
  /** The ETag each schedule had last time, and the one of each concert's last shown date (a guess for its other dates). */
  bySchedule: Record<number, string>;
  byConcert: Record<number, string>;
}

function load(): Stored {
  try {
    const text = sessionStorage.getItem(STORE_KEY);
    if (text) return JSON.parse(text) as Stored;
  } catch {}
  return { documents: [], bySchedule: {}, byConcert: {} };
}

export class Layouts {
  private stored = load();
  /** How the last layout was had: "cached" when the server answered notModified (tests and curious fans). */
  lastSource: "cached" | "fetched" | undefined;

  constructor(private readonly connection: Connection) {}

  /** `record: false` for a layout fetched aside (to name held seats), which says nothing of the map's source. */
  async get(scheduleId: number, concertId: number | undefined, record = true): Promise<LayoutDocument> {
    const guess =
      this.stored.bySchedule[scheduleId] ?? (concertId === undefined ? undefined : this.stored.byConcert[concertId]);
    const known = guess === undefined ? undefined : this.find(guess);
    const reply = await this.connection.request("seats.layout", {
      scheduleId,
      ...(known ? { etag: guess } : {}),
    });
    let layout: LayoutDocument;
    if ("layout" in reply) {
      layout = reply.layout;
      if (record) this.lastSource = "fetched";
    } else {
      const cached = this.find(reply.etag);
      // notModified names an ETag we sent, so it is cached; a storage cleared meanwhile asks again.
      if (!cached) return this.refetch(scheduleId, concertId, record);
      layout = cached;
      if (record) this.lastSource = "cached";
    }
    this.remember(scheduleId, concertId, reply.etag, layout);
    return layout;
  }

  private async refetch(scheduleId: number, concertId: number | undefined, record: boolean): Promise<LayoutDocument> {
    const reply = await this.connection.request("seats.layout", { scheduleId });
    if (!("layout" in reply)) throw new Error("seats.layout answered notModified without an etag");
    if (record) this.lastSource = "fetched";
    this.remember(scheduleId, concertId, reply.etag, reply.layout);
    return reply.layout;
  }

  private find(etag: string): LayoutDocument | undefined {
    return this.stored.documents.find((d) => d.etag === etag)?.layout;
  }

  private remember(scheduleId: number, concertId: number | undefined, etag: string, layout: LayoutDocument): void {
    const documents = [{ etag, layout }, ...this.stored.documents.filter((d) => d.etag !== etag)].slice(0, KEEP);
    this.stored = {
      documents,
      bySchedule: { ...this.stored.bySchedule, [scheduleId]: etag },
      byConcert: concertId === undefined ? this.stored.byConcert : { ...this.stored.byConcert, [concertId]: etag },
    };
    try {
      sessionStorage.setItem(STORE_KEY, JSON.stringify(this.stored));
    } catch {
      // Storage full or off: the page still works, it only fetches the layout again next time.
    }
  }
}
