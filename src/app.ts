// Builds the server from a Config: database, actors, transports; and closes it in order.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createActors } from "./actors/index.js";
import type { SeatDiff } from "./actors/schedule.js";
import { Dispatcher } from "./api/dispatch.js";
import { AddressLimiter } from "./api/rateLimit.js";
import { createAdminAuthenticator } from "./auth/admin.js";
import { createAuthenticator } from "./auth/users.js";
import type { Config } from "./config.js";
import { withCors } from "./http/cors.js";
import { withHead } from "./http/head.js";
import { registerHttpRoutes } from "./http/routes.js";
import { registerWebRoutes } from "./http/web.js";
import type { Logger } from "./log.js";
import { Metrics } from "./metrics.js";
import { CommitQueue } from "./store/commitQueue.js";
import { openStorage } from "./store/openStorage.js";
import { seedDemoCatalog } from "./store/seed.js";
import { WriterThread } from "./store/writerThread.js";
import { InlineWriter } from "./store/writes.js";
import { assertNativeUws, uWS } from "./uws.js";
import { publishSeats, QueuePushes } from "./ws/pushes.js";
import { registerWebSocket } from "./ws/routes.js";

export interface RunningApp {
  port: number;
  /** Stops accepting, finishes in-flight work, closes sockets and the database. */
  close(): Promise<void>;
}

export interface AppOptions {
  /** A commit failed: memory and disk disagree, so the process must stop (main exits). */
  onFatal: (error: unknown) => void;
}

function demoCatalogFile(): string {
  // dist/src/app.js and src/app.ts both sit below the project root, at different depths.
  for (const relative of ["../data/demo-catalog.json", "../../data/demo-catalog.json"]) {
    const file = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(file)) return file;
  }
  throw new Error("data/demo-catalog.json not found");
}

export async function startApp(config: Config, log: Logger, options: AppOptions): Promise<RunningApp> {
  assertNativeUws();
  // Takes DATA_DIR's lock and checks the data before anything is served (a StartupError refuses).
  const storage = openStorage(config, log);
  const { db, store } = storage;
  if (config.seedDemo) {
    const seeded = seedDemoCatalog(store, demoCatalogFile(), Date.now());
    if (seeded > 0) log.info({ concerts: seeded }, "demo catalog loaded");
  }
  const metrics = new Metrics();
  // With fsync on every commit, commits leave the event loop for a writer thread (which opens
  // its own connection now that the schema is up to date); without, they run in place.
  const writer =
    config.durability === "full" ? await WriterThread.start(config.dataDir, config.durability) : new InlineWriter(db);
  const commits = new CommitQueue(store, writer, {
    onCommit: (seconds, writes) => metrics.commit(seconds, writes),
    checkStorage: () => storage.identity.assertUnchanged(),
    onFatal: (error) => {
      log.fatal({ err: error }, "commit failed; stopping so that a restart rebuilds state from disk");
      options.onFatal(error);
    },
  });
  const app = uWS.App();
  const actors = createActors({
    config,
    store,
    commits,
    log,
    publishSeats: (diff: SeatDiff) => publishSeats(app, diff),
  });
  metrics.watch(actors);

  const authenticator = createAuthenticator({
    secret: config.authSecret,
    devLogin: config.devLogin,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    maxLifetimeSeconds: config.auth.maxLifetimeSeconds,
  });
  // One budget per client address for what costs before anyone is known: failed
  // authentications, WebSocket upgrades and dev logins.
  const perAddress = new AddressLimiter(config.rateLimitPerIp);
  const dispatcher = new Dispatcher({
    actors,
    config,
    authenticator,
    authenticateAdmin: createAdminAuthenticator(config.adminToken),
    perAddress,
    metrics,
    log,
  });
  let requestCounter = 0;
  const nextRequestId = () => `r${(++requestCounter).toString(36)}`;
  const queuePushes = new QueuePushes(actors.queue);
  actors.queue.setHooks({
    onTokenChange: (token, change) => queuePushes.tokenChanged(token, change),
    onTick: () => queuePushes.positionsMoved(config.queue.tickMs),
  });
  registerWebSocket(app, {
    dispatcher,
    authenticator,
    perAddress,
    trustProxy: config.trustProxy,
    queuePushes,
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
    bodyTimeoutMs: config.bodyTimeoutMs,
    maxInflightBodies: config.maxInflightBodies,
    trustProxy: config.trustProxy,
    metricsToken: config.metricsToken,
    nextRequestId,
    storageProblem: () => storage.identity.problem(),
  });

  registerWebRoutes(routes, { serveSourceMaps: !config.production });

  const listenSocket = await new Promise<uWS.us_listen_socket>((done, fail) => {
    app.listen(config.host, config.port, (socket) => {
      if (socket) done(socket);
      else fail(new Error(`cannot listen on ${config.host}:${config.port}`));
    });
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
        // No timer may start new writes now; what was decided before is still committed.
        actors.stop();
        await commits.whenIdle();
        await writer.close();
        // Let replies of the last commit go out before the sockets close.
        await new Promise((done) => setImmediate(done));
        // close() exists on the native app but not in this build's type declarations.
        (app as unknown as { close(): void }).close();
        storage.close();
        log.info("closed");
      })();
      return closed;
    },
  };
}
