import fc from "fast-check";
import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import { SEAT_AVAILABLE, SEAT_HELD, SEAT_SOLD } from "../../machines/schedule.js";
import { layoutFromDocument, packedStatuses, unpackStatuses } from "../../src/venues/document.js";
import { singleRowLayout } from "../../src/venues/layout.js";
import { compactSeats, layoutDocument } from "../../src/venues/snapshot.js";
import { layoutOf, venueSchema } from "../../src/venues/venue.js";
import { arbitraryVenue } from "../helpers/venues.js";

// As src/ws/codec.ts encodes a binary frame.
const packr = new Packr({ useRecords: false });

/** 3 categories, 4 sections of 50 rows of 250 seats; the first row of each section accessible every 10th seat. */
function stadium() {
  return layoutOf(
    venueSchema.parse({
      categories: [
        { name: "Floor", price: 150_000 },
        { name: "Lower", price: 99_000 },
        { name: "Upper", price: 55_000 },
      ],
      sections: ["North", "East", "South", "West"].map((name) => ({
        name,
        rows: Array.from({ length: 50 }, (_, r) => ({
          name: `R${r + 1}`,
          seats: 250,
          category: r < 10 ? "Floor" : r < 30 ? "Lower" : "Upper",
          ...(r === 0 ? { accessible: Array.from({ length: 25 }, (_, k) => 10 * k + 1) } : {}),
        })),
      })),
    }),
  );
}

/** Statuses as after a busy sale: random, seeded. */
function randomStatuses(count: number, seed: number): Uint8Array {
  let state = seed >>> 0;
  const seats = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    seats[i] = (state >>> 16) % 3;
  }
  return seats;
}

describe("the compact seat-map snapshot of a 50,000-seat venue", () => {
  const layout = stadium();

  it("sends the statuses in under 100 KB of MessagePack", () => {
    expect(layout.seatCount).toBe(50_000);
    const bytes = packr.pack(compactSeats(7, 123, layout, randomStatuses(50_000, 1))).length;
    console.info(`compact statuses of 50,000 seats: ${bytes} bytes of MessagePack`);
    expect(bytes).toBeLessThan(100 * 1024);
    expect(bytes).toBeLessThan(13_000); // 2 bits a seat: 12,500 bytes and a small header
  });

  it("sends the layout document in a few kilobytes of MessagePack, with per-row runs", () => {
    const { document } = layoutDocument(layout);
    const bytes = packr.pack(document).length;
    console.info(
      `layout document of 50,000 seats: ${bytes} bytes of MessagePack, ${JSON.stringify(document).length} of JSON`,
    );
    expect(bytes).toBeLessThan(16 * 1024);
    expect(document.sections[0]!.rows[0]).toEqual({
      name: "R1",
      first: 1,
      count: 250,
      category: 0,
      accessible: Array.from({ length: 25 }, (_, k) => [10 * k + 1, 1]).flat(),
    });
    expect(document.sections[3]!.rows[49]).toEqual({ name: "R50", first: 49_751, count: 250, category: 2 });
  });

  it("decodes back to the same statuses through MessagePack", () => {
    const seats = randomStatuses(50_000, 2);
    const decoded = packr.unpack(packr.pack(compactSeats(7, 123, layout, seats)));
    expect(unpackStatuses(new Uint8Array(decoded.statuses), decoded.seatCount)).toEqual(seats);
  });
});

describe("the layout's ETag", () => {
  it("is the same for the same layout built twice, and changes with any drawn fact", () => {
    const a = layoutDocument(stadium()).etag;
    expect(layoutDocument(stadium()).etag).toBe(a);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const priced = stadium();
    priced.categories[1]!.price += 1;
    const flagged = stadium();
    flagged.accessible[4000] = 1;
    const recategorised = stadium();
    recategorised.category[4000] = 0;
    const renamed = stadium();
    renamed.sections[2]!.rows[3]!.name = "X";
    const etags = [priced, flagged, recategorised, renamed].map((l) => layoutDocument(l).etag);
    expect(new Set([a, ...etags]).size).toBe(5);
  });

  it("is what the compact snapshot names", () => {
    const layout = stadium();
    expect(compactSeats(1, 0, layout, new Uint8Array(50_000)).layoutEtag).toBe(layoutDocument(layout).etag);
  });
});

describe("packed statuses", () => {
  it("hold seat n in bits 2·((n − 1) mod 4) of byte ⌊(n − 1) / 4⌋", () => {
    const packed = packedStatuses(Uint8Array.of(SEAT_AVAILABLE, SEAT_HELD, SEAT_SOLD, SEAT_HELD, SEAT_SOLD));
    expect([...packed]).toEqual([0b01_10_01_00, 0b10]);
  });

  it("refuse a status byte 2 bits cannot hold", () => {
    expect(() => packedStatuses(Uint8Array.of(0, 4))).toThrow(RangeError);
  });

  it("refuse to unpack a seat count the bytes do not fit", () => {
    expect(() => unpackStatuses(new Uint8Array(2), 9)).toThrow(RangeError);
    expect(() => unpackStatuses(new Uint8Array(2), 4)).toThrow(RangeError);
  });

  it("round-trip any status array", () => {
    fc.assert(
      fc.property(fc.uint8Array({ min: 0, max: 2, maxLength: 2000 }), (seats) => {
        const packed = packedStatuses(seats);
        expect(packed.length).toBe(Math.ceil(seats.length / 4));
        expect(unpackStatuses(packed, seats.length)).toEqual(seats);
      }),
      { numRuns: 500 },
    );
  });
});

describe("layout documents of random venues", () => {
  it("describe their layout exactly", () => {
    fc.assert(
      fc.property(arbitraryVenue, (input) => {
        const layout = layoutOf(venueSchema.parse(input));
        expect(layoutFromDocument(layoutDocument(layout).document)).toEqual(layout);
      }),
      { numRuns: 200 },
    );
  });

  it("describe a layout with mixed categories within a row by runs", () => {
    const layout = singleRowLayout(6, 10);
    layout.categories.push({ name: "b", price: 20 });
    layout.category.set([0, 0, 1, 1, 1, 0]);
    layout.accessible.set([1, 1, 0, 0, 0, 1]);
    const { document } = layoutDocument(layout);
    expect(document.sections[0]!.rows[0]).toEqual({
      name: "",
      first: 1,
      count: 6,
      category: [0, 2, 1, 3, 0, 1],
      accessible: [1, 2, 6, 1],
    });
    expect(layoutFromDocument(document)).toEqual(layout);
  });
});
