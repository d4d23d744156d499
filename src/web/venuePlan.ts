// What the map draws, read once from a layout document: sections and rows in the organiser's order,
// each seat's row, category and accessibility in packed arrays (a 50,000-seat stadium is a few
// hundred kilobytes), and the words a seat is named by.
import type { LayoutDocument } from "../client/index.js";
import { layoutFromDocument } from "../venues/document.js";

export interface PlanRow {
  index: number;
  section: number;
  name: string;
  first: number;
  count: number;
}

export interface Plan {
  seatCount: number;
  categories: { name: string; price: number }[];
  sections: { name: string; rows: PlanRow[] }[];
  rows: PlanRow[];
  /** A schedule without a venue: one unnamed row, drawn as today's wrapping grid of numbers. */
  single: boolean;
  /** A large schedule without a venue, drawn in lines of a fixed number of seats (rows without names) so that they can be made lazily. */
  lined?: boolean;
  /** Each seat's row index, category index and accessible flag, at seatNo − 1. */
  rowOf: Uint32Array;
  category: Uint8Array;
  accessible: Uint8Array;
  widestRow: number;
}

export function planOf(layout: LayoutDocument): Plan {
  const { category, accessible } = layoutFromDocument(layout);
  const rowOf = new Uint32Array(layout.seatCount);
  const rows: PlanRow[] = [];
  let widestRow = 0;
  const sections = layout.sections.map((section, s) => ({
    name: section.name,
    rows: section.rows.map((row) => {
      const planRow: PlanRow = { index: rows.length, section: s, name: row.name, first: row.first, count: row.count };
      rows.push(planRow);
      widestRow = Math.max(widestRow, row.count);
      const from = row.first - 1;
      rowOf.fill(planRow.index, from, from + row.count);
      return planRow;
    }),
  }));
  const single = sections.length === 1 && sections[0]!.name === "" && rows.length === 1 && rows[0]!.name === "";
  return {
    seatCount: layout.seatCount,
    categories: layout.categories,
    sections,
    rows,
    single,
    rowOf,
    category,
    accessible,
    widestRow,
  };
}

/** A schedule without a venue cut into lines of `perLine` seats: one section, rows without names, seats still named by number. */
export function linedPlan(plan: Plan, perLine: number): Plan {
  const rows: PlanRow[] = [];
  const rowOf = new Uint32Array(plan.seatCount);
  for (let first = 1; first <= plan.seatCount; first += perLine) {
    const count = Math.min(perLine, plan.seatCount - first + 1);
    rowOf.fill(rows.length, first - 1, first - 1 + count);
    rows.push({ index: rows.length, section: 0, name: "", first, count });
  }
  return {
    ...plan,
    sections: [{ name: "", rows }],
    rows,
    rowOf,
    lined: true,
    widestRow: Math.min(perLine, plan.seatCount),
  };
}

/** The seat's position in its row, 1-based: what its button shows. */
export function positionOf(plan: Plan, no: number): number {
  return no - plan.rows[plan.rowOf[no - 1]!]!.first + 1;
}

/** "B-12" as the server labels it (API.md), or the seat number without a venue. */
export function labelOf(plan: Plan, no: number): string {
  if (plan.single) return String(no);
  return `${plan.rows[plan.rowOf[no - 1]!]!.name}-${positionOf(plan, no)}`;
}

/** "seat B-12, Stalls" for messages, or "seat 7" without a venue. */
export function seatName(plan: Plan | undefined, no: number): string {
  if (!plan || plan.single) return `seat ${no}`;
  const section = plan.sections[plan.rows[plan.rowOf[no - 1]!]!.section]!.name;
  return section ? `seat ${labelOf(plan, no)}, ${section}` : `seat ${labelOf(plan, no)}`;
}
