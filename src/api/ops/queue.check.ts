// queue.check — join the waiting room or refresh one's place; POST /v1/queue/check.
import { z } from "zod";
import { defineOp } from "../op.js";
import { queueStatus } from "../schemas.js";

export const queueCheck = defineOp({
  name: "queue.check",
  summary: "join the waiting room or refresh one's place",
  http: { method: "POST", path: "/v1/queue/check", status: 200 },
  gate: "user",
  // Another user's token; too many new tokens from the address; a full waiting room.
  errors: ["FORBIDDEN", "RATE_LIMITED", "UNAVAILABLE"],
  args: z.object({ token: z.string().min(1).max(256).optional() }),
  result: queueStatus,
  async handle(_args, { actors, userId, queueToken, now, session, address }) {
    const status = await actors.queue.check(userId, queueToken, now, address);
    session?.rememberQueueToken(status.token);
    return status;
  },
});
