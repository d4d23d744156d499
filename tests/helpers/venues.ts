// Random valid venues for the venue and snapshot property tests.
import fc from "fast-check";

/** A random valid venue: 1..4 categories, 1..4 sections of 1..5 rows of 1..30 seats. */
export const arbitraryVenue = fc
  .integer({ min: 1, max: 4 })
  .chain((categoryCount) =>
    fc.record({
      categories: fc.constant(Array.from({ length: categoryCount }, (_, i) => ({ name: `cat${i}`, price: i * 10 }))),
      sections: fc.array(
        fc.record({
          rows: fc.array(
            fc.integer({ min: 1, max: 30 }).chain((seats) =>
              fc.record({
                seats: fc.constant(seats),
                category: fc.integer({ min: 0, max: categoryCount - 1 }).map((i) => `cat${i}`),
                accessible: fc.uniqueArray(fc.integer({ min: 1, max: seats }), { maxLength: seats }),
              }),
            ),
            { minLength: 1, maxLength: 5 },
          ),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    }),
  )
  .map((v) => ({
    categories: v.categories,
    sections: v.sections.map((s, i) => ({ name: `S${i}`, rows: s.rows.map((r, j) => ({ name: `R${j}`, ...r })) })),
  }));
