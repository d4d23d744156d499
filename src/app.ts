// The server: the in-process core (core.ts) behind uWS's HTTP and WebSocket transports.

import type { TemplatedApp, us_listen_socket } from "uWebSockets.js";
import { type ClusterNode, startClusterNode } from "./cluster/node.js";
import type { Config } from "./config.js";
import { buildCore } from "./core.js";
import { withCors } from "./http/cors.js";
import { withHead } from "./http/head.js";
import { withHeadLimit } from "./http/headLimit.js";
import { registerHttpRoutes } from "./http/routes.js";
import { registerWebRoutes } from "./http/web.js";
import type { Logger } from "./log.js";
import { MAX_REQUEST_HEAD_BYTES, uwsChoice } from "./uws.js";
import { publishSeats, QueuePushes } from "./ws/pushes.js";
import { registerWebSocket } from "./ws/routes.js";
import { localSessions } from "./ws/sessions.js";

export interface RunningApp {
  port: number;
  /** Stops accepting, finishes in-flight work, closes sockets and the database. */
  close(): Promise<void>;
}

export interface AppOptions {
  /** A commit failed: memory and disk disagree, so the process must stop (main exits). */
  onFatal: (error: unknown) => void;
}

/** What the transports need of the server behind them: one process's core, or a cluster node. */
type Served = Pick<
  ClusterNode,
  "dispatcher" | "metrics" | "authenticator" | "perAddress" | "sessions" | "problem" | "close"
>;

/** The single server: its core (core.ts), its seat diffs to the uWS topics, its rooms' pushes to the sockets. */
async function singleServer(config: Config, log: Logger, app: TemplatedApp, options: AppOptions): Promise<Served> {
  const core = await buildCore(config, log, {
    onFatal: options.onFatal,
    publishSeats: (diff) => publishSeats(app, diff),
    queueHooks: new QueuePushes(),
  });
  return { ...core, sessions: localSessions(core.actors.rooms), problem: () => core.storage.problem() };
}

export async function startApp(config: Config, log: Logger, options: AppOptions): Promise<RunningApp> {
  const { uws: uWS, build, upstreamRefused } = uwsChoice();
  const runtime = {
    node: process.versions.node,
    uws: build,
    maxRequestHeadBytes: MAX_REQUEST_HEAD_BYTES,
    ...(upstreamRefused ? { upstreamRefused } : {}),
  };
  // Node 20 left its support in April 2026: kept only for systems too old for upstream's build
  // (glibc before 2.38), where the Node 20 build of uWS is the one that loads.
  if (Number(process.versions.node.split(".")[0]) < 22) {
    log.warn(
      runtime,
      "running on Node.js 20, which no longer gets security fixes: use Node.js 24 LTS where the system allows it (glibc 2.38 or later)",
    );
  } else log.info(runtime, "uWebSockets.js loaded");
  const native = uWS.App();
  // Upstream uWS enforces the request head limit itself (uws.ts); the Node 20 build needs our check.
  const app = build === "node20 v20.30.0" ? withHeadLimit(native, MAX_REQUEST_HEAD_BYTES) : native;
  const core =
    config.cluster === undefined
      ? await singleServer(config, log, app, options)
      : await startClusterNode(config, log, app);
  const { dispatcher, metrics } = core;
  let requestCounter = 0;
  const nextRequestId = () => `r${(++requestCounter).toString(36)}`;
  registerWebSocket(app, {
    dispatcher,
    authenticator: core.authenticator,
    perAddress: core.perAddress,
    sessions: core.sessions,
    trustProxy: config.trustProxy,
    maxFrameBytes: config.maxFrameBytes,
    nextRequestId,
    rateLimit: config.rateLimit,
    maxConnectionsPerUser: config.wsMaxConnectionsPerUser,
    maxBackpressureBytes: config.wsMaxBackpressureBytes,
    corsOrigins: config.corsOrigins,
  });
  // Every GET route below also answers HEAD; with CORS_ORIGINS, every reply carries CORS headers.
  const routes = withHead(withCors(app, config.corsOrigins));
  registerHttpRoutes(routes, {
    dispatcher,
    metrics,
    maxBodyBytes: config.maxBodyBytes,
    adminMaxBodyBytes: config.adminMaxBodyBytes,
    bodyTimeoutMs: config.bodyTimeoutMs,
    maxInflightBodies: config.maxInflightBodies,
    trustProxy: config.trustProxy,
    limitsPerAddress: config.rateLimitPerIp.perSecond > 0,
    metricsToken: config.metricsToken,
    nextRequestId,
    storageProblem: () => core.problem(),
  });
  registerWebRoutes(routes, { serveSourceMaps: !config.production });

  const listenSocket = await new Promise<us_listen_socket>((done, fail) => {
    app.listen(config.host, config.port, (socket) => {
      if (socket) done(socket);
      else fail(new Error(`cannot listen on ${config.host}:${config.port}`));
    });
  }).catch(async (error) => {
    await core.close();
    throw error;
  });
  const port = uWS.us_socket_local_port(listenSocket);
  const shownHost = config.host === "0.0.0.0" ? "127.0.0.1" : config.host;
  // The contract promises this line whatever LOG_LEVEL says.
  log.child({}, { level: "info" }).info({ port, url: `http://${shownHost}:${port}` }, "listening");

  let closed: Promise<void> | null = null;
  return {
    port,
    close() {
      closed ??= (async () => {
        dispatcher.closing = true;
        uWS.us_listen_socket_close(listenSocket);
        await core.close();
        // Let replies of the last commit go out before the sockets close.
        await new Promise((done) => setImmediate(done));
        // close() exists on the native app but not in this build's type declarations.
        (native as unknown as { close(): void }).close();
        log.info("closed");
      })();
      return closed;
    },
  };
}
