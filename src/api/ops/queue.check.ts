// queue.check — join a waiting room or refresh one's place; POST /v1/queue/check. With the id of
// a concert that has an on-sale, its room; otherwise the site room.
import { z } from "zod";
import { defineOp } from "../op.js";
import { id, queueStatus } from "../schemas.js";

export const queueCheck = defineOp({
  name: "queue.check",
  summary: "join a waiting room (a concert's on-sale, or the site room) or refresh one's place",
  http: { method: "POST", path: "/v1/queue/check", status: 200 },
  gate: "user",
  // An unknown concert; another user's token; too many new tokens from the address; a full
  // waiting room; a sold-out on-sale.
  errors: ["NOT_FOUND", "FORBIDDEN", "RATE_LIMITED", "UNAVAILABLE", "SOLD_OUT"],
  args: z.object({ token: z.string().min(1).max(256).optional(), concertId: id.optional() }),
  result: queueStatus,
  async handle({ concertId }, { actors, userId, queueToken, now, session, address }) {
    const room = actors.rooms.checkInRoom(concertId);
    const given = queueToken ?? session?.queueToken(room);
    const status = await room.check(userId, given, now, address);
    session?.rememberQueueToken(room, status.token);
    return status;
  },
});
