import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { singleRowLayout } from "../../src/venues/layout.js";
import {
  checkVenueReferences,
  concertVenuesSchema,
  labelOf,
  layoutOf,
  priceIssue,
  resolveVenue,
  seatFacts,
  type Venue,
  venueRefSchema,
  venueSchema,
} from "../../src/venues/venue.js";
import { arbitraryVenue } from "../helpers/venues.js";

/** Two sections: Stalls (rows A of 4, B of 5) and Balcony (row A of 3). */
const hall = {
  categories: [
    { name: "Premium", price: 120 },
    { name: "Standard", price: 80 },
  ],
  sections: [
    {
      name: "Stalls",
      rows: [
        { name: "A", seats: 4, category: "Premium", accessible: [1, 4] },
        { name: "B", seats: 5, category: "Premium" },
      ],
    },
    { name: "Balcony", rows: [{ name: "A", seats: 3, category: "Standard", accessible: [2] }] },
  ],
};

/** The first issue as the dispatcher shows it: "<path>: <message>". */
function firstIssue(schema: z.ZodType, value: unknown): string {
  const parsed = schema.safeParse(value);
  if (parsed.success) return "valid";
  const issue = parsed.error.issues[0]!;
  return `${issue.path.join(".")}: ${issue.message}`;
}

/** The hall with one change made by `edit` on a deep copy. */
function hallWith(edit: (venue: any) => void): unknown {
  const copy = structuredClone(hall);
  edit(copy);
  return copy;
}

describe("layoutOf and labels on a small hall", () => {
  const layout = layoutOf(venueSchema.parse(hall));

  it("numbers seats 1..N sections → rows → seats", () => {
    expect(layout.seatCount).toBe(12);
    expect(layout.sections).toEqual([
      {
        name: "Stalls",
        rows: [
          { name: "A", first: 1, count: 4 },
          { name: "B", first: 5, count: 5 },
        ],
      },
      { name: "Balcony", rows: [{ name: "A", first: 10, count: 3 }] },
    ]);
    expect([...layout.category]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    expect([...layout.accessible]).toEqual([1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0]);
  });

  it("labels a seat <row>-<k> with k counted within its row", () => {
    expect([1, 4, 5, 9, 10, 12].map((n) => labelOf(layout, n))).toEqual(["A-1", "A-4", "B-1", "B-5", "A-1", "A-3"]);
  });

  it("gives a seat's section, row, label, category, accessibility and price", () => {
    expect(seatFacts(layout, 4)).toEqual({
      section: "Stalls",
      row: "A",
      label: "A-4",
      category: "Premium",
      accessible: true,
      price: 120,
    });
    expect(seatFacts(layout, 11)).toEqual({
      section: "Balcony",
      row: "A",
      label: "A-2",
      category: "Standard",
      accessible: true,
      price: 80,
    });
    expect(seatFacts(layout, 6)?.accessible).toBe(false);
  });

  it("knows no seat outside 1..N", () => {
    for (const n of [0, 13, -1, 1.5]) expect(seatFacts(layout, n)).toBeUndefined();
    expect(() => labelOf(layout, 13)).toThrow(RangeError);
  });

  it("labels the seats of a schedule without a venue by their numbers", () => {
    const single = singleRowLayout(2000, 50);
    expect(labelOf(single, 1)).toBe("1");
    expect(labelOf(single, 2000)).toBe("2000");
    expect(seatFacts(single, 17)).toEqual({
      section: "",
      row: "",
      label: "17",
      category: "standard",
      accessible: false,
      price: 50,
    });
  });

  it("labels a one-row venue with a named row by row and position", () => {
    const one = layoutOf(
      venueSchema.parse({
        categories: [{ name: "c", price: 1 }],
        sections: [{ name: "S", rows: [{ name: "R", seats: 3, category: "c" }] }],
      }),
    );
    expect(labelOf(one, 3)).toBe("R-3");
  });
});

describe("venue validation: each mistake named at its path", () => {
  it("accepts the hall", () => {
    expect(firstIssue(venueSchema, hall)).toBe("valid");
  });

  it.each([
    ["no sections", (v: any) => (v.sections = []), "sections: a venue needs at least one section"],
    [
      "a section without rows",
      (v: any) => (v.sections[1].rows = []),
      "sections.1.rows: a section needs at least one row",
    ],
    [
      "a row of 0 seats",
      (v: any) => (v.sections[0].rows[1].seats = 0),
      "sections.0.rows.1.seats: a row needs at least one seat",
    ],
    ["no categories", (v: any) => (v.categories = []), "categories: a venue needs at least one category"],
    [
      "an unknown category",
      (v: any) => (v.sections[1].rows[0].category = "Gallery"),
      'sections.1.rows.0.category: no category named "Gallery"',
    ],
    [
      "a duplicate category name",
      (v: any) => (v.categories[1].name = " Premium "),
      'categories.1.name: duplicate category name "Premium"',
    ],
    [
      "a duplicate section name",
      (v: any) => (v.sections[1].name = "Stalls"),
      'sections.1.name: duplicate section name "Stalls"',
    ],
    [
      "a duplicate row name within a section",
      (v: any) => (v.sections[0].rows[1].name = "A"),
      'sections.0.rows.1.name: duplicate row in this section name "A"',
    ],
    [
      "an accessible position past the row's end",
      (v: any) => (v.sections[0].rows[0].accessible = [1, 5]),
      "sections.0.rows.0.accessible.1: position 5 is not in this row of 4 seats",
    ],
    [
      "an accessible position 0",
      (v: any) => (v.sections[0].rows[0].accessible = [0]),
      "sections.0.rows.0.accessible.0: position 0 is not in this row of 4 seats",
    ],
    [
      "an accessible position listed twice",
      (v: any) => (v.sections[0].rows[0].accessible = [2, 2]),
      "sections.0.rows.0.accessible.1: position 2 is listed twice",
    ],
    ["an empty name", (v: any) => (v.sections[0].name = "   "), "sections.0.name: must not be empty"],
    [
      "a name over 64 characters",
      (v: any) => (v.categories[0].name = "x".repeat(65)),
      "categories.0.name: must be at most 64 characters",
    ],
    [
      "a name with a control character",
      (v: any) => (v.sections[0].rows[0].name = "A\u0007"),
      "sections.0.rows.0.name: must not contain control characters",
    ],
    ["a negative price", (v: any) => (v.categories[0].price = -1), "categories.0.price: must not be negative"],
    ["a fractional price", (v: any) => (v.categories[0].price = 1.5), "categories.0.price: must be an integer"],
  ])("rejects %s", (_what, edit, message) => {
    expect(firstIssue(venueSchema, hallWith(edit))).toBe(message);
  });

  it("trims names", () => {
    const parsed = venueSchema.parse(hallWith((v) => (v.sections[0].name = "  Stalls ")));
    expect(parsed.sections[0]!.name).toBe("Stalls");
  });

  it("accepts 255 categories and rejects 256", () => {
    const withCategories = (n: number) => ({
      categories: Array.from({ length: n }, (_, i) => ({ name: `c${i}`, price: i })),
      sections: [{ name: "S", rows: [{ name: "R", seats: 1, category: `c${n - 1}` }] }],
    });
    const layout = layoutOf(venueSchema.parse(withCategories(255)));
    expect(layout.category[0]).toBe(254);
    expect(firstIssue(venueSchema, withCategories(256))).toBe("categories: a venue has at most 255 categories");
  });

  /** 4 sections of 25 rows of 1,000 seats, plus `extra` seats in one more row. */
  function stadium(extra: number): unknown {
    const sections = Array.from({ length: 4 }, (_, s) => ({
      name: `S${s}`,
      rows: Array.from({ length: 25 }, (_, r) => ({
        name: `R${r}`,
        seats: 1000,
        category: "c",
        accessible: [1, 1000],
      })),
    }));
    if (extra > 0) sections[3]!.rows.push({ name: "X", seats: extra, category: "c", accessible: [] });
    return { categories: [{ name: "c", price: 10 }], sections };
  }

  it("accepts a venue of 100,000 seats and rejects 100,001", () => {
    const parsed = venueSchema.safeParse(stadium(0));
    expect(parsed.success).toBe(true);
    expect(layoutOf(parsed.data as Venue).seatCount).toBe(100_000);
    expect(firstIssue(venueSchema, stadium(1))).toBe(": a venue has at most 100000 seats (this one has 100001)");
  });

  it("leaves the price bound to the caller: priceIssue names the first price over it", () => {
    const venue = venueSchema.parse(hall);
    expect(priceIssue(venue, 120)).toBeUndefined();
    expect(priceIssue(venue, 100)).toBe("categories.0.price: must be at most 100");
  });
});

describe("a concert's named venues", () => {
  const named = (name: string) => ({ name, ...structuredClone(hall) });
  const concertArgs = z
    .object({ venues: concertVenuesSchema.optional(), schedules: z.array(z.object({ venue: venueRefSchema })) })
    .superRefine(checkVenueReferences);

  it("lets a schedule name one of the concert's venues, or give one inline", () => {
    const args = concertArgs.parse({
      venues: [named("Main hall")],
      schedules: [{ venue: "Main hall" }, { venue: hall }],
    });
    expect(layoutOf(resolveVenue(args.schedules[0]!.venue, args.venues)).seatCount).toBe(12);
    expect(layoutOf(resolveVenue(args.schedules[1]!.venue, args.venues)).seatCount).toBe(12);
  });

  it("rejects a schedule naming a venue the concert does not define", () => {
    expect(firstIssue(concertArgs, { venues: [named("Main hall")], schedules: [{ venue: "Arena" }] })).toBe(
      'schedules.0.venue: no venue named "Arena" in venues',
    );
    expect(firstIssue(concertArgs, { schedules: [{ venue: "Arena" }] })).toBe(
      'schedules.0.venue: no venue named "Arena" in venues',
    );
  });

  it("rejects duplicate venue names", () => {
    expect(firstIssue(concertVenuesSchema, [named("Hall"), named("Hall")])).toBe('1.name: duplicate venue name "Hall"');
  });

  it("checks a named venue like an inline one", () => {
    const bad = named("Hall");
    bad.sections[0]!.rows[0]!.category = "Nope";
    expect(firstIssue(concertVenuesSchema, [bad])).toBe('0.sections.0.rows.0.category: no category named "Nope"');
  });

  it("reports an inline venue's mistake at its own path", () => {
    expect(firstIssue(concertArgs, { schedules: [{ venue: hallWith((v) => (v.sections = [])) }] })).toBe(
      "schedules.0.venue.sections: a venue needs at least one section",
    );
  });
});

describe("layoutOf on random valid venues", () => {
  it("numbers seats contiguously row by row, with the given category and accessible positions", () => {
    fc.assert(
      fc.property(arbitraryVenue, (input) => {
        const venue = venueSchema.parse(input);
        const layout = layoutOf(venue);
        let next = 1;
        venue.sections.forEach((section, s) => {
          section.rows.forEach((row, r) => {
            const laid = layout.sections[s]!.rows[r]!;
            expect(laid).toEqual({ name: row.name, first: next, count: row.seats });
            const categoryIndex = venue.categories.findIndex((c) => c.name === row.category);
            for (let k = 1; k <= row.seats; k++) {
              const seatNo = next + k - 1;
              expect(layout.category[seatNo - 1]).toBe(categoryIndex);
              expect(layout.accessible[seatNo - 1]).toBe((row.accessible ?? []).includes(k) ? 1 : 0);
              expect(seatFacts(layout, seatNo)).toMatchObject({
                section: section.name,
                row: row.name,
                label: `${row.name}-${k}`,
              });
            }
            next += row.seats;
          });
        });
        expect(layout.seatCount).toBe(next - 1);
        expect(layout.category.length).toBe(layout.seatCount);
        expect(layout.accessible.length).toBe(layout.seatCount);
        expect(layout.category.every((c) => c < layout.categories.length)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
