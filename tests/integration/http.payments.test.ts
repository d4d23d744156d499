// HTTP contract: balance, charges, payments and Idempotency-Key.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { activeToken, createConcert, expectError, http, uniqueIds } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";

let counter = 0;
const uid = uniqueIds("u-pay");

async function balanceOf(s: TestServer, user: string): Promise<number> {
  const reply = await http(s, "GET", "/v1/balance", { user });
  expect(reply.status, reply.text).toBe(200);
  expect(reply.body.userId).toBe(user);
  return reply.body.balance;
}

async function charge(s: TestServer, user: string, amount: number): Promise<void> {
  const reply = await http(s, "POST", "/v1/balance/charge", { user, body: { amount } });
  expect(reply.status, reply.text).toBe(200);
}

async function statusOf(s: TestServer, user: string, reservationId: number): Promise<string> {
  const reply = await http(s, "GET", `/v1/reservations/${reservationId}`, { user });
  expect(reply.status, reply.text).toBe(200);
  return reply.body.status;
}

describe("balance and payments (default limits)", () => {
  let s: TestServer;
  let concertId: number;
  let cheap: number; // schedule id, price 1000, 40 seats
  let dear: number; // schedule id, price 2500, 40 seats
  let nextSeat = 1;
  let viewer: string;
  let viewerToken: string;

  beforeAll(async () => {
    s = await startServer();
    const concert = await createConcert(s, [
      { startsAt: "2027-01-01T19:00:00.000Z", seatCount: 40, price: 1000 },
      { startsAt: "2027-01-02T19:00:00.000Z", seatCount: 40, price: 2500 },
    ]);
    concertId = concert.id;
    cheap = concert.schedules[0]!.id;
    dear = concert.schedules[1]!.id;
    viewer = uid("viewer");
    viewerToken = await activeToken(s, viewer);
  });
  afterAll(async () => {
    await s?.stop();
    s?.cleanup();
  });

  /** Holds `count` fresh seats of `scheduleId` for `user` (who must have an active `token`). */
  async function holdSeats(user: string, token: string, scheduleId: number, count = 1): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const seatNo = nextSeat++;
      const reply = await http(s, "POST", "/v1/reservations", {
        user,
        queueToken: token,
        body: { scheduleId, seatNo },
      });
      expect(reply.status, reply.text).toBe(201);
      ids.push(reply.body.reservationId);
    }
    return ids;
  }

  async function seatStatusOf(user: string, reservationId: number): Promise<string> {
    const got = await http(s, "GET", `/v1/reservations/${reservationId}`, { user });
    const map = await http(s, "GET", `/v1/schedules/${got.body.scheduleId}/seats`, {
      user: viewer,
      queueToken: viewerToken,
    });
    expect(map.status, map.text).toBe(200);
    return map.body.seats.find((seat: { no: number }) => seat.no === got.body.seatNo).status;
  }

  test("GET /v1/balance -> 200 {userId, balance: 0} for a new user", async () => {
    const user = uid("new");
    const reply = await http(s, "GET", "/v1/balance", { user });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ userId: user, balance: 0 });
  });

  test("POST /v1/balance/charge -> 200 {userId, balance} adding the amount", async () => {
    const user = uid("charge");
    const first = await http(s, "POST", "/v1/balance/charge", { user, body: { amount: 5000 } });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ userId: user, balance: 5000 });
    const second = await http(s, "POST", "/v1/balance/charge", { user, body: { amount: 2500 } });
    expect(second.status, second.text).toBe(200);
    expect(second.body).toMatchObject({ userId: user, balance: 7500 });
    expect(await balanceOf(s, user)).toBe(7500);
  });

  test("charging CHARGE_MAX (10000000) at once is allowed", async () => {
    const user = uid("max");
    const reply = await http(s, "POST", "/v1/balance/charge", { user, body: { amount: 10_000_000 } });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.balance).toBe(10_000_000);
  });

  const badAmounts: [string, string][] = [
    ["amount 0", '{"amount":0}'],
    ["a negative amount", '{"amount":-100}'],
    ["a fractional amount", '{"amount":10.5}'],
    ["a string amount", '{"amount":"100"}'],
    ["amount null", '{"amount":null}'],
    ["a missing amount", "{}"],
    ["an empty body", ""],
    ["amount over CHARGE_MAX", '{"amount":10000001}'],
    ["malformed JSON", '{"amount":'],
    ["a JSON array", "[100]"],
  ];

  test.each(badAmounts)(
    "charge with %s -> 400 INVALID_ARGUMENT and the balance is unchanged",
    async (_name, rawBody) => {
      const user = uid("badcharge");
      await charge(s, user, 300);
      expectError(await http(s, "POST", "/v1/balance/charge", { user, rawBody }), 400, "INVALID_ARGUMENT");
      expect(await balanceOf(s, user)).toBe(300);
    },
  );

  test("POST /v1/payments -> 201 {paymentId, reservationIds, amount = sum of prices, balance after, status: paid}", async () => {
    const user = uid("payer");
    const token = await activeToken(s, user);
    const [a] = await holdSeats(user, token, cheap);
    const [b] = await holdSeats(user, token, dear);
    await charge(s, user, 10_000);
    const reply = await http(s, "POST", "/v1/payments", { user, body: { reservationIds: [a, b] } });
    expect(reply.status, reply.text).toBe(201);
    expect(reply.body).toMatchObject({ reservationIds: [a, b], amount: 3500, balance: 6500, status: "paid" });
    expect(Number.isInteger(reply.body.paymentId)).toBe(true);
    expect(reply.body.paymentId).toBeGreaterThan(0);

    expect(await balanceOf(s, user)).toBe(6500);
    expect(await statusOf(s, user, a!)).toBe("paid");
    expect(await statusOf(s, user, b!)).toBe("paid");
    expect(await seatStatusOf(user, a!)).toBe("sold");
    expect(await seatStatusOf(user, b!)).toBe("sold");
  });

  test("after a payment the payer's queue token is no longer active (401 TOKEN_INVALID); a new check gives a new token", async () => {
    const user = uid("tokenend");
    const token = await activeToken(s, user);
    const ids = await holdSeats(user, token, cheap);
    await charge(s, user, 1000);
    const pay = await http(s, "POST", "/v1/payments", { user, body: { reservationIds: ids } });
    expect(pay.status, pay.text).toBe(201);
    expectError(await http(s, "GET", "/v1/concerts", { user, queueToken: token }), 401, "TOKEN_INVALID");
    expectError(
      await http(s, "GET", `/v1/concerts/${concertId}/schedules`, { user, queueToken: token }),
      401,
      "TOKEN_INVALID",
    );
    expectError(
      await http(s, "POST", "/v1/reservations", { user, queueToken: token, body: { scheduleId: cheap, seatNo: 40 } }),
      401,
      "TOKEN_INVALID",
    );
    const fresh = await activeToken(s, user);
    expect(fresh).not.toBe(token);
    const list = await http(s, "GET", "/v1/concerts", { user, queueToken: fresh });
    expect(list.status, list.text).toBe(200);
  });

  test("INSUFFICIENT_BALANCE (402): a two-seat payment with money for one changes nothing", async () => {
    const user = uid("poor");
    const token = await activeToken(s, user);
    const ids = await holdSeats(user, token, cheap, 2);
    await charge(s, user, 1500);
    expectError(
      await http(s, "POST", "/v1/payments", { user, body: { reservationIds: ids } }),
      402,
      "INSUFFICIENT_BALANCE",
    );
    expect(await balanceOf(s, user)).toBe(1500);
    for (const id of ids) {
      expect(await statusOf(s, user, id)).toBe("held");
      expect(await seatStatusOf(user, id)).toBe("held");
    }
    // The queue token is still active.
    const list = await http(s, "GET", "/v1/concerts", { user, queueToken: token });
    expect(list.status, list.text).toBe(200);
    // After topping up, the same payment goes through.
    await charge(s, user, 500);
    const pay = await http(s, "POST", "/v1/payments", { user, body: { reservationIds: ids } });
    expect(pay.status, pay.text).toBe(201);
    expect(pay.body).toMatchObject({ amount: 2000, balance: 0, status: "paid" });
  });

  test("paying a paid reservation again (without a key) -> 409 ALREADY_PAID, nothing charged", async () => {
    const user = uid("again");
    const token = await activeToken(s, user);
    const ids = await holdSeats(user, token, cheap);
    await charge(s, user, 5000);
    const pay = await http(s, "POST", "/v1/payments", { user, body: { reservationIds: ids } });
    expect(pay.status, pay.text).toBe(201);
    expectError(await http(s, "POST", "/v1/payments", { user, body: { reservationIds: ids } }), 409, "ALREADY_PAID");
    expect(await balanceOf(s, user)).toBe(4000);
  });

  test("paying a released hold -> 410 HOLD_EXPIRED, nothing charged", async () => {
    const user = uid("released");
    const token = await activeToken(s, user);
    const ids = await holdSeats(user, token, cheap);
    const release = await http(s, "DELETE", `/v1/reservations/${ids[0]}`, { user });
    expect(release.status, release.text).toBe(200);
    await charge(s, user, 5000);
    expectError(await http(s, "POST", "/v1/payments", { user, body: { reservationIds: ids } }), 410, "HOLD_EXPIRED");
    expect(await balanceOf(s, user)).toBe(5000);
    expect(await statusOf(s, user, ids[0]!)).toBe("released");
  });

  test("paying another user's reservation -> 403 FORBIDDEN; a mixed list changes nothing", async () => {
    const owner = uid("owner");
    const ownerToken = await activeToken(s, owner);
    const [theirs] = await holdSeats(owner, ownerToken, cheap);
    const user = uid("intruder");
    const token = await activeToken(s, user);
    const [mine] = await holdSeats(user, token, cheap);
    await charge(s, user, 5000);
    expectError(await http(s, "POST", "/v1/payments", { user, body: { reservationIds: [theirs] } }), 403, "FORBIDDEN");
    expectError(
      await http(s, "POST", "/v1/payments", { user, body: { reservationIds: [mine, theirs] } }),
      403,
      "FORBIDDEN",
    );
    expect(await balanceOf(s, user)).toBe(5000);
    expect(await statusOf(s, user, mine!)).toBe("held");
    expect(await statusOf(s, owner, theirs!)).toBe("held");
  });

  test("paying an unknown reservation -> 404 NOT_FOUND; a list with one unknown id changes nothing", async () => {
    const user = uid("unknown");
    const token = await activeToken(s, user);
    const [mine] = await holdSeats(user, token, cheap);
    await charge(s, user, 5000);
    expectError(
      await http(s, "POST", "/v1/payments", { user, body: { reservationIds: [987654321] } }),
      404,
      "NOT_FOUND",
    );
    expectError(
      await http(s, "POST", "/v1/payments", { user, body: { reservationIds: [mine, 987654321] } }),
      404,
      "NOT_FOUND",
    );
    expect(await balanceOf(s, user)).toBe(5000);
    expect(await statusOf(s, user, mine!)).toBe("held");
  });

  const badPayments: [string, string][] = [
    ["an empty list", '{"reservationIds":[]}'],
    ["a missing list", "{}"],
    ["an empty body", ""],
    ["reservationIds null", '{"reservationIds":null}'],
    ["reservationIds a number", '{"reservationIds":5}'],
    ["reservationIds a string", '{"reservationIds":"5"}'],
    ["a string id", '{"reservationIds":["5"]}'],
    ["a fractional id", '{"reservationIds":[1.5]}'],
    ["id 0", '{"reservationIds":[0]}'],
    ["a negative id", '{"reservationIds":[-4]}'],
    ["a null id", '{"reservationIds":[null]}'],
    ["duplicate ids", '{"reservationIds":[7,7]}'],
    ["101 ids", JSON.stringify({ reservationIds: Array.from({ length: 101 }, (_, i) => i + 1) })],
    ["malformed JSON", '{"reservationIds":[1,'],
    ["a JSON array", "[1,2]"],
  ];

  test.each(badPayments)("POST /v1/payments with %s -> 400 INVALID_ARGUMENT", async (_name, rawBody) => {
    const user = uid("badpay");
    expectError(await http(s, "POST", "/v1/payments", { user, rawBody }), 400, "INVALID_ARGUMENT");
  });

  test("duplicate ids of a real hold -> 400 and the hold stays held", async () => {
    const user = uid("dup");
    const token = await activeToken(s, user);
    const [id] = await holdSeats(user, token, cheap);
    await charge(s, user, 5000);
    expectError(
      await http(s, "POST", "/v1/payments", { user, body: { reservationIds: [id, id] } }),
      400,
      "INVALID_ARGUMENT",
    );
    expect(await statusOf(s, user, id!)).toBe("held");
    expect(await balanceOf(s, user)).toBe(5000);
  });

  describe("Idempotency-Key", () => {
    test("payment: the same key and body replays the same 201 body without paying twice", async () => {
      const user = uid("idem-pay");
      const token = await activeToken(s, user);
      const ids = await holdSeats(user, token, cheap, 2);
      await charge(s, user, 5000);
      const key = `pay-${user}`;
      const first = await http(s, "POST", "/v1/payments", { user, idempotencyKey: key, body: { reservationIds: ids } });
      expect(first.status, first.text).toBe(201);
      expect(first.body).toMatchObject({ reservationIds: ids, amount: 2000, balance: 3000, status: "paid" });
      const second = await http(s, "POST", "/v1/payments", {
        user,
        idempotencyKey: key,
        body: { reservationIds: ids },
      });
      expect(second.status, second.text).toBe(201);
      expect(second.body).toEqual(first.body);
      expect(await balanceOf(s, user)).toBe(3000);
      // Without the key, the same request is ALREADY_PAID.
      expectError(await http(s, "POST", "/v1/payments", { user, body: { reservationIds: ids } }), 409, "ALREADY_PAID");
    });

    test("payment: the same key with another body -> 409 IDEMPOTENCY_MISMATCH and nothing happens", async () => {
      const user = uid("idem-mismatch");
      const token = await activeToken(s, user);
      const [a, b] = await holdSeats(user, token, cheap, 2);
      await charge(s, user, 5000);
      const key = `mm-${user}`;
      const first = await http(s, "POST", "/v1/payments", { user, idempotencyKey: key, body: { reservationIds: [a] } });
      expect(first.status, first.text).toBe(201);
      expectError(
        await http(s, "POST", "/v1/payments", { user, idempotencyKey: key, body: { reservationIds: [b] } }),
        409,
        "IDEMPOTENCY_MISMATCH",
      );
      expect(await statusOf(s, user, b!)).toBe("held");
      expect(await balanceOf(s, user)).toBe(4000);
      const other = await http(s, "POST", "/v1/payments", {
        user,
        idempotencyKey: `${key}-2`,
        body: { reservationIds: [b] },
      });
      expect(other.status, other.text).toBe(201);
      expect(other.body.balance).toBe(3000);
    });

    test("payment: an error reply is not stored; the retry with the same key does the work", async () => {
      const user = uid("idem-retry");
      const token = await activeToken(s, user);
      const ids = await holdSeats(user, token, cheap);
      const key = `retry-${user}`;
      expectError(
        await http(s, "POST", "/v1/payments", { user, idempotencyKey: key, body: { reservationIds: ids } }),
        402,
        "INSUFFICIENT_BALANCE",
      );
      await charge(s, user, 1000);
      const retry = await http(s, "POST", "/v1/payments", { user, idempotencyKey: key, body: { reservationIds: ids } });
      expect(retry.status, retry.text).toBe(201);
      expect(retry.body).toMatchObject({ amount: 1000, balance: 0, status: "paid" });
    });

    test("charge: the same key and body replays the same 200 body without charging twice", async () => {
      const user = uid("idem-charge");
      const key = `charge-${user}`;
      const first = await http(s, "POST", "/v1/balance/charge", { user, idempotencyKey: key, body: { amount: 700 } });
      expect(first.status, first.text).toBe(200);
      expect(first.body).toMatchObject({ userId: user, balance: 700 });
      const second = await http(s, "POST", "/v1/balance/charge", { user, idempotencyKey: key, body: { amount: 700 } });
      expect(second.status, second.text).toBe(200);
      expect(second.body).toEqual(first.body);
      expect(await balanceOf(s, user)).toBe(700);
      // A charge without the key is a new charge.
      await charge(s, user, 700);
      expect(await balanceOf(s, user)).toBe(1400);
      // The replay still returns the first response.
      const third = await http(s, "POST", "/v1/balance/charge", { user, idempotencyKey: key, body: { amount: 700 } });
      expect(third.status, third.text).toBe(200);
      expect(third.body).toEqual(first.body);
      expect(await balanceOf(s, user)).toBe(1400);
    });

    test("charge: the same key with another amount -> 409 IDEMPOTENCY_MISMATCH, balance unchanged", async () => {
      const user = uid("idem-charge-mm");
      const key = `cmm-${user}`;
      expect(
        (await http(s, "POST", "/v1/balance/charge", { user, idempotencyKey: key, body: { amount: 100 } })).status,
      ).toBe(200);
      expectError(
        await http(s, "POST", "/v1/balance/charge", { user, idempotencyKey: key, body: { amount: 200 } }),
        409,
        "IDEMPOTENCY_MISMATCH",
      );
      expect(await balanceOf(s, user)).toBe(100);
    });

    test("a key used for a charge, reused for a payment -> 409 IDEMPOTENCY_MISMATCH and the hold stays", async () => {
      const user = uid("idem-crossop");
      const token = await activeToken(s, user);
      const ids = await holdSeats(user, token, cheap);
      const key = `cross-${user}`;
      expect(
        (await http(s, "POST", "/v1/balance/charge", { user, idempotencyKey: key, body: { amount: 3000 } })).status,
      ).toBe(200);
      expectError(
        await http(s, "POST", "/v1/payments", { user, idempotencyKey: key, body: { reservationIds: ids } }),
        409,
        "IDEMPOTENCY_MISMATCH",
      );
      expect(await statusOf(s, user, ids[0]!)).toBe("held");
      expect(await balanceOf(s, user)).toBe(3000);
    });

    test("keys are scoped per user: another user's same key does its own work", async () => {
      const key = `shared-key-${++counter}`;
      const a = uid("scopeA");
      const b = uid("scopeB");
      const ra = await http(s, "POST", "/v1/balance/charge", { user: a, idempotencyKey: key, body: { amount: 100 } });
      expect(ra.status, ra.text).toBe(200);
      const rb = await http(s, "POST", "/v1/balance/charge", { user: b, idempotencyKey: key, body: { amount: 100 } });
      expect(rb.status, rb.text).toBe(200);
      expect(rb.body).toMatchObject({ userId: b, balance: 100 });
      expect(await balanceOf(s, a)).toBe(100);
      expect(await balanceOf(s, b)).toBe(100);
    });

    test("a key of 128 chars is accepted; 129 chars -> 400 INVALID_ARGUMENT on charges and payments", async () => {
      const user = uid("idem-len");
      const ok = await http(s, "POST", "/v1/balance/charge", {
        user,
        idempotencyKey: "k".repeat(128),
        body: { amount: 50 },
      });
      expect(ok.status, ok.text).toBe(200);
      expectError(
        await http(s, "POST", "/v1/balance/charge", { user, idempotencyKey: "k".repeat(129), body: { amount: 50 } }),
        400,
        "INVALID_ARGUMENT",
      );
      expect(await balanceOf(s, user)).toBe(50);
      const token = await activeToken(s, user);
      const ids = await holdSeats(user, token, cheap);
      await charge(s, user, 1000);
      expectError(
        await http(s, "POST", "/v1/payments", { user, idempotencyKey: "p".repeat(129), body: { reservationIds: ids } }),
        400,
        "INVALID_ARGUMENT",
      );
      expect(await statusOf(s, user, ids[0]!)).toBe("held");
      expect(await balanceOf(s, user)).toBe(1050);
    });
  });
});

describe("money limits (CHARGE_MAX=1000, BALANCE_MAX=1500)", () => {
  let s: TestServer;

  beforeAll(async () => {
    s = await startServer({ env: { CHARGE_MAX: "1000", BALANCE_MAX: "1500" } });
  });
  afterAll(async () => {
    await s?.stop();
    s?.cleanup();
  });

  test("amount over CHARGE_MAX -> 400 INVALID_ARGUMENT; exactly CHARGE_MAX is fine", async () => {
    const user = uid("cmax");
    expectError(await http(s, "POST", "/v1/balance/charge", { user, body: { amount: 1001 } }), 400, "INVALID_ARGUMENT");
    expect(await balanceOf(s, user)).toBe(0);
    const ok = await http(s, "POST", "/v1/balance/charge", { user, body: { amount: 1000 } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ userId: user, balance: 1000 });
  });

  test("a charge over BALANCE_MAX -> 422 BALANCE_LIMIT and changes nothing; reaching exactly BALANCE_MAX is fine", async () => {
    const user = uid("bmax");
    await charge(s, user, 1000);
    expectError(await http(s, "POST", "/v1/balance/charge", { user, body: { amount: 600 } }), 422, "BALANCE_LIMIT");
    expect(await balanceOf(s, user)).toBe(1000);
    const ok = await http(s, "POST", "/v1/balance/charge", { user, body: { amount: 500 } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.balance).toBe(1500);
    expectError(await http(s, "POST", "/v1/balance/charge", { user, body: { amount: 1 } }), 422, "BALANCE_LIMIT");
    expect(await balanceOf(s, user)).toBe(1500);
  });

  test("BALANCE_LIMIT with an Idempotency-Key is not stored: the key stays usable", async () => {
    const user = uid("bmax-key");
    await charge(s, user, 1000);
    const key = `limit-${user}`;
    expectError(
      await http(s, "POST", "/v1/balance/charge", { user, idempotencyKey: key, body: { amount: 600 } }),
      422,
      "BALANCE_LIMIT",
    );
    const other = await http(s, "POST", "/v1/balance/charge", { user, idempotencyKey: key, body: { amount: 400 } });
    expect(other.status, other.text).toBe(200);
    expect(other.body.balance).toBe(1400);
  });

  test("a payment lowers the balance so charging works again", async () => {
    const concert = await createConcert(s, [{ startsAt: "2027-01-01T19:00:00.000Z", seatCount: 5, price: 1000 }]);
    const user = uid("spend");
    const token = await activeToken(s, user);
    await charge(s, user, 1000);
    await charge(s, user, 500);
    const held = await http(s, "POST", "/v1/reservations", {
      user,
      queueToken: token,
      body: { scheduleId: concert.schedules[0]!.id, seatNo: 1 },
    });
    expect(held.status, held.text).toBe(201);
    const pay = await http(s, "POST", "/v1/payments", { user, body: { reservationIds: [held.body.reservationId] } });
    expect(pay.status, pay.text).toBe(201);
    expect(pay.body.balance).toBe(500);
    const again = await http(s, "POST", "/v1/balance/charge", { user, body: { amount: 1000 } });
    expect(again.status, again.text).toBe(200);
    expect(again.body.balance).toBe(1500);
  });
});
