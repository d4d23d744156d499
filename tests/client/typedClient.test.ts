// The typed client against the real server: HTTP and WebSocket (JSON and MessagePack) book and
// pay, and every reply parses with the result schema of its op (the schemas OpenAPI is built from).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { opsByName } from "../../src/api/ops/index.js";
import { ClientError, HttpClient, httpRoutes, type OpName, WsSession } from "../../src/client/index.js";
import { msgpackCodec } from "../../src/client/msgpack.js";
import { createConcert } from "../helpers/client.js";
import { startServer, type TestServer, userJwt } from "../helpers/server.js";

let server: TestServer;
let scheduleId: number;
let concertId: number;

function checkResult(op: OpName, data: unknown): void {
  const parsed = opsByName.get(op)!.result.safeParse(data);
  expect(parsed.success, `${op} reply ${JSON.stringify(data)}: ${parsed.error?.message}`).toBe(true);
}

beforeAll(async () => {
  server = await startServer({ env: { DEV_LOGIN: "1" } });
  const concert = await createConcert(server, [{ startsAt: "2027-03-01T19:00:00Z", seatCount: 20, price: 5000 }]);
  concertId = concert.id;
  scheduleId = concert.schedules[0]!.id;
});

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

describe("typed client", () => {
  it("its HTTP route table matches the op table the server routes", () => {
    const fromOps = Object.fromEntries([...opsByName.values()].filter((op) => op.http).map((op) => [op.name, op.http]));
    expect(httpRoutes).toEqual(fromOps);
  });

  it("books and pays over HTTP, and every reply matches its op's result schema", async () => {
    const admin = new HttpClient({ baseUrl: server.url, adminToken: server.adminToken });
    const created = await admin.call("admin.concerts.create", {
      title: "Client HTTP",
      schedules: [{ startsAt: "2027-04-01T19:00:00Z", seatCount: 5, price: 700 }],
    });
    checkResult("admin.concerts.create", created);
    const login = await new HttpClient({ baseUrl: server.url }).call("dev.login", { name: "http-user" });
    checkResult("dev.login", login);
    const client = new HttpClient({ baseUrl: server.url, token: login.token });
    const queue = await client.call("queue.check", {});
    checkResult("queue.check", queue);
    expect(client.queueToken).toBe(queue.token);
    checkResult("concerts.list", await client.call("concerts.list", {}));
    checkResult("schedules.list", await client.call("schedules.list", { concertId: created.id }));
    const sid = created.schedules[0]!.id;
    checkResult("seats.list", await client.call("seats.list", { scheduleId: sid }));
    const hold = await client.call("reservations.create", { scheduleId: sid, seatNo: 2 });
    checkResult("reservations.create", hold);
    const other = await client.call("reservations.create", { scheduleId: sid, seatNo: 3 });
    checkResult("reservations.get", await client.call("reservations.get", { reservationId: hold.reservationId }));
    checkResult(
      "reservations.release",
      await client.call("reservations.release", { reservationId: other.reservationId }),
    );
    checkResult("balance.charge", await client.call("balance.charge", { amount: 1000, idempotencyKey: "c1" }));
    checkResult("balance.get", await client.call("balance.get", {}));
    const payment = await client.call("payments.create", {
      reservationIds: [hold.reservationId],
      idempotencyKey: "p1",
    });
    checkResult("payments.create", payment);
    expect(payment).toMatchObject({ amount: 700, balance: 300, status: "paid" });
    // The same key and body again: the first response, no second debit.
    expect(
      await client.call("payments.create", { reservationIds: [hold.reservationId], idempotencyKey: "p1" }),
    ).toEqual(payment);
  });

  it("throws a ClientError with the contract's code and status", async () => {
    const client = new HttpClient({ baseUrl: server.url, token: userJwt("err-user") });
    await client.call("queue.check", {});
    const error = await client.call("reservations.get", { reservationId: 999_999 }).catch((e) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect(error).toMatchObject({ code: "NOT_FOUND", status: 404 });
    const held = await client.call("reservations.create", { scheduleId, seatNo: 1 });
    const other = new HttpClient({ baseUrl: server.url, token: userJwt("err-user-2") });
    await other.call("queue.check", {});
    await expect(other.call("reservations.create", { scheduleId, seatNo: held.seatNo })).rejects.toMatchObject({
      code: "SEAT_UNAVAILABLE",
      status: 409,
    });
  });

  for (const [encoding, codec] of [
    ["JSON", undefined],
    ["MessagePack", msgpackCodec],
  ] as const) {
    it(`a ${encoding} WebSocket session books and pays and sees its seats pushed`, async () => {
      const user = `ws-${encoding}`;
      const session = new WsSession({ url: server.wsUrl, token: userJwt(user), ...(codec ? { codec } : {}) });
      const watcher = new WsSession({ url: server.wsUrl, token: userJwt(`${user}-watcher`) });
      try {
        const status = await session.request("queue.check", {});
        checkResult("queue.check", status);
        expect(session.queueToken).toBe(status.token);
        await watcher.request("queue.check", {});
        checkResult("concerts.list", await session.request("concerts.list", {}));
        checkResult("schedules.list", await session.request("schedules.list", { concertId }));
        const map = await watcher.subscribeSeats(scheduleId);
        const seatNo = 10 + (codec ? 1 : 0);
        const seen = new Promise<void>((done) =>
          map.onChange(() => {
            if (map.status[seatNo - 1] === "sold") done();
          }),
        );
        const hold = await session.request("reservations.create", { scheduleId, seatNo });
        checkResult("reservations.create", hold);
        checkResult("balance.charge", await session.request("balance.charge", { amount: 5000 }));
        const payment = await session.request("payments.create", { reservationIds: [hold.reservationId] });
        checkResult("payments.create", payment);
        await seen;
        expect(watcher.stats.gaps).toBe(0);
        const error = await session.request("reservations.create", { scheduleId, seatNo: 999 }).catch((e) => e);
        expect(error).toMatchObject({ code: expect.stringMatching(/NOT_FOUND|TOKEN_INVALID/) });
      } finally {
        session.close();
        watcher.close();
      }
    });
  }
});

describe("dev login", () => {
  it("is off when SEED_DEMO=0 and DEV_LOGIN is unset: 404, no token", async () => {
    const plain = await startServer({ env: { SEED_DEMO: "0" } });
    try {
      const error = await new HttpClient({ baseUrl: plain.url }).call("dev.login", { name: "x" }).catch((e) => e);
      expect(error).toMatchObject({ code: "NOT_FOUND", status: 404 });
    } finally {
      await plain.stop();
      plain.cleanup();
    }
  });

  it("mints a JWT the server accepts when DEV_LOGIN=1", async () => {
    const login = await new HttpClient({ baseUrl: server.url }).call("dev.login", { name: "minted" });
    const balance = await new HttpClient({ baseUrl: server.url, token: login.token }).call("balance.get", {});
    // A dev-login identity is always "demo:<name>": it can never be a user of the real issuer.
    expect(login.userId).toBe("demo:minted");
    expect(balance).toEqual({ userId: "demo:minted", balance: 0 });
    expect(Date.parse(login.expiresAt) - Date.now()).toBeLessThanOrEqual(3600_000);
  });
});
