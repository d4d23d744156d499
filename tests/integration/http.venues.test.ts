// Venues over real sockets (issue 16): an admin body larger than MAX_BODY_BYTES, the layout cached
// by its ETag (HTTP 304, WebSocket notModified), compact snapshots over both transports with their
// MessagePack size, reservations.best under concurrency, and venue holds across a kill -9.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unpackStatuses } from "../../src/venues/document.js";
import { activeToken, adminHeaders, expectError, http, uniqueIds, WsClient } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";

const uid = uniqueIds("venue");
const STARTS = "2027-09-01T19:00:00Z";

/** A hall: two sections of `rows` rows of 12 seats, two categories, the first seat of each row accessible. */
function hall(rows: number) {
  const row = (name: string, category: string) => ({ name, seats: 12, category, accessible: [1] });
  return {
    categories: [
      { name: "Front", price: 120 },
      { name: "Back", price: 80 },
    ],
    sections: [
      { name: "Stalls", rows: Array.from({ length: rows }, (_, i) => row(`S${i + 1}`, "Front")) },
      { name: "Circle", rows: Array.from({ length: rows }, (_, i) => row(`C${i + 1}`, "Back")) },
    ],
  };
}

/** 50,000 seats: 4 sections × 500 rows × 25 seats, every seat of a row listed accessible (a large body). */
function stadium() {
  const accessible = Array.from({ length: 25 }, (_, k) => k + 1);
  return {
    categories: [
      { name: "Floor", price: 300 },
      { name: "Lower", price: 200 },
      { name: "Upper", price: 100 },
    ],
    sections: ["North", "East", "South", "West"].map((name, s) => ({
      name,
      rows: Array.from({ length: 500 }, (_, r) => ({
        name: `${name[0]}${r + 1}`,
        seats: 25,
        category: ["Floor", "Lower", "Upper"][Math.min(2, Math.floor(r / 100 + s / 4))]!,
        ...(r % 50 === 0 ? { accessible } : {}),
      })),
    })),
  };
}

async function createSchedule(server: TestServer, venue: unknown, title = "Venue night"): Promise<number> {
  const reply = await http(server, "POST", "/v1/admin/concerts", {
    headers: adminHeaders(server),
    body: { title, schedules: [{ startsAt: STARTS, venue }] },
  });
  expect(reply.status, reply.text).toBe(201);
  return reply.body.schedules[0].id;
}

describe("venues over HTTP and WebSocket", () => {
  let server: TestServer;

  beforeAll(async () => {
    // 160 fans check in from one address: its budget of new queue tokens is not what this suite tests.
    server = await startServer({ env: { QUEUE_ACTIVE_MAX: "500", RATE_LIMIT_PER_IP: "0" } });
  });

  afterAll(async () => {
    await server?.stop();
    await server?.cleanup();
  });

  it("takes a 50,000-seat stadium in an admin body over MAX_BODY_BYTES (up to ADMIN_MAX_BODY_BYTES)", async () => {
    const body = JSON.stringify({ title: "Stadium", schedules: [{ startsAt: STARTS, venue: stadium() }] });
    expect(Buffer.byteLength(body)).toBeGreaterThan(65_536);
    const reply = await http(server, "POST", "/v1/admin/concerts", { headers: adminHeaders(server), rawBody: body });
    expect(reply.status, reply.text).toBe(201);
    expect(reply.body.schedules[0].totalSeats).toBe(50_000);
  });

  it("serves the layout with its ETag, private and revalidated; If-None-Match is 304 without a body", async () => {
    const scheduleId = await createSchedule(server, hall(3));
    const user = uid("etag");
    const queueToken = await activeToken(server, user);
    const path = `/v1/schedules/${scheduleId}/layout`;
    const first = await http(server, "GET", path, { user, queueToken });
    expect(first.status).toBe(200);
    const etag = first.headers.get("etag")!;
    expect(etag).toBe(`"${first.body.etag}"`);
    expect(first.headers.get("cache-control")).toBe("private, no-cache");
    expect(first.body.layout.sections.map((s: { name: string }) => s.name)).toEqual(["Stalls", "Circle"]);
    for (const condition of [etag, `W/${etag}`, `${etag}, "other"`]) {
      const again = await http(server, "GET", path, { user, queueToken, headers: { "if-none-match": condition } });
      expect(again.status, condition).toBe(304);
      expect(again.text).toBe("");
      expect(again.headers.get("etag")).toBe(etag);
    }
    const changed = await http(server, "GET", path, { user, queueToken, headers: { "if-none-match": '"old"' } });
    expect(changed.status).toBe(200);
    expect(changed.body.layout).toEqual(first.body.layout);
    // As a query argument (what a WebSocket sends), the answer says so in JSON.
    const asked = await http(server, "GET", `${path}?etag=${encodeURIComponent(first.body.etag)}`, {
      user,
      queueToken,
    });
    expect(asked.status).toBe(200);
    expect(asked.body).toEqual({ etag: first.body.etag, notModified: true });
    // Gated like the seat map; the other API replies stay no-store.
    expectError(await http(server, "GET", path, { user }), 401, "TOKEN_INVALID");
    const seats = await http(server, "GET", `/v1/schedules/${scheduleId}/seats`, { user, queueToken });
    expect(seats.headers.get("cache-control")).toBe("no-store");
  });

  it("answers ?compact=true with packed statuses that match the full map", async () => {
    const scheduleId = await createSchedule(server, hall(2));
    const user = uid("compact");
    const queueToken = await activeToken(server, user);
    await http(server, "POST", "/v1/reservations", { user, queueToken, body: { scheduleId, seatNo: 5 } });
    // The hold's diff may be published between two reads: read both until they have one version.
    let full = await http(server, "GET", `/v1/schedules/${scheduleId}/seats`, { user, queueToken });
    let compact = await http(server, "GET", `/v1/schedules/${scheduleId}/seats?compact=true`, { user, queueToken });
    for (let tries = 0; compact.body.version !== full.body.version && tries < 10; tries++) {
      full = await http(server, "GET", `/v1/schedules/${scheduleId}/seats`, { user, queueToken });
      compact = await http(server, "GET", `/v1/schedules/${scheduleId}/seats?compact=true`, { user, queueToken });
    }
    expect(compact.status, compact.text).toBe(200);
    expect(compact.body).toMatchObject({ scheduleId, compact: true, seatCount: 48, version: full.body.version });
    const statuses = unpackStatuses(Buffer.from(compact.body.statuses, "base64"), 48);
    expect([...statuses].map((b) => ["available", "held", "sold"][b])).toEqual(
      full.body.seats.map((s: { status: string }) => s.status),
    );
    expect(full.body.seats[4]).toMatchObject({ label: "S1-5", section: "Stalls", category: "Front", price: 120 });
    expectError(
      await http(server, "GET", `/v1/schedules/${scheduleId}/seats?compact=yes`, { user, queueToken }),
      400,
      "INVALID_ARGUMENT",
    );
  });

  it("over a WebSocket: the layout's etag answered notModified, a compact subscribe, pushes as before", async () => {
    const scheduleId = await createSchedule(server, hall(2));
    const user = uid("ws");
    const token = await activeToken(server, user);
    const ws = await WsClient.connect(server, user);
    try {
      const layout = await ws.request("seats.layout", { scheduleId, token });
      expect(layout.ok, JSON.stringify(layout)).toBe(true);
      for (const binary of [false, true]) {
        const cached = await ws.request("seats.layout", { scheduleId, token, etag: layout.data.etag }, { binary });
        expect(cached.data).toEqual({ etag: layout.data.etag, notModified: true });
      }
      const snapshot = await ws.request("seats.subscribe", { scheduleId, token, compact: true }, { binary: true });
      expect(snapshot.data).toMatchObject({ scheduleId, compact: true, layoutEtag: layout.data.etag, seatCount: 48 });
      const pushed = ws.nextPush("seats", (m) => m.scheduleId === scheduleId);
      const other = uid("ws-other");
      const best = await http(server, "POST", "/v1/reservations/best", {
        user: other,
        queueToken: await activeToken(server, other),
        body: { scheduleId, count: 3 },
      });
      expect(best.status, best.text).toBe(201);
      const push = await pushed;
      expect(push.version).toBe(snapshot.data.version + 1);
      expect(push.changes.map((c: { no: number }) => c.no).sort((a: number, b: number) => a - b)).toEqual(
        best.body.reservations.map((r: { seatNo: number }) => r.seatNo),
      );
    } finally {
      ws.close();
    }
  });

  it("sends a 50,000-seat snapshot in under 100 KB of MessagePack: compact statuses plus the layout once", async () => {
    const scheduleId = await createSchedule(server, stadium(), "Stadium 2");
    const user = uid("bytes");
    const token = await activeToken(server, user);
    const ws = await WsClient.connect(server, user);
    const sizes: number[] = [];
    ws.socket.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) sizes.push(data.length);
    });
    try {
      await ws.request("seats.layout", { scheduleId, token }, { binary: true });
      await ws.request("seats.subscribe", { scheduleId, token, compact: true }, { binary: true });
      const [layoutBytes, snapshotBytes] = sizes;
      expect(snapshotBytes!).toBeLessThan(20_000);
      expect(layoutBytes! + snapshotBytes!).toBeLessThan(100_000);
      await ws.request("seats.subscribe", { scheduleId, token }, { binary: true });
      // The full form, for comparison: every seat with its place.
      expect(sizes[2]!).toBeGreaterThan(1_000_000);
    } finally {
      ws.close();
    }
  });

  it("gives 150 fans asking at once for the best 4 disjoint blocks of 4 adjacent seats in one row", async () => {
    // 2 sections × 25 rows of 12: three blocks of 4 per row without stranding, 150 blocks in all.
    const scheduleId = await createSchedule(server, hall(25));
    const fans = Array.from({ length: 160 }, (_, i) => uid(`fan${i}`));
    const tokens = await Promise.all(fans.map((fan) => activeToken(server, fan)));
    const sockets = await Promise.all(fans.slice(0, 80).map((fan) => WsClient.connect(server, fan)));
    try {
      const replies = await Promise.all(
        fans.map(async (fan, i) => {
          if (i < 80) {
            const reply = await sockets[i]!.request("reservations.best", { scheduleId, count: 4, token: tokens[i] });
            return reply.ok ? { ok: true, held: reply.data.reservations } : { ok: false, code: reply.error?.code };
          }
          const reply = await http(server, "POST", "/v1/reservations/best", {
            user: fan,
            queueToken: tokens[i],
            body: { scheduleId, count: 4 },
          });
          return reply.status === 201
            ? { ok: true, held: reply.body.reservations }
            : { ok: false, code: reply.body.error.code };
        }),
      );
      const blocks = replies.filter((r) => r.ok).map((r) => r.held.map((h: { seatNo: number }) => h.seatNo));
      expect(blocks).toHaveLength(150);
      expect(replies.filter((r) => !r.ok).map((r) => r.code)).toEqual(Array(10).fill("SEAT_UNAVAILABLE"));
      const taken = new Set<number>();
      for (const block of blocks) {
        const row = Math.floor((block[0]! - 1) / 12);
        block.forEach((seatNo: number, k: number) => {
          expect(taken.has(seatNo), `seat ${seatNo} given twice`).toBe(false);
          taken.add(seatNo);
          expect(seatNo).toBe(block[0]! + k);
          expect(Math.floor((seatNo - 1) / 12)).toBe(row);
        });
      }
      expect(taken.size).toBe(600);
    } finally {
      for (const socket of sockets) socket.close();
    }
  });
});

describe("venue holds across a kill -9", () => {
  it("keeps the venue, the block's holds and their prices; the layout keeps its ETag", async () => {
    let server = await startServer();
    try {
      const scheduleId = await createSchedule(server, hall(2));
      const user = uid("crash");
      const best = await http(server, "POST", "/v1/reservations/best", {
        user,
        queueToken: await activeToken(server, user),
        body: { scheduleId, count: 2, category: "Back" },
      });
      expect(best.status, best.text).toBe(201);
      const layout = await http(server, "GET", `/v1/schedules/${scheduleId}/layout`, {
        user,
        queueToken: await activeToken(server, user),
      });
      await server.kill();
      server = await startServer({ dataDir: server.dataDir });
      const queueToken = await activeToken(server, user);
      const again = await http(server, "GET", `/v1/schedules/${scheduleId}/layout`, {
        user,
        queueToken,
        headers: { "if-none-match": layout.headers.get("etag")! },
      });
      expect(again.status).toBe(304);
      const seats = await http(server, "GET", `/v1/schedules/${scheduleId}/seats`, { user, queueToken });
      for (const held of best.body.reservations) {
        expect(held).toMatchObject({ section: "Circle", price: 80, status: "held" });
        expect(seats.body.seats[held.seatNo - 1]).toMatchObject({ status: "held", label: held.label, price: 80 });
      }
    } finally {
      await server.kill();
      await server.cleanup();
    }
  });
});
