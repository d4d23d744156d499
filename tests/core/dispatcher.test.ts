// The dispatcher in process: the order of checks (op exists, authentication, budget, queue gate,
// arguments), error mapping, and refusing new work while closing.
import { afterEach, describe, expect, it } from "vitest";
import { opsByName } from "../../src/api/ops/index.js";
import { codeOf, type InProcess, startCore } from "../helpers/core.js";
import { signJwt } from "../helpers/server.js";

describe("Dispatcher", () => {
  let s: InProcess;
  afterEach(() => s?.dispose());

  it("authenticates before it validates: bad credentials with bad arguments are 401, good ones 400", async () => {
    s = await startCore();
    const wrong = await s.core.dispatcher.run({
      op: opsByName.get("balance.charge")!,
      args: { amount: "x" },
      requestId: "r1",
      bearer: signJwt({ sub: "ann", exp: 9e9 }, "another-secret-0123456789"),
      address: () => "192.0.2.1",
    });
    expect([wrong.status, codeOf(wrong)]).toEqual([401, "UNAUTHENTICATED"]);
    const bad = await s.call("balance.charge", { amount: "x" }, { user: "ann" });
    expect([bad.status, codeOf(bad)]).toEqual([400, "INVALID_ARGUMENT"]);
  });

  it("route, authentication, arguments, the target, then the queue gate (API.md's order of checks)", async () => {
    s = await startCore({ QUEUE_ACTIVE_MAX: "1" });
    await s.core.actors.catalog.create(
      { title: "C", schedules: [{ startsAt: "2027-01-01T19:00:00.000Z", seatCount: 5, price: 1 }] },
      Date.now(),
    );
    const annToken = await s.activeToken("ann");
    const waiting = (await s.ok("queue.check", {}, { user: "bo" })).token;
    const hold = (user: string, scheduleId: unknown, queueToken?: string) =>
      s.call("reservations.create", { scheduleId, seatNo: 1 }, { user, queueToken }).then((r) => [r.status, codeOf(r)]);
    // Bad arguments and an unknown schedule are answered before the queue token is looked at.
    expect(await hold("bo", "x")).toEqual([400, "INVALID_ARGUMENT"]);
    expect(await hold("bo", 99)).toEqual([404, "NOT_FOUND"]);
    expect(await hold("bo", 1)).toEqual([401, "TOKEN_INVALID"]);
    expect(await hold("bo", 1, waiting)).toEqual([403, "TOKEN_NOT_ACTIVE"]);
    expect(await hold("bo", 1, annToken)).toEqual([403, "FORBIDDEN"]);
    expect((await hold("ann", 1, annToken))[0]).toBe(201);
  });

  it("admin ops take the admin token only; dev login is NOT_FOUND when off", async () => {
    s = await startCore();
    const asUser = await s.call("admin.concerts.create", { title: "x", schedules: [] }, { user: "ann" });
    expect(codeOf(asUser)).toBe("UNAUTHENTICATED");
    const devLogin = await s.call("dev.login", { name: "x" });
    expect([devLogin.status, codeOf(devLogin)]).toEqual([404, "NOT_FOUND"]);
  });

  it("a user over RATE_LIMIT_PER_SECOND's budget is 429 with retryAfter", async () => {
    s = await startCore({ RATE_LIMIT_PER_SECOND: "1", RATE_LIMIT_BURST: "2" });
    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(await s.call("balance.get", {}, { user: "ann" }));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(replies[2]!.body).toMatchObject({ error: { code: "RATE_LIMITED", retryAfter: 1 } });
  });

  it("while closing, new work is 503 UNAVAILABLE", async () => {
    s = await startCore();
    s.core.dispatcher.closing = true;
    const reply = await s.call("balance.get", {}, { user: "ann" });
    expect([reply.status, codeOf(reply)]).toEqual([503, "UNAVAILABLE"]);
  });
});
