// (a) HTTP catalog reads with autocannon, against the static ceiling measured in the same run.
import { userJwt } from "../../tests/helpers/server.js";
import {
  admittedClient,
  type BenchContext,
  bookingServer,
  createCatalog,
  type ScenarioResult,
  SECRET,
} from "../lib/context.js";
import { autocannon } from "../lib/processes.js";
import { HTTP_CONNECTIONS } from "./ceilings.js";

export async function catalogReads(ctx: BenchContext): Promise<ScenarioResult> {
  const server = await bookingServer({ SEED_DEMO: "1" });
  try {
    await createCatalog(server, 2, 2000);
    const reader = await admittedClient(server, "reader");
    const result = await autocannon(`${server.url}/v1/concerts`, {
      connections: HTTP_CONNECTIONS,
      seconds: ctx.seconds(10, 5),
      headers: { authorization: `Bearer ${userJwt("reader", 3600, SECRET)}`, "queue-token": reader.queueToken! },
    });
    return {
      id: "a.catalog",
      title: "(a) HTTP GET /v1/concerts (autocannon)",
      throughput: result.requestsPerSecond,
      unit: "req/s",
      latency: { count: 0, p50: result.p50, p90: Number.NaN, p99: result.p99, max: Number.NaN },
      figures: {
        connections: HTTP_CONNECTIONS,
        non2xx: result.non2xx,
        errors: result.errors,
        ...result.statusFigures,
      },
    };
  } finally {
    await server.stop();
    server.cleanup();
  }
}
