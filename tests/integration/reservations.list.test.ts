// GET /v1/reservations and reservations.list over real sockets: the same list on both
// transports, the status filter, and only the caller's own reservations.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { activeToken, createConcert, expectError, http, WsClient } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";

describe("reservations.list", () => {
  let s: TestServer;
  let concertId: number;
  let scheduleId: number;
  beforeAll(async () => {
    s = await startServer();
    const concert = await createConcert(s, [{ startsAt: "2027-01-01T19:00:00.000Z", seatCount: 10, price: 500 }]);
    concertId = concert.id;
    scheduleId = concert.schedules[0]!.id;
  });
  afterAll(async () => {
    await s?.stop();
    s?.cleanup();
  });

  test("over HTTP and WebSocket: newest first, with concertId, filtered by ?status=, another user's never shown", async () => {
    const token = await activeToken(s, "lister");
    // Ids are opaque (a cluster hands them out in blocks): the three holds' own, in order.
    const ids: number[] = [];
    for (const seatNo of [1, 2, 3]) {
      const held = await http(s, "POST", "/v1/reservations", {
        user: "lister",
        queueToken: token,
        body: { scheduleId, seatNo },
      });
      expect(held.status).toBe(201);
      ids.push(held.body.reservationId);
    }
    const [first, second, third] = ids;
    const otherToken = await activeToken(s, "other");
    await http(s, "POST", "/v1/reservations", {
      user: "other",
      queueToken: otherToken,
      body: { scheduleId, seatNo: 7 },
    });
    await http(s, "DELETE", `/v1/reservations/${second}`, { user: "lister" });

    const all = await http(s, "GET", "/v1/reservations", { user: "lister" });
    expect(all.status).toBe(200);
    expect(all.body.reservations.map((r: any) => [r.reservationId, r.status, r.concertId])).toEqual([
      [third, "held", concertId],
      [second, "released", concertId],
      [first, "held", concertId],
    ]);
    const held = await http(s, "GET", "/v1/reservations?status=held", { user: "lister" });
    expect(held.body.reservations.map((r: any) => r.reservationId)).toEqual([third, first]);
    expect((await http(s, "GET", "/v1/reservations?status=paid", { user: "lister" })).body).toEqual({
      reservations: [],
    });
    expectError(await http(s, "GET", "/v1/reservations?status=gone", { user: "lister" }), 400, "INVALID_ARGUMENT");
    expectError(await http(s, "GET", "/v1/reservations"), 401, "UNAUTHENTICATED");

    const ws = await WsClient.connect(s, "lister");
    const reply = await ws.request("reservations.list", { status: "held" });
    expect(reply.data).toEqual(held.body);
    ws.close();
  });
});
