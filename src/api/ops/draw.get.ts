// draw.get — an on-sale's draw as published: the commitment, the seed from the opening, and the
// entry ids in drawn order once it ran; GET /v1/concerts/:concertId/draw. Anyone can check
// SHA-256(seed) against the commitment and recompute the order (npm run verify-draw).
import { z } from "zod";
import { defineOp } from "../op.js";
import { id } from "../schemas.js";

export const drawGet = defineOp({
  name: "draw.get",
  summary: "an on-sale's verifiable draw (no queue token needed)",
  http: { method: "GET", path: "/v1/concerts/:concertId/draw", status: 200 },
  gate: "user",
  errors: ["NOT_FOUND"],
  args: z.object({ concertId: id }),
  result: z.object({
    concertId: id,
    commitment: z.string().nullable(),
    seed: z.string().nullable(),
    entries: z.array(z.string()).describe('hex(SHA-256("<concertId>:<userId>")) of each drawn fan, in drawn order'),
  }),
  handle({ concertId }, { actors, now }) {
    return actors.rooms.draw(concertId, now);
  },
});
