// A cluster node's directory (src/cluster/directory.ts): a reload asked for while another is in
// flight must see what was committed before it was asked for, or a new on-sale's room would be
// placed on no node until the catalog changed again.
import { describe, expect, it } from "vitest";
import { Directory } from "../../src/cluster/directory.js";
import type { PostgresReads } from "../../src/store/postgres/reads.js";
import type { ConcertRow, OnSaleRow } from "../../src/store/store.js";

type Catalog = Awaited<ReturnType<PostgresReads["catalog"]>>;

const concert = (id: number): ConcertRow => ({ id, title: `concert ${id}`, timeZone: "UTC" });
const onSale = (concertId: number): OnSaleRow => ({
  concertId,
  opensAt: null,
  activeMax: null,
  paused: false,
  seed: null,
  commitment: null,
  drawnAt: null,
});

/** A catalog in "PostgreSQL" that tests change, and reads that answer only when released, each with the rows of its start. */
function fakeReads() {
  const rows: Catalog = { concerts: [concert(1)], schedules: [], onSales: [] };
  const pending: (() => void)[] = [];
  const reads = {
    catalog: () => {
      const seen = structuredClone(rows);
      return new Promise<Catalog>((done) => pending.push(() => done(seen)));
    },
  } as unknown as PostgresReads;
  return {
    reads,
    commit: (change: (catalog: Catalog) => void) => change(rows),
    /** Answers the oldest read in flight. */
    answer: async () => {
      await new Promise((done) => setImmediate(done));
      pending.shift()?.();
      await new Promise((done) => setImmediate(done));
    },
    inFlight: () => pending.length,
  };
}

describe("cluster directory", () => {
  it("a reload asked for during another one reads again after it, and sees the new on-sale", async () => {
    const db = fakeReads();
    const directory = new Directory(db.reads);
    const first = directory.reload(); // a catalog message: the read starts
    db.commit((catalog) => {
      catalog.concerts.push(concert(2));
      catalog.onSales.push(onSale(2));
    });
    const second = directory.reload(); // the message about concert 2: must not share the first read
    await db.answer();
    await first;
    await db.answer();
    await second;
    expect(directory.rooms()).toEqual([0, 2]);
    expect(db.inFlight()).toBe(0);
  });

  it("callers during one read share the next read", async () => {
    const db = fakeReads();
    const directory = new Directory(db.reads);
    const reloads = [directory.reload(), directory.reload(), directory.reload()];
    db.commit((catalog) => {
      catalog.onSales.push(onSale(1));
    });
    await db.answer();
    await db.answer();
    await Promise.all(reloads);
    expect(directory.rooms()).toEqual([0, 1]);
    expect(db.inFlight()).toBe(0);
  });
});
