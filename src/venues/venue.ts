// A venue as an admin gives it (API.md "Venues and best available"): its zod schemas with the
// checks a seat layout relies on, the SeatLayout it numbers, and a seat's facts and label.
import { z } from "zod";
import { printable } from "../api/schemas.js";
import type { SeatLayout, Section } from "./layout.js";

/** A schedule holds at most this many seats, with or without a venue. */
export const MAX_VENUE_SEATS = 100_000;
/** Categories are indexed by one byte per seat (SeatLayout.category is a Uint8Array). */
export const MAX_CATEGORIES = 255;
/** A concert's named venues; as many as it may have schedules. */
export const MAX_CONCERT_VENUES = 100;

/** A name of a venue, category, section or row: printable, trimmed, 1..64 characters. */
export const venueName = printable(
  z.string().trim().min(1, "must not be empty").max(64, "must be at most 64 characters"),
);

/**
 * A price: a non-negative integer. Its upper bound is the caller's (CHARGE_MAX is configuration,
 * the schema is static): check a parsed venue with `priceIssue(venue, config.chargeMax)`.
 */
const price = z.number().int("must be an integer").min(0, "must not be negative").max(Number.MAX_SAFE_INTEGER);

const category = z.object({ name: venueName, price });

const row = z.object({
  name: venueName,
  seats: z.number().int("must be an integer").min(1, "a row needs at least one seat").max(MAX_VENUE_SEATS),
  category: venueName,
  /** 1-based positions within the row. */
  accessible: z.array(z.number().int("must be an integer")).max(MAX_VENUE_SEATS).optional(),
});

const section = z.object({
  name: venueName,
  rows: z.array(row).min(1, "a section needs at least one row").max(MAX_VENUE_SEATS),
});

const venueShape = {
  categories: z
    .array(category)
    .min(1, "a venue needs at least one category")
    .max(MAX_CATEGORIES, `a venue has at most ${MAX_CATEGORIES} categories`),
  sections: z.array(section).min(1, "a venue needs at least one section").max(MAX_VENUE_SEATS),
};

type VenueShape = z.output<z.ZodObject<typeof venueShape>>;

/** A venue given inline in a schedule. */
export const venueSchema = z.object(venueShape).superRefine(checkVenue);

/** One of a concert's `venues`, which its schedules name. */
export const namedVenueSchema = z.object({ name: venueName, ...venueShape }).superRefine(checkVenue);

/** A concert's `venues`: names unique. */
export const concertVenuesSchema = z
  .array(namedVenueSchema)
  .min(1, "give at least one venue, or leave venues out")
  .max(MAX_CONCERT_VENUES, `a concert has at most ${MAX_CONCERT_VENUES} venues`)
  .superRefine((venues, ctx) => reportDuplicates(venues, [], ctx, "venue"));

/** A schedule's `venue`: inline, or the name of one of the concert's `venues`. */
export const venueRefSchema = z.union([venueSchema, venueName]);

export type Venue = z.output<typeof venueSchema>;
export type NamedVenue = z.output<typeof namedVenueSchema>;
export type VenueRef = z.output<typeof venueRefSchema>;

function checkVenue(venue: VenueShape, ctx: z.RefinementCtx): void {
  reportDuplicates(venue.categories, ["categories"], ctx, "category");
  reportDuplicates(venue.sections, ["sections"], ctx, "section");
  const categories = new Set(venue.categories.map((c) => c.name));
  let seats = 0;
  venue.sections.forEach((section, s) => {
    reportDuplicates(section.rows, ["sections", s, "rows"], ctx, "row in this section");
    section.rows.forEach((row, r) => {
      const at = ["sections", s, "rows", r];
      seats += row.seats;
      if (!categories.has(row.category)) {
        ctx.addIssue({ code: "custom", path: [...at, "category"], message: `no category named "${row.category}"` });
      }
      checkAccessible(row.accessible ?? [], row.seats, [...at, "accessible"], ctx);
    });
  });
  if (seats > MAX_VENUE_SEATS) {
    ctx.addIssue({
      code: "custom",
      path: [],
      message: `a venue has at most ${MAX_VENUE_SEATS} seats (this one has ${seats})`,
    });
  }
}

function checkAccessible(positions: number[], seats: number, path: PropertyKey[], ctx: z.RefinementCtx): void {
  const seen = new Set<number>();
  positions.forEach((k, i) => {
    if (k < 1 || k > seats) {
      ctx.addIssue({
        code: "custom",
        path: [...path, i],
        message: `position ${k} is not in this row of ${seats} seats`,
      });
    } else if (seen.has(k)) {
      ctx.addIssue({ code: "custom", path: [...path, i], message: `position ${k} is listed twice` });
    }
    seen.add(k);
  });
}

function reportDuplicates(items: { name: string }[], path: PropertyKey[], ctx: z.RefinementCtx, what: string): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.name)) {
      ctx.addIssue({ code: "custom", path: [...path, i, "name"], message: `duplicate ${what} name "${item.name}"` });
    }
    seen.add(item.name);
  });
}

/**
 * For `.superRefine` on a concert's args: every schedule naming a venue names one of `venues`.
 * Issues at `schedules.<i>.venue`.
 */
export function checkVenueReferences(
  args: { venues?: NamedVenue[] | undefined; schedules: { venue?: VenueRef | undefined }[] },
  ctx: z.RefinementCtx,
): void {
  const names = new Set((args.venues ?? []).map((v) => v.name));
  args.schedules.forEach((schedule, i) => {
    if (typeof schedule.venue === "string" && !names.has(schedule.venue)) {
      ctx.addIssue({
        code: "custom",
        path: ["schedules", i, "venue"],
        message: `no venue named "${schedule.venue}" in venues`,
      });
    }
  });
}

/** The venue a parsed, checked schedule refers to. */
export function resolveVenue(ref: VenueRef, venues: readonly NamedVenue[] = []): Venue {
  if (typeof ref !== "string") return ref;
  const found = venues.find((v) => v.name === ref);
  if (found === undefined) throw new Error(`no venue named "${ref}" (checkVenueReferences runs first)`);
  return found;
}

/** `categories.<i>.price: must be at most <max>` for the first price over `priceMax`, else undefined. */
export function priceIssue(venue: Pick<Venue, "categories">, priceMax: number): string | undefined {
  const i = venue.categories.findIndex((c) => c.price > priceMax);
  return i < 0 ? undefined : `categories.${i}.price: must be at most ${priceMax}`;
}

/** Seats numbered 1..N sections → rows → seats, of a venue its schema has accepted. */
export function layoutOf(venue: Venue): SeatLayout {
  const categoryIndex = new Map(venue.categories.map((c, i) => [c.name, i]));
  const seatCount = venue.sections.reduce((n, s) => n + s.rows.reduce((m, r) => m + r.seats, 0), 0);
  const category = new Uint8Array(seatCount);
  const accessible = new Uint8Array(seatCount);
  let first = 1;
  const sections: Section[] = venue.sections.map((section) => ({
    name: section.name,
    rows: section.rows.map((row) => {
      const index = categoryIndex.get(row.category);
      if (index === undefined) throw new Error(`no category named "${row.category}" (the schema checks this)`);
      category.fill(index, first - 1, first - 1 + row.seats);
      for (const k of row.accessible ?? []) accessible[first - 1 + k - 1] = 1;
      const laid = { name: row.name, first, count: row.seats };
      first += row.seats;
      return laid;
    }),
  }));
  return {
    seatCount,
    categories: venue.categories.map((c) => ({ name: c.name, price: c.price })),
    sections,
    category,
    accessible,
  };
}

/** A seat as seats.list shows it with a venue. */
export interface SeatFacts {
  section: string;
  row: string;
  label: string;
  category: string;
  accessible: boolean;
  price: number;
}

export interface PlacedRow {
  section: string;
  name: string;
  first: number;
  count: number;
}

// Rows in seat order, for a binary search from a seat number; a layout is not changed once made.
const rowsByLayout = new WeakMap<SeatLayout, PlacedRow[]>();

function rowsOf(layout: SeatLayout): PlacedRow[] {
  let rows = rowsByLayout.get(layout);
  if (rows === undefined) {
    rows = layout.sections.flatMap((s) => s.rows.map((r) => ({ section: s.name, ...r })));
    rowsByLayout.set(layout, rows);
  }
  return rows;
}

/** The row seat `seatNo` is in (one object per row of a layout), or undefined when there is no such seat. */
export function rowOf(layout: SeatLayout, seatNo: number): PlacedRow | undefined {
  if (!Number.isInteger(seatNo) || seatNo < 1 || seatNo > layout.seatCount) return undefined;
  const rows = rowsOf(layout);
  let low = 0;
  let high = rows.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (rows[mid]!.first <= seatNo) low = mid;
    else high = mid - 1;
  }
  const row = rows[low];
  return row !== undefined && seatNo < row.first + row.count ? row : undefined;
}

/** True for a schedule without a venue: one unnamed row, whose seats are labelled by number. */
export function isUnnamedSingleRow(layout: SeatLayout): boolean {
  const rows = rowsOf(layout);
  return rows.length === 1 && rows[0]!.name === "";
}

/** `"<row>-<k>"` (k 1-based within the row), or the seat number in an unnamed single row. */
export function labelOf(layout: SeatLayout, seatNo: number): string {
  const row = rowOf(layout, seatNo);
  if (row === undefined) throw new RangeError(`no seat ${seatNo} in this layout`);
  if (isUnnamedSingleRow(layout)) return String(seatNo);
  return `${row.name}-${seatNo - row.first + 1}`;
}

/** A seat's section, row, label, category, accessibility and price; undefined when there is no such seat. */
export function seatFacts(layout: SeatLayout, seatNo: number): SeatFacts | undefined {
  const row = rowOf(layout, seatNo);
  if (row === undefined) return undefined;
  const category = layout.categories[layout.category[seatNo - 1]!]!;
  return {
    section: row.section,
    row: row.name,
    label: labelOf(layout, seatNo),
    category: category.name,
    accessible: layout.accessible[seatNo - 1] === 1,
    price: category.price,
  };
}
