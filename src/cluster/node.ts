// A cluster node (NATS_URL with DATABASE_URL; docs/cluster.md): the request path of app.ts over
// the parts of src/cluster/. It is a gateway for its own sockets (gateway.ts), the owner of the
// rooms rendezvous hashing gives it (ownership.ts, ownedRooms.ts), and runs the user's own ops
// against PostgreSQL (gatewayOps.ts); routing.ts decides which op goes where.
import type { TemplatedApp } from "uWebSockets.js";
import { IdempotencyRecords } from "../actors/idempotency.js";
import type { Actors } from "../actors/index.js";
import type { Dispatcher } from "../api/dispatch.js";
import type { AddressLimiter } from "../api/rateLimit.js";
import type { Authenticator } from "../auth/users.js";
import type { Config } from "../config.js";
import { buildRequestPath } from "../core.js";
import type { Logger } from "../log.js";
import { Metrics } from "../metrics.js";
import { projectPath } from "../projectPath.js";
import { StartupError } from "../startupError.js";
import { connect, type Sql } from "../store/postgres/connect.js";
import { openIdBlocks } from "../store/postgres/idBlocks.js";
import { openPostgresStorage } from "../store/postgres/open.js";
import { seedDemoCatalog } from "../store/seed.js";
import { QueuePushes } from "../ws/pushes.js";
import type { SessionHost } from "../ws/sessions.js";
import { type Bus, connectBus } from "./bus.js";
import { Directory } from "./directory.js";
import { Followers, type PresenceReport } from "./followers.js";
import { Gateway } from "./gateway.js";
import { nodeOps } from "./gatewayOps.js";
import { Leases } from "./leases.js";
import { MoneyDesk } from "./money.js";
import { OwnedRooms } from "./ownedRooms.js";
import { Ownership } from "./ownership.js";
import { ClusterPayments } from "./payments.js";
import { type RoomRequest, Routing } from "./routing.js";
import { subjects } from "./subjects.js";

export interface ClusterNode {
  dispatcher: Dispatcher;
  metrics: Metrics;
  authenticator: Authenticator;
  perAddress: AddressLimiter;
  sessions: SessionHost;
  /** Why this node cannot serve now (for /healthz), or undefined. */
  problem(): string | undefined;
  /** Gives every room up (the others take them at once), then closes NATS and PostgreSQL. */
  close(): Promise<void>;
}

/** How often locks of holds whose payment outcome never came are settled from PostgreSQL. */
const LAPSED_LOCKS_EVERY_MS = 1000;

/**
 * Ops on a cluster node never reach a single server's actors: the rooms' actors are on their
 * owners (routing.ts). Anything that still asks for them is a bug, and says so.
 */
const NO_LOCAL_ACTORS = new Proxy({} as Actors, {
  get(_target, name) {
    throw new Error(`a cluster node has no local actors (asked for ${String(name)})`);
  },
});

export async function startClusterNode(config: Config, log: Logger, app: TemplatedApp): Promise<ClusterNode> {
  const cluster = config.cluster!;
  const { nodeId } = cluster;
  const storage = await openPostgresStorage(config, log, { shared: true });
  const shared = storage.shared!;
  const { store } = storage;
  let bus: Bus | undefined;
  // The ownership loop's statements on a connection of their own: in the shared pool they queued
  // behind the node's charges and payments, and a burst of those delayed its renewals past the
  // leases' local deadline, so a node busy with payments gave its rooms up (the cluster
  // benchmark's flash on-sale, BENCHMARKS.md).
  let leaseSql: Sql | undefined;
  try {
    if (config.seedDemo) {
      const seeded = await seedDemoCatalog(store, projectPath("data", "demo-catalog.json"), Date.now());
      if (seeded > 0) log.info({ concerts: seeded }, "demo catalog loaded");
    }
    const ids = await openIdBlocks(shared.sql);
    bus = await connectBus({
      url: cluster.natsUrl,
      nodeId,
      log,
      connectTimeoutSeconds: config.databaseConnectTimeoutSeconds,
    });
    const metrics = new Metrics();
    const directory = new Directory(shared.reads);
    await directory.reload();
    leaseSql = connect(shared.url, { max: 1, idleInTransactionMs: config.clusterLeaseMs });
    const leases = new Leases(leaseSql);
    const desk = new MoneyDesk(shared.sql, log);
    const openBus = bus;

    // Rooms served here, and what answers their NATS subject while they are.
    const serving = new Map<number, () => void>();
    let ownership: Ownership | undefined;
    let routing: Routing | undefined;
    const gateway = new Gateway({
      bus: openBus,
      nodeId,
      app,
      queuePushes: new QueuePushes(),
      log,
      presenceIntervalMs: presenceInterval(config),
    });
    const rooms: OwnedRooms = new OwnedRooms({
      config,
      log,
      nodeId,
      store,
      postgres: shared,
      ids,
      publishSeats: (diff) => openBus.publish(subjects.seats(diff.scheduleId), diff),
      queueHooks: {
        push: (listener, update) => followers.push(listener, update),
      },
      onWriteFailed: (room, epoch) => ownership?.giveUp(room, epoch),
      onServing: (room, on) => {
        serving.get(room)?.();
        serving.delete(room);
        if (on)
          serving.set(
            room,
            openBus.serve(subjects.actor(room), (payload) => routing!.serve(room, payload as RoomRequest)),
          );
      },
      onCommit: (seconds, writes) => metrics.commit(seconds, writes),
    });
    // Each node reports its own rooms' share (a gateway-only node: zeros).
    metrics.watch(() => rooms.all().map((owned) => owned.actors));
    const followers = new Followers(openBus, () => rooms.all().map((owned) => owned.actors.rooms.all()), log, {
      nodeId: gateway.id,
      deliver: (pushes) => gateway.deliver(pushes),
    });
    const idempotency = new IdempotencyRecords(store, {
      maxRecordsPerUser: config.idempotencyMaxPerUser,
      rate: config.moneyRate,
    });
    const catalogChanged = async () => {
      await directory.reload();
      openBus.publish(subjects.catalog, { node: nodeId });
      void ownership?.tick();
    };
    routing = new Routing({ nodeId, config, bus: openBus, rooms, followers, gateway, directory, reads: shared.reads });
    const payments = new ClusterPayments({ desk, reads: shared.reads, directory, routing, ids, log });
    routing.setNodeOps(
      nodeOps({ desk, payments, idempotency, reads: shared.reads, store, directory, routing, ids, catalogChanged }),
    );

    ownership = new Ownership({
      leases,
      nodeId,
      owns: cluster.owns,
      concerts: () => directory.rooms(),
      ttlMs: config.clusterLeaseMs,
      clock: "database",
      log,
      onGained: (room, epoch) =>
        rooms.gain(room, epoch).catch((error) => {
          log.error({ err: error, room, epoch }, "could not rebuild a room; giving it up");
          ownership?.giveUp(room, epoch);
        }),
      onLost: (room, epoch) => rooms.lose(room, epoch),
    });

    const unsubscribes = [
      openBus.subscribe(subjects.presence, (report) => followers.report(report as PresenceReport, Date.now())),
      openBus.subscribe(subjects.catalog, (message) => {
        if ((message as { node?: string }).node === nodeId) return;
        directory.reload().then(
          () => ownership?.tick(),
          (error) => log.warn({ err: error }, "catalog not read again"),
        );
      }),
    ];
    const timers = [
      setInterval(() => followers.sweep(Date.now(), presenceInterval(config)), presenceInterval(config)),
      setInterval(() => {
        for (const owned of rooms.all()) {
          owned.actors.reservations.settleLapsed(Date.now()).then(
            (sold) => {
              for (const [userId, { concerts, lockedAt }] of sold) {
                owned.actors.rooms.endFor(userId, concerts, Date.now(), lockedAt);
              }
            },
            (error) => log.warn({ err: error, room: owned.room }, "lapsed payment locks not settled"),
          );
        }
      }, LAPSED_LOCKS_EVERY_MS),
      setInterval(
        () => {
          store
            .writeNow(() => idempotency.prune(Date.now())())
            .catch((error) => log.warn({ err: error }, "prune failed"));
        },
        60 * 60 * 1000,
      ),
    ];
    for (const timer of timers) timer.unref();

    const { authenticator, perAddress, dispatcher } = buildRequestPath(
      config,
      log,
      metrics,
      NO_LOCAL_ACTORS,
      routing.route,
    );
    gateway.start();
    await ownership.start();
    log.info({ node: nodeId, owns: cluster.owns, rooms: directory.rooms().length }, "cluster node started");

    let closed: Promise<void> | null = null;
    return {
      dispatcher,
      metrics,
      authenticator,
      perAddress,
      sessions: gateway,
      problem: () => undefined,
      close() {
        closed ??= (async () => {
          dispatcher.closing = true;
          for (const timer of timers) clearInterval(timer);
          for (const unsubscribe of unsubscribes) unsubscribe();
          await ownership!.stop();
          await leaseSql?.end({ timeout: 5 });
          await rooms.closeAll();
          gateway.stop();
          ids.close();
          await openBus.close();
          await storage.close();
        })();
        return closed;
      },
    };
  } catch (error) {
    await bus?.close().catch(() => {});
    await leaseSql?.end({ timeout: 5 }).catch(() => {});
    await storage.close();
    if (error instanceof StartupError) throw error;
    throw new StartupError(`cannot start the cluster node ${nodeId}: ${(error as Error).message}`, 1);
  }
}

/**
 * How often gateways report what their sockets follow: well within the time a waiting token may
 * stay unseen, so that a room that moved learns its followers before any of them goes idle.
 */
function presenceInterval(config: Config): number {
  return Math.max(100, Math.min(5000, Math.floor(config.queue.waitingIdleMs / 4)));
}
