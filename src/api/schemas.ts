// Argument schemas shared by several ops.
import { z } from "zod";
import { hasControlCharacter } from "../text.js";

export const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** A seat number of any integer value; whether the seat exists is the schedule's to answer (404). */
export const seatNo = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

/** A string of printable characters (no C0 control or DEL). */
export const printable = (schema: z.ZodString) =>
  schema.refine((text) => !hasControlCharacter(text), "must not contain control characters");

export const idempotencyKey = printable(z.string().min(1).max(128)).optional();

export const noArgs = z.object({});

/** An ISO-8601 date-time given by a client (normalised to UTC by whoever stores it). */
export const isoDateTime = z
  .string()
  .max(64)
  .refine((value) => !Number.isNaN(Date.parse(value)) && /^\d{4}-\d{2}-\d{2}T/.test(value), {
    message: "must be an ISO-8601 date-time",
  });

/** An IANA time zone name this runtime knows (e.g. Asia/Seoul). */
export const timeZone = z
  .string()
  .min(1)
  .max(64)
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat("en", { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, "must be an IANA time zone");

// Result schemas shared by several ops: the bodies the server sends, for the typed client and OpenAPI.
const count = z.number().int().min(0);
const money = z.number().int().min(0);
const instant = z.string().meta({ format: "date-time", description: "ISO-8601 date-time" });

export const queueStatus = z.object({
  token: z.string(),
  concertId: id.nullable().describe("the on-sale's concert; null for the site room"),
  status: z.enum(["pre", "waiting", "active"]).describe("pre: checked in before the opening, until the draw"),
  position: count.nullable().describe("1-based among waiting tokens; 0 once active; null before the opening"),
  waiting: count,
  active: count,
  etaSeconds: count.nullable().describe("an estimate; 0 once active; null before the opening"),
  expiresAt: instant,
  opensAt: instant.nullable().describe("when the room opens; null when it is open (and for the site room)"),
});

export const onSaleStatus = z.object({
  concertId: id,
  title: z.string().describe("the concert's title (so a waiting room can name it before admission)"),
  timeZone: z.string().describe("the venue's IANA time zone, for showing opensAt"),
  state: z.enum(["scheduled", "open", "paused", "soldout"]),
  opensAt: instant.nullable(),
  activeMax: z.number().int().min(1),
  waiting: count,
  active: count,
  availableSeats: count,
  heldSeats: count,
  commitment: z
    .string()
    .nullable()
    .describe("hex(SHA-256(seed)), published from the creation of an on-sale with a draw"),
  seed: z.string().nullable().describe("the draw's seed (64 hex), public from opensAt"),
});

export const seatStatus = z.enum(["available", "held", "sold"]);

const version = count.describe("grows by one per seats push; the base for the pushes that follow");

export const seatsView = z.object({
  scheduleId: id,
  version,
  seats: z.array(
    z.object({
      no: id,
      price: money,
      status: seatStatus,
      // A schedule with a venue: where the seat is (absent without one).
      section: z.string().optional(),
      row: z.string().optional(),
      label: z.string().optional().describe('"<row>-<k>", k the seat\'s 1-based place in its row'),
      category: z.string().optional(),
      accessible: z.boolean().optional(),
    }),
  ),
});

/** A seat map in compact form: the layout is fetched once by its ETag (seats.layout), statuses 2 bits per seat. */
export const compactSeatsView = z.object({
  scheduleId: id,
  version,
  compact: z.literal(true),
  layoutEtag: z.string().describe("the ETag of the layout the statuses are drawn on (seats.layout)"),
  seatCount: count,
  statuses: z
    .string()
    .describe(
      "base64 of the statuses packed 2 bits per seat (0 available, 1 held, 2 sold): seat n at byte (n − 1) >> 2, bits 2·((n − 1) & 3)",
    ),
});

/** seats.list and seats.subscribe: the full map, or with `compact: true` the compact one. */
export const seatsSnapshot = z.union([seatsView, compactSeatsView]);

/** `compact` as a JSON boolean, or over HTTP the query string's "true" / "false". */
export const compactFlag = z
  .union([z.boolean(), z.enum(["true", "false"]).transform((flag) => flag === "true")])
  .optional()
  .describe("true: the compact form (statuses packed, layout by ETag)");

export const reservationView = z.object({
  reservationId: id,
  scheduleId: id,
  seatNo: id,
  price: money,
  status: z.enum(["held", "paid", "expired", "released"]),
  expiresAt: instant,
});

/** A layout document (src/venues/snapshot.ts): what a client needs to draw a schedule's seats. */
export const layoutDocumentSchema = z.object({
  seatCount: count,
  categories: z.array(z.object({ name: z.string(), price: money })),
  sections: z.array(
    z.object({
      name: z.string(),
      rows: z.array(
        z.object({
          name: z.string(),
          first: id.describe("the row's seats are first .. first + count − 1"),
          count: id,
          category: z
            .union([count, z.array(count)])
            .describe("the index of the row's category, or runs [index, length, …] in seat order"),
          accessible: z
            .array(count)
            .optional()
            .describe("runs [position, length, …] of accessible seats, positions 1-based in the row"),
        }),
      ),
    }),
  ),
});

export const balanceView = z.object({ userId: z.string(), balance: money });

export { instant };
