// HTTP contract: concerts, schedules, seat maps and the admin endpoint that creates them.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { activeToken, adminHeaders, createConcert, expectError, http, uniqueIds } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";

let counter = 0;
const uid = uniqueIds("u-cat");
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

let s: TestServer;
let reader: string;
let readerToken: string;

beforeAll(async () => {
  s = await startServer();
  reader = uid("reader");
  readerToken = await activeToken(s, reader);
});

afterAll(async () => {
  await s?.stop();
  s?.cleanup();
});

const get = (path: string, user = reader, queueToken = readerToken) => http(s, "GET", path, { user, queueToken });

async function seatMap(scheduleId: number): Promise<{ scheduleId: number; version: number; seats: any[] }> {
  const reply = await get(`/v1/schedules/${scheduleId}/seats`);
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

function statuses(map: { seats: { no: number; status: string }[] }): string[] {
  return [...map.seats].sort((a, b) => a.no - b.no).map((seat) => seat.status);
}

async function scheduleRow(concertId: number, scheduleId: number): Promise<any> {
  const reply = await get(`/v1/concerts/${concertId}/schedules`);
  expect(reply.status, reply.text).toBe(200);
  return reply.body.schedules.find((row: { id: number }) => row.id === scheduleId);
}

describe("POST /v1/admin/concerts", () => {
  test("201 with {id, title, schedules: [{id, startsAt, totalSeats}]}, startsAt normalised with toISOString()", async () => {
    const reply = await http(s, "POST", "/v1/admin/concerts", {
      headers: adminHeaders(s),
      body: {
        title: "Shape concert",
        schedules: [
          { startsAt: "2027-03-01T20:00:00+09:00", seatCount: 7, price: 1500 },
          { startsAt: "2027-03-02T11:30:00.000Z", seatCount: 3, price: 0 },
        ],
      },
    });
    expect(reply.status, reply.text).toBe(201);
    const body = reply.body;
    expect(Number.isInteger(body.id)).toBe(true);
    expect(body.id).toBeGreaterThan(0);
    expect(body.title).toBe("Shape concert");
    expect(body.schedules).toHaveLength(2);
    expect(body.schedules[0]).toMatchObject({ startsAt: "2027-03-01T11:00:00.000Z", totalSeats: 7 });
    expect(body.schedules[1]).toMatchObject({ startsAt: "2027-03-02T11:30:00.000Z", totalSeats: 3 });
    for (const schedule of body.schedules) {
      expect(Number.isInteger(schedule.id)).toBe(true);
      expect(schedule.id).toBeGreaterThan(0);
    }
    expect(body.schedules[0].id).not.toBe(body.schedules[1].id);
  });

  test("two created concerts get distinct ids", async () => {
    const a = await createConcert(s, undefined, "Distinct A");
    const b = await createConcert(s, undefined, "Distinct B");
    expect(a.id).not.toBe(b.id);
    expect(a.schedules[0]!.id).not.toBe(b.schedules[0]!.id);
  });

  test("boundary values are accepted: title of 200 chars, price 0, seatCount 1 and 100000, 100 schedules", async () => {
    const title = "t".repeat(200);
    const reply = await http(s, "POST", "/v1/admin/concerts", {
      headers: adminHeaders(s),
      body: {
        title,
        schedules: [
          { startsAt: "2027-04-01T19:00:00.000Z", seatCount: 1, price: 0 },
          { startsAt: "2027-04-02T19:00:00.000Z", seatCount: 100000, price: 10000000 },
        ],
      },
    });
    expect(reply.status, reply.text).toBe(201);
    expect(reply.body.title).toBe(title);
    expect(reply.body.schedules.map((x: { totalSeats: number }) => x.totalSeats)).toEqual([1, 100000]);

    const many = Array.from({ length: 100 }, (_, i) => ({
      startsAt: new Date(Date.UTC(2027, 5, 1) + i * 86_400_000).toISOString(),
      seatCount: 2,
      price: 100,
    }));
    const reply100 = await http(s, "POST", "/v1/admin/concerts", {
      headers: adminHeaders(s),
      body: { title: "Hundred schedules", schedules: many },
    });
    expect(reply100.status, reply100.text).toBe(201);
    expect(reply100.body.schedules).toHaveLength(100);
  });

  const good = { startsAt: "2027-01-01T19:00:00.000Z", seatCount: 10, price: 1000 };
  const invalid: [string, unknown][] = [
    ["an empty body object", {}],
    ["a missing title", { schedules: [good] }],
    ["an empty title", { title: "", schedules: [good] }],
    ["a title of 201 chars", { title: "t".repeat(201), schedules: [good] }],
    ["a non-string title", { title: 42, schedules: [good] }],
    ["missing schedules", { title: "x" }],
    ["an empty schedules list", { title: "x", schedules: [] }],
    ["101 schedules", { title: "x", schedules: Array.from({ length: 101 }, () => good) }],
    ["schedules not an array", { title: "x", schedules: "soon" }],
    ["a schedule that is not an object", { title: "x", schedules: [5] }],
    ["a missing startsAt", { title: "x", schedules: [{ seatCount: 10, price: 1000 }] }],
    ["an unparsable startsAt", { title: "x", schedules: [{ ...good, startsAt: "next friday" }] }],
    ["a numeric startsAt", { title: "x", schedules: [{ ...good, startsAt: 1798743600000 }] }],
    ["a missing seatCount", { title: "x", schedules: [{ startsAt: good.startsAt, price: 1000 }] }],
    ["seatCount 0", { title: "x", schedules: [{ ...good, seatCount: 0 }] }],
    ["a negative seatCount", { title: "x", schedules: [{ ...good, seatCount: -5 }] }],
    ["a fractional seatCount", { title: "x", schedules: [{ ...good, seatCount: 1.5 }] }],
    ["seatCount 100001", { title: "x", schedules: [{ ...good, seatCount: 100001 }] }],
    ["a string seatCount", { title: "x", schedules: [{ ...good, seatCount: "10" }] }],
    ["a missing price", { title: "x", schedules: [{ startsAt: good.startsAt, seatCount: 10 }] }],
    ["a negative price", { title: "x", schedules: [{ ...good, price: -1 }] }],
    ["a fractional price", { title: "x", schedules: [{ ...good, price: 99.5 }] }],
    ["a string price", { title: "x", schedules: [{ ...good, price: "1000" }] }],
    ["a price over CHARGE_MAX", { title: "x", schedules: [{ ...good, price: 10000001 }] }],
    ["a JSON array body", [good]],
    ["a JSON null body", null],
  ];

  test.each(invalid)("400 INVALID_ARGUMENT for %s", async (_name, body) => {
    const reply = await http(s, "POST", "/v1/admin/concerts", {
      headers: adminHeaders(s),
      rawBody: JSON.stringify(body),
    });
    expectError(reply, 400, "INVALID_ARGUMENT");
  });

  test("400 INVALID_ARGUMENT for malformed JSON", async () => {
    const reply = await http(s, "POST", "/v1/admin/concerts", {
      headers: adminHeaders(s),
      rawBody: '{"title": "x", "schedules": [',
    });
    expectError(reply, 400, "INVALID_ARGUMENT");
  });

  test("a rejected create leaves no concert behind", async () => {
    const title = `invalid-${++counter}`;
    const reply = await http(s, "POST", "/v1/admin/concerts", {
      headers: adminHeaders(s),
      body: { title, schedules: [good, { ...good, seatCount: 0 }] },
    });
    expectError(reply, 400, "INVALID_ARGUMENT");
    const list = await get("/v1/concerts");
    expect(list.status, list.text).toBe(200);
    expect(list.body.concerts.map((c: { title: string }) => c.title)).not.toContain(title);
  });
});

describe("GET /v1/concerts", () => {
  test("200 {concerts: [{id, title}]} listing created concerts", async () => {
    const a = await createConcert(s, undefined, "List A");
    const b = await createConcert(s, undefined, "List B");
    const reply = await get("/v1/concerts");
    expect(reply.status, reply.text).toBe(200);
    expect(Array.isArray(reply.body.concerts)).toBe(true);
    for (const concert of reply.body.concerts) {
      expect(Number.isInteger(concert.id)).toBe(true);
      expect(typeof concert.title).toBe("string");
    }
    expect(reply.body.concerts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: a.id, title: "List A" }),
        expect.objectContaining({ id: b.id, title: "List B" }),
      ]),
    );
  });
});

describe("GET /v1/concerts/:concertId/schedules", () => {
  test("200 {schedules: [{id, concertId, startsAt, totalSeats, availableSeats}]}", async () => {
    const concert = await createConcert(
      s,
      [
        { startsAt: "2027-02-01T19:00:00.000Z", seatCount: 5, price: 1000 },
        { startsAt: "2027-02-02T19:00:00.000Z", seatCount: 8, price: 2000 },
      ],
      "Schedules concert",
    );
    const reply = await get(`/v1/concerts/${concert.id}/schedules`);
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.schedules).toHaveLength(2);
    const byId = new Map(reply.body.schedules.map((row: { id: number }) => [row.id, row]));
    expect(byId.get(concert.schedules[0]!.id)).toMatchObject({
      id: concert.schedules[0]!.id,
      concertId: concert.id,
      startsAt: "2027-02-01T19:00:00.000Z",
      totalSeats: 5,
      availableSeats: 5,
    });
    expect(byId.get(concert.schedules[1]!.id)).toMatchObject({
      id: concert.schedules[1]!.id,
      concertId: concert.id,
      startsAt: "2027-02-02T19:00:00.000Z",
      totalSeats: 8,
      availableSeats: 8,
    });
  });

  test("availableSeats drops with holds and sales and rises again on release", async () => {
    const concert = await createConcert(s, [{ startsAt: "2027-02-03T19:00:00.000Z", seatCount: 5, price: 1000 }]);
    const concertId = concert.id;
    const scheduleId = concert.schedules[0]!.id;
    const buyer = uid("buyer");
    const buyerToken = await activeToken(s, buyer);

    expect(await scheduleRow(concertId, scheduleId)).toMatchObject({ totalSeats: 5, availableSeats: 5 });

    const holds = [];
    for (const seatNo of [1, 2]) {
      const hold = await http(s, "POST", "/v1/reservations", {
        user: buyer,
        queueToken: buyerToken,
        body: { scheduleId, seatNo },
      });
      expect(hold.status, hold.text).toBe(201);
      holds.push(hold.body.reservationId as number);
    }
    expect(await scheduleRow(concertId, scheduleId)).toMatchObject({ totalSeats: 5, availableSeats: 3 });

    const charge = await http(s, "POST", "/v1/balance/charge", { user: buyer, body: { amount: 1000 } });
    expect(charge.status, charge.text).toBe(200);
    const pay = await http(s, "POST", "/v1/payments", { user: buyer, body: { reservationIds: [holds[0]] } });
    expect(pay.status, pay.text).toBe(201);
    expect(await scheduleRow(concertId, scheduleId)).toMatchObject({ totalSeats: 5, availableSeats: 3 });

    const release = await http(s, "DELETE", `/v1/reservations/${holds[1]}`, { user: buyer });
    expect(release.status, release.text).toBe(200);
    expect(await scheduleRow(concertId, scheduleId)).toMatchObject({ totalSeats: 5, availableSeats: 4 });
  });

  test("404 NOT_FOUND for an unknown concert", async () => {
    expectError(await get("/v1/concerts/987654321/schedules"), 404, "NOT_FOUND");
  });

  test.each(["abc", "1.5", "0", "-1", "%20"])("400 INVALID_ARGUMENT for concert id %j", async (id) => {
    expectError(await get(`/v1/concerts/${id}/schedules`), 400, "INVALID_ARGUMENT");
  });
});

describe("GET /v1/schedules/:scheduleId/seats", () => {
  test("200 {scheduleId, version, seats}: seats numbered 1..n with the schedule price, all available", async () => {
    const concert = await createConcert(
      s,
      [
        { startsAt: "2027-02-04T19:00:00.000Z", seatCount: 6, price: 3300 },
        { startsAt: "2027-02-05T19:00:00.000Z", seatCount: 2, price: 0 },
      ],
      "Seat map concert",
    );
    const map = await seatMap(concert.schedules[0]!.id);
    expect(map.scheduleId).toBe(concert.schedules[0]!.id);
    expect(Number.isInteger(map.version)).toBe(true);
    expect(map.version).toBeGreaterThanOrEqual(0);
    expect(map.seats).toHaveLength(6);
    const sorted = [...map.seats].sort((a, b) => a.no - b.no);
    expect(sorted.map((seat) => seat.no)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const seat of sorted) expect(seat).toMatchObject({ price: 3300, status: "available" });

    const other = await seatMap(concert.schedules[1]!.id);
    expect(other.scheduleId).toBe(concert.schedules[1]!.id);
    expect([...other.seats].sort((a, b) => a.no - b.no)).toEqual([
      expect.objectContaining({ no: 1, price: 0, status: "available" }),
      expect.objectContaining({ no: 2, price: 0, status: "available" }),
    ]);
  });

  test("seat statuses follow holds (held), sales (sold) and releases (available); version never goes back", async () => {
    const concert = await createConcert(s, [{ startsAt: "2027-02-06T19:00:00.000Z", seatCount: 4, price: 500 }]);
    const scheduleId = concert.schedules[0]!.id;
    const buyer = uid("seats");
    const buyerToken = await activeToken(s, buyer);

    const v0 = (await seatMap(scheduleId)).version;
    const ids: number[] = [];
    for (const seatNo of [2, 3]) {
      const hold = await http(s, "POST", "/v1/reservations", {
        user: buyer,
        queueToken: buyerToken,
        body: { scheduleId, seatNo },
      });
      expect(hold.status, hold.text).toBe(201);
      ids.push(hold.body.reservationId);
    }
    const held = await seatMap(scheduleId);
    expect(statuses(held)).toEqual(["available", "held", "held", "available"]);
    expect(held.version).toBeGreaterThanOrEqual(v0);

    expect((await http(s, "POST", "/v1/balance/charge", { user: buyer, body: { amount: 500 } })).status).toBe(200);
    const pay = await http(s, "POST", "/v1/payments", { user: buyer, body: { reservationIds: [ids[0]] } });
    expect(pay.status, pay.text).toBe(201);
    const sold = await seatMap(scheduleId);
    expect(statuses(sold)).toEqual(["available", "sold", "held", "available"]);
    expect(sold.version).toBeGreaterThanOrEqual(held.version);

    const release = await http(s, "DELETE", `/v1/reservations/${ids[1]}`, { user: buyer });
    expect(release.status, release.text).toBe(200);
    const released = await seatMap(scheduleId);
    expect(statuses(released)).toEqual(["available", "sold", "available", "available"]);
    expect(released.version).toBeGreaterThanOrEqual(sold.version);
    for (const seat of released.seats) expect(seat.price).toBe(500);
  });

  test("404 NOT_FOUND for an unknown schedule", async () => {
    expectError(await get("/v1/schedules/987654321/seats"), 404, "NOT_FOUND");
  });

  test.each(["abc", "2.5", "0", "-3"])("400 INVALID_ARGUMENT for schedule id %j", async (id) => {
    expectError(await get(`/v1/schedules/${id}/seats`), 400, "INVALID_ARGUMENT");
  });
});

describe("catalog responses are JSON", () => {
  test("list, schedules and seats answer with Content-Type application/json", async () => {
    const concert = await createConcert(s);
    for (const path of [
      "/v1/concerts",
      `/v1/concerts/${concert.id}/schedules`,
      `/v1/schedules/${concert.schedules[0]!.id}/seats`,
    ]) {
      const reply = await get(path);
      expect(reply.status, `${path}: ${reply.text}`).toBe(200);
      expect(reply.headers.get("content-type") ?? "").toMatch(/application\/json/);
    }
  });

  test("startsAt in schedule rows is an ISO-8601 string", async () => {
    const concert = await createConcert(s);
    const reply = await get(`/v1/concerts/${concert.id}/schedules`);
    expect(reply.status, reply.text).toBe(200);
    for (const row of reply.body.schedules) expect(row.startsAt).toMatch(ISO);
  });
});
