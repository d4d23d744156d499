// concerts.list — the catalog's concerts; GET /v1/concerts.
import { z } from "zod";
import { defineOp } from "../op.js";
import { id, noArgs } from "../schemas.js";

export const concertsList = defineOp({
  name: "concerts.list",
  summary: "the catalog's concerts",
  http: { method: "GET", path: "/v1/concerts", status: 200 },
  gate: "active",
  args: noArgs,
  result: z.object({ concerts: z.array(z.object({ id, title: z.string() })) }),
  handle(_args, { actors }) {
    return actors.catalog.concertsView();
  },
});
