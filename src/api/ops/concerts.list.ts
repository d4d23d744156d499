// concerts.list — the catalog's concerts; GET /v1/concerts.
import { defineOp } from "../op.js";
import { noArgs } from "../schemas.js";

export const concertsList = defineOp({
  name: "concerts.list",
  http: { method: "GET", path: "/v1/concerts", status: 200 },
  gate: "active",
  args: noArgs,
  handle(_args, { actors }) {
    return { concerts: actors.catalog.listConcerts().map(({ id, title }) => ({ id, title })) };
  },
});
