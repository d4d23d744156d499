// The client's types, derived from the server's own zod schemas (src/api): no second copy.
import type { z } from "zod";
import type { HttpRoute } from "../api/op.js";
import type { ApiOp } from "../api/ops/index.js";
import type { errorBodySchema, queuePush, seatsPush } from "../api/pushSchemas.js";
import type { ErrorCode } from "../errors.js";

type OpsByName = { [O in ApiOp as O["name"]]: O };

export type OpName = keyof OpsByName;
/** What a caller passes (zod input: defaults and optional fields as the server accepts them). */
export type ArgsOf<N extends OpName> = z.input<OpsByName[N]["args"]>;
/** What the server answers: the HTTP success body and the WS reply's `data`. */
export type ResultOf<N extends OpName> = z.output<OpsByName[N]["result"]>;

type RouteOf<N extends OpName> = Exclude<OpsByName[N]["http"], undefined>;
export type HttpOpName = { [N in OpName]: [RouteOf<N>] extends [never] ? never : N }[OpName];
/** Ops a WebSocket session may call (admin ops need the admin token; dev.login needs no session). */
export type WsOpName = Exclude<OpName, "admin.concerts.create" | "admin.onsale.update" | "dev.login">;

export type SeatsPush = z.output<typeof seatsPush>;
export type QueuePush = z.output<typeof queuePush>;
export type ErrorBody = z.output<typeof errorBodySchema>;
export type SeatStatus = SeatsPush["changes"][number]["status"];
/** seats.list / seats.subscribe: the full map, or with `compact: true` the compact one. */
export type SeatsSnapshot = ResultOf<"seats.list">;
export type SeatsView = Extract<SeatsSnapshot, { seats: unknown }>;
export type CompactSeatsView = Extract<SeatsSnapshot, { compact: true }>;
export type QueueStatus = ResultOf<"queue.check">;
export type { ErrorCode };

/**
 * The HTTP twin of each op. Typed as the exact literal routes of the op table, so a route that
 * drifts from src/api/ops fails the type check (and tests/client compares them at run time).
 */
export const httpRoutes: { [N in HttpOpName]: RouteOf<N> & HttpRoute } = {
  "queue.check": { method: "POST", path: "/v1/queue/check", status: 200 },
  "concerts.list": { method: "GET", path: "/v1/concerts", status: 200 },
  "schedules.list": { method: "GET", path: "/v1/concerts/:concertId/schedules", status: 200 },
  "seats.list": { method: "GET", path: "/v1/schedules/:scheduleId/seats", status: 200, query: ["compact"] },
  "seats.layout": {
    method: "GET",
    path: "/v1/schedules/:scheduleId/layout",
    status: 200,
    query: ["etag"],
    cache: "etag",
  },
  "reservations.create": { method: "POST", path: "/v1/reservations", status: 201 },
  "reservations.best": { method: "POST", path: "/v1/reservations/best", status: 201 },
  "reservations.get": { method: "GET", path: "/v1/reservations/:reservationId", status: 200 },
  "reservations.list": { method: "GET", path: "/v1/reservations", status: 200, query: ["status"] },
  "reservations.release": { method: "DELETE", path: "/v1/reservations/:reservationId", status: 200 },
  "payments.create": { method: "POST", path: "/v1/payments", status: 201 },
  "balance.get": { method: "GET", path: "/v1/balance", status: 200 },
  "balance.charge": { method: "POST", path: "/v1/balance/charge", status: 200 },
  "onsales.list": { method: "GET", path: "/v1/onsales", status: 200 },
  "onsale.get": { method: "GET", path: "/v1/concerts/:concertId/onsale", status: 200 },
  "draw.get": { method: "GET", path: "/v1/concerts/:concertId/draw", status: 200 },
  "admin.concerts.create": { method: "POST", path: "/v1/admin/concerts", status: 201 },
  "admin.onsale.update": { method: "PATCH", path: "/v1/admin/concerts/:concertId/onsale", status: 200 },
  "dev.login": { method: "POST", path: "/v1/dev/login", status: 200 },
};
