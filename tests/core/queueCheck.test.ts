// A check-in in process while its user's token ends (src/actors/queue.ts): it answers a token,
// never nothing.
import { afterEach, describe, expect, it } from "vitest";
import { type InProcess, startCore } from "../helpers/core.js";

describe("queue check-in", () => {
  let s: InProcess;
  afterEach(() => s?.dispose());

  it("a check-in waiting for pending commits while its user's token ends answers a new token", async () => {
    s = await startCore();
    const first = await s.activeToken("ann");
    const room = s.core.actors.rooms.checkInRoom(undefined);
    const checking = room.check("ann", undefined, Date.now(), () => "192.0.2.1");
    // The user's payment ends the token in the same turn (a cluster owner's settle arrives so).
    room.endFor("ann", Date.now());
    const status = await checking;
    expect(status).toMatchObject({ status: "active" });
    expect(status.token).not.toBe(first);
  });
});
