// examples/book-a-seat.ts (built to dist/examples by `npm test`'s pretest) run as a user would run
// it, against a real server: it waits in the waiting room, books and pays a seat, exits 0, and the
// server agrees the seat is paid.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http } from "../helpers/client.js";
import { MAIN, startServer, type TestServer, userJwt } from "../helpers/server.js";

const EXAMPLE = join(MAIN, "../../examples/book-a-seat.js");
const run = promisify(execFile);

let server: TestServer;

beforeAll(async () => {
  // One active place, held by someone else for two seconds: the example has to wait its turn.
  server = await startServer({
    env: { SEED_DEMO: "1", QUEUE_ACTIVE_MAX: "1", QUEUE_ACTIVE_TTL_MS: "2000", QUEUE_TICK_MS: "100" },
  });
});

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

function runExample(env: Record<string, string>) {
  return run(process.execPath, [EXAMPLE], {
    env: { PATH: process.env.PATH ?? "", TICKETING_URL: server.url, ...env },
    timeout: 20_000,
  });
}

describe("examples/book-a-seat", () => {
  it("waits in the waiting room, then books and pays a seat; the server has it paid", async () => {
    const ahead = await http(server, "POST", "/v1/queue/check", { user: "ahead-of-the-example" });
    expect(ahead.body.status).toBe("active");
    const { stdout } = await runExample({ TICKETING_TOKEN: userJwt("example-fan") });
    expect(stdout).toMatch(/^in the waiting room: position 1/m);
    expect(stdout).toMatch(/^admitted$/m);
    expect(stdout).toMatch(/^the seat map shows seat \d+ sold/m);
    const booked = /^booked: seat (\d+) of schedule (\d+), reservation (\d+), payment \d+, paid (\d+)/m.exec(stdout);
    expect(booked, stdout).not.toBeNull();
    const [, seatNo, scheduleId, reservationId, paid] = booked!.map(Number);
    const reservation = await http(server, "GET", `/v1/reservations/${reservationId}`, { user: "example-fan" });
    expect(reservation.body).toMatchObject({ status: "paid", seatNo, scheduleId, price: paid });
    // Paying ended the example's queue token, so the next run can be admitted too.
  });

  it("signs in with the demo login when no token is given, and exits 1 with the reason when it cannot book", async () => {
    const { stdout } = await runExample({});
    expect(stdout).toMatch(/^signed in as demo:example-\d+ \(demo login\)$/m);
    expect(stdout).toMatch(/^booked: /m);
    const failed = await runExample({ TICKETING_TOKEN: "not-a-jwt" }).catch((error) => error);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/book-a-seat failed/);
  });
});
