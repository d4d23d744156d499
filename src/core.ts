// The server without its sockets: storage, group commit, actors and the dispatcher every request
// goes through. app.ts puts uWS in front of it; tests drive it in process (tests/helpers/core.ts).
import { type Actors, createActors } from "./actors/index.js";
import type { QueueHooks } from "./actors/queue.js";
import type { SeatDiff } from "./actors/schedule.js";
import { Dispatcher, type Router } from "./api/dispatch.js";
import { AddressLimiter } from "./api/rateLimit.js";
import { createAdminAuthenticator } from "./auth/admin.js";
import { type Authenticator, createAuthenticator } from "./auth/users.js";
import type { Config } from "./config.js";
import type { Logger } from "./log.js";
import { Metrics } from "./metrics.js";
import { projectPath } from "./projectPath.js";
import { CommitQueue } from "./store/commitQueue.js";
import { openStorage, type Storage } from "./store/openStorage.js";
import { seedDemoCatalog } from "./store/seed.js";
import type { Writer } from "./store/writer.js";

export interface CoreOptions {
  /** A commit failed: memory and disk disagree, so the process must stop (main exits). */
  onFatal: (error: unknown) => void;
  /** Where seat diffs go (app.ts: the WebSocket topics). */
  publishSeats?: (diff: SeatDiff) => void;
  /** What the waiting room tells the connections that follow a token (app.ts: WebSocket pushes). */
  queueHooks?: QueueHooks;
}

export interface Core {
  config: Config;
  log: Logger;
  storage: Storage;
  commits: CommitQueue;
  actors: Actors;
  dispatcher: Dispatcher;
  metrics: Metrics;
  authenticator: Authenticator;
  /** One budget per client address for what costs before anyone is known (RATE_LIMIT_PER_IP). */
  perAddress: AddressLimiter;
  /** Refuses new work, stops the actors' timers, commits what was decided, closes the database. */
  close(): Promise<void>;
}

/** Opens the storage (a StartupError refuses it), restores every actor and builds the request path. */
export async function buildCore(config: Config, log: Logger, options: CoreOptions): Promise<Core> {
  // Takes the storage's lock and checks the data before anything is served.
  const storage = await openStorage(config, log);
  let writer: Writer | undefined;
  try {
    const { store } = storage;
    if (config.seedDemo) {
      const seeded = await seedDemoCatalog(store, projectPath("data", "demo-catalog.json"), Date.now());
      if (seeded > 0) log.info({ concerts: seeded }, "demo catalog loaded");
    }
    const metrics = new Metrics();
    writer = await storage.openWriter();
    const commits = new CommitQueue(store, writer, {
      onCommit: (seconds, writes) => metrics.commit(seconds, writes),
      checkStorage: () => {
        const problem = storage.problem();
        if (problem !== undefined) throw new Error(`${problem} while the server was running`);
      },
      onFatal: (error) => {
        log.fatal({ err: error }, "commit failed; stopping so that a restart rebuilds state from disk");
        options.onFatal(error);
      },
    });
    // PostgreSQL gone while nothing commits: stop now rather than answer reads with errors.
    storage.onLost?.((problem) => {
      log.fatal({ problem }, "storage lost; stopping so that a restart rebuilds state from the database");
      options.onFatal(new Error(problem));
    });
    const restoring = performance.now();
    const state = await store.reads.startupState();
    log.info({ store: storage.kind, readMs: Math.round(performance.now() - restoring) }, "state read");
    const actors = createActors({
      config,
      store,
      state,
      commits,
      log,
      publishSeats: options.publishSeats ?? (() => {}),
      queueHooks: options.queueHooks,
    });
    metrics.watch(actors);
    const { authenticator, perAddress, dispatcher } = buildRequestPath(config, log, metrics, actors);
    const openWriter = writer;
    let closed: Promise<void> | null = null;
    return {
      config,
      log,
      storage,
      commits,
      actors,
      dispatcher,
      metrics,
      authenticator,
      perAddress,
      close() {
        closed ??= (async () => {
          dispatcher.closing = true;
          // No timer may start new writes now; what was decided before is still committed.
          actors.stop();
          await commits.whenIdle();
          await openWriter.close();
          await storage.close();
        })();
        return closed;
      },
    };
  } catch (error) {
    await writer?.close();
    await storage.close();
    throw error;
  }
}

/**
 * What every request passes through before an op runs: authentication (users and the admin),
 * the per-address budget and the dispatcher, over `actors` (a cluster node: none of its own, and
 * a `router` that sends each op where it runs).
 */
export function buildRequestPath(
  config: Config,
  log: Logger,
  metrics: Metrics,
  actors: Actors,
  router?: Router,
): { authenticator: Authenticator; perAddress: AddressLimiter; dispatcher: Dispatcher } {
  const authenticator = createAuthenticator({
    secret: config.authSecret,
    devLogin: config.devLogin,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    maxLifetimeSeconds: config.auth.maxLifetimeSeconds,
  });
  const perAddress = new AddressLimiter(config.rateLimitPerIp);
  const dispatcher = new Dispatcher({
    actors,
    router,
    config,
    authenticator,
    authenticateAdmin: createAdminAuthenticator(config.adminToken),
    perAddress,
    metrics,
    log,
  });
  return { authenticator, perAddress, dispatcher };
}
