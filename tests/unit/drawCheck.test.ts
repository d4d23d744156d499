// The page's in-browser draw check (src/web/drawCheck.ts, Web Crypto, which Node has too) agrees
// with the server's draw (src/draw.ts) and catches a seed that is not the committed one, an
// order that is not the seed's, and a fan who was not in the draw. Also non-ASCII user ids.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { commitmentOf, drawOrder, entryIdOf, newSeed } from "../../src/draw.js";
import { checkDraw } from "../../src/web/drawCheck.js";

describe("the page's draw check", () => {
  it("finds every fan's place as the server drew it, and says the draw is the committed seed's", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 1000 }),
        async (users, concertId) => {
          const seed = newSeed();
          const entries = drawOrder(
            seed,
            users.map((user) => entryIdOf(concertId, user)),
          );
          const draw = { concertId, commitment: commitmentOf(seed), seed, entries };
          for (const user of users) {
            const checked = await checkDraw(draw, user);
            expect(checked).toMatchObject({ commitmentMatches: true, firstMisplaced: null, total: users.length });
            expect(checked!.entryId).toBe(entryIdOf(concertId, user));
            expect(checked!.place).toBe(entries.indexOf(entryIdOf(concertId, user)) + 1);
          }
        },
      ),
      { numRuns: 20 },
    );
  });

  it("catches another seed than the committed one, a swapped order, and a fan who lined up after the opening", async () => {
    const seed = newSeed();
    const entries = drawOrder(
      seed,
      ["ann", "ben", "cat", "dan"].map((user) => entryIdOf(9, user)),
    );
    const draw = { concertId: 9, commitment: commitmentOf(seed), seed, entries };
    expect(await checkDraw({ ...draw, commitment: commitmentOf(newSeed()) }, "ann")).toMatchObject({
      commitmentMatches: false,
    });
    const swapped = [entries[1]!, entries[0]!, ...entries.slice(2)];
    expect(await checkDraw({ ...draw, entries: swapped }, "ann")).toMatchObject({ firstMisplaced: 1 });
    expect(await checkDraw(draw, "late")).toMatchObject({ place: null, total: 4, commitmentMatches: true });
    expect(await checkDraw({ ...draw, seed: null }, "ann")).toBeNull();
  });

  it("hashes a user id as UTF-8, as the server does", async () => {
    const seed = newSeed();
    const entries = [entryIdOf(3, "demo:지수"), entryIdOf(3, "demo:zoë")];
    const draw = { concertId: 3, commitment: commitmentOf(seed), seed, entries: drawOrder(seed, entries) };
    for (const user of ["demo:지수", "demo:zoë"]) {
      expect((await checkDraw(draw, user))!.place).toBe(draw.entries.indexOf(entryIdOf(3, user)) + 1);
    }
  });
});
