// Reads and validates the environment once; everything else receives a Config.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { z } from "zod";

const integer = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const flag = (fallback: boolean) =>
  z
    .enum(["0", "1", "true", "false"])
    .default(fallback ? "1" : "0")
    .transform((value) => value === "1" || value === "true");

/** CORS_ORIGINS: comma-separated exact origins, as browsers send them (lower-case, no default port, no path). */
const origins = z
  .string()
  .optional()
  .transform((value, context) => {
    const list = (value ?? "")
      .split(",")
      .map((origin) => origin.trim())
      .filter((origin) => origin !== "");
    for (const origin of list) {
      let exact: string | undefined;
      try {
        const url = new URL(origin);
        if (url.protocol === "http:" || url.protocol === "https:") exact = url.origin;
      } catch {}
      if (exact !== origin) {
        const hint = exact === undefined ? "" : ` (did you mean ${exact}?)`;
        context.addIssue(`"${origin}" is not an exact origin like https://shop.example${hint}`);
      }
    }
    return list;
  });

const envSchema = z.object({
  PORT: integer(8080, 0, 65535),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATA_DIR: z.string().min(1).default("./data"),
  AUTH_SECRET: z.string().min(16, "AUTH_SECRET must be at least 16 characters").optional(),
  ADMIN_TOKEN: z.string().min(16, "ADMIN_TOKEN must be at least 16 characters").optional(),
  NODE_ENV: z.string().optional(),
  SEED_DEMO: flag(true),
  // Unset: follows SEED_DEMO (outside production). The demo page's sign-in (POST /v1/dev/login).
  DEV_LOGIN: z.enum(["0", "1", "true", "false"]).optional(),
  // Keep all state in PostgreSQL rather than SQLite in DATA_DIR (docs/postgres.md).
  DATABASE_URL: z
    .string()
    .optional()
    .transform((value) => (value === "" ? undefined : value))
    .refine(
      (value) => value === undefined || /^postgres(ql)?:\/\/./.test(value),
      "DATABASE_URL must be a postgres:// or postgresql:// URL",
    ),
  // How long a start waits for PostgreSQL to answer before it gives up (exit 1).
  DATABASE_CONNECT_TIMEOUT_S: integer(30, 0, 3600),
  // Join a cluster of nodes through NATS (docs/cluster.md); needs DATABASE_URL.
  NATS_URL: z
    .string()
    .optional()
    .refine(
      (value) => value === undefined || /^(nats|tls):\/\/./.test(value),
      "NATS_URL must be a nats:// or tls:// URL (several separated by commas)",
    ),
  // This node's name in the cluster (default: host name and port).
  NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_:-]{1,64}$/, "NODE_ID must be 1 to 64 letters, digits or _ : - (it is part of NATS subjects)")
    .optional(),
  // 0: a gateway-only node that owns no concert.
  NODE_OWNS: flag(true),
  // How long a node's lease on a room lasts unrenewed: about how long a dead owner's rooms answer 503.
  CLUSTER_LEASE_MS: integer(6000, 300, 600_000),
  // Refuse to create a fresh database where a marker says one existed (see store/databaseFile.ts).
  ALLOW_NEW_DATABASE: flag(false),
  // Below this much free space in DATA_DIR at start, the server says the disk is full and exits.
  DISK_MIN_FREE_BYTES: integer(1024 * 1024, 0),
  QUEUE_ACTIVE_MAX: integer(1000, 1),
  QUEUE_ACTIVE_TTL_MS: integer(600_000, 1),
  QUEUE_WAITING_IDLE_MS: integer(60_000, 1),
  QUEUE_TICK_MS: integer(1000, 10),
  QUEUE_WAITING_MAX: integer(1_000_000, 1),
  HOLD_TTL_MS: integer(300_000, 1),
  MAX_HOLDS_PER_USER: integer(4, 1, 1_000_000),
  CHARGE_MAX: integer(10_000_000, 1),
  BALANCE_MAX: integer(1_000_000_000, 1),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  MAX_BODY_BYTES: integer(65_536, 256, 16 * 1024 * 1024),
  ADMIN_MAX_BODY_BYTES: integer(1024 * 1024, 256, 16 * 1024 * 1024),
  MAX_FRAME_BYTES: integer(65_536, 256, 1024 * 1024),
  DURABILITY: z.enum(["normal", "full"]).default("normal"),
  SEAT_DIFF_INTERVAL_MS: integer(20, 1, 10_000),
  // Abuse limits (0 disables a rate limit); defaults sit far above what one honest user does.
  RATE_LIMIT_PER_SECOND: integer(1000, 0),
  RATE_LIMIT_BURST: integer(2000, 1),
  // Per client address: failed authentications, WebSocket upgrades, dev logins, new queue tokens.
  RATE_LIMIT_PER_IP: integer(100, 0),
  RATE_LIMIT_PER_IP_BURST: integer(200, 1),
  // X-Forwarded-For is believed (its rightmost entry) only behind a proxy that sets it.
  TRUST_PROXY: flag(false),
  // Charges and payments per user (replays of a stored idempotency key are free).
  MONEY_RATE_PER_SECOND: integer(10, 0),
  MONEY_RATE_BURST: integer(20, 1),
  IDEMPOTENCY_MAX_PER_USER: integer(10_000, 1),
  // HTTP bodies being received at once, over every connection; one more is 503.
  MAX_INFLIGHT_BODIES: integer(1024, 1),
  WS_MAX_CONNECTIONS_PER_USER: integer(32, 1),
  WS_MAX_BACKPRESSURE_BYTES: integer(1024 * 1024, 1024),
  BODY_TIMEOUT_MS: integer(10_000, 10),
  METRICS_TOKEN: z.string().min(16, "METRICS_TOKEN must be at least 16 characters").optional(),
  AUTH_ISSUER: z.string().min(1).max(256).optional(),
  AUTH_AUDIENCE: z.string().min(1).max(256).optional(),
  AUTH_MAX_TOKEN_LIFETIME_S: z.coerce.number().int().min(1).optional(),
  CORS_ORIGINS: origins,
});

/** Every environment variable the configuration reads (compose.yaml's test checks the nodes set no other). */
export const ENV_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  authSecret: string;
  adminToken: string;
  /** NODE_ENV=production: dev login can never be on. */
  production: boolean;
  seedDemo: boolean;
  /** POST /v1/dev/login mints `demo:<name>` JWTs: demo only, never in production. */
  devLogin: boolean;
  allowNewDatabase: boolean;
  /** PostgreSQL's URL when it holds the state (DATABASE_URL); SQLite in dataDir otherwise. */
  databaseUrl: string | undefined;
  /** DATABASE_CONNECT_TIMEOUT_S: how long a start retries connecting to PostgreSQL. */
  databaseConnectTimeoutSeconds: number;
  /** Cluster mode (NATS_URL with DATABASE_URL): this node's part in it; undefined for one server. */
  cluster: { natsUrl: string; nodeId: string; owns: boolean } | undefined;
  /** CLUSTER_LEASE_MS: a room's lease; renewed every third of it, so an owner's death is noticed within it. */
  clusterLeaseMs: number;
  diskMinFreeBytes: number;
  queue: { activeMax: number; activeTtlMs: number; waitingIdleMs: number; tickMs: number; waitingMax: number };
  holdTtlMs: number;
  maxHoldsPerUser: number;
  chargeMax: number;
  balanceMax: number;
  logLevel: string;
  maxBodyBytes: number;
  /** The body limit of admin ops (a concert with its venues); never below maxBodyBytes. */
  adminMaxBodyBytes: number;
  maxFrameBytes: number;
  durability: "normal" | "full";
  seatDiffIntervalMs: number;
  /** Token bucket per user (all requests) and per WebSocket connection (all frames). */
  rateLimit: { perSecond: number; burst: number };
  /** Token bucket per client address for what costs before anyone is known (0 turns it off). */
  rateLimitPerIp: { perSecond: number; burst: number };
  trustProxy: boolean;
  /** Token bucket per user for charges and payments that do work. */
  moneyRate: { perSecond: number; burst: number };
  idempotencyMaxPerUser: number;
  maxInflightBodies: number;
  wsMaxConnectionsPerUser: number;
  wsMaxBackpressureBytes: number;
  bodyTimeoutMs: number;
  /** When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  metricsToken: string | undefined;
  /** Optional checks of user JWTs: `iss`, `aud`, and how far in the future `exp` may be. */
  auth: { issuer: string | undefined; audience: string | undefined; maxLifetimeSeconds: number | undefined };
  /** Origins of other sites' pages that may call the API (CORS) and open WebSockets; empty: same-origin only. */
  corsOrigins: readonly string[];
}

export class ConfigError extends Error {}

/** DATA_DIR as an absolute path (unset or blank: ./data); creates nothing and generates no secret, so tools share it. */
export function dataDirFrom(env: NodeJS.ProcessEnv): string {
  return resolve(envSchema.shape.DATA_DIR.parse(env.DATA_DIR === "" ? undefined : env.DATA_DIR));
}

/** Parses `env`; secrets that are not given are generated once into DATA_DIR and reused. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const blankToUndefined = Object.fromEntries(
    Object.entries(env).map(([key, value]) => [key, value === "" ? undefined : value]),
  );
  const parsed = envSchema.safeParse(blankToUndefined);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`bad configuration: ${problems.join("; ")}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === "production";
  const devLoginAsked = e.DEV_LOGIN === undefined ? undefined : e.DEV_LOGIN === "1" || e.DEV_LOGIN === "true";
  if (production && devLoginAsked === true) {
    throw new ConfigError("bad configuration: DEV_LOGIN=1 is not allowed with NODE_ENV=production");
  }
  if (e.NATS_URL !== undefined) {
    // Every node must accept the same tokens, and no node may invent its own secrets.
    const missing = [
      e.DATABASE_URL === undefined ? "DATABASE_URL (the nodes share PostgreSQL)" : undefined,
      e.AUTH_SECRET === undefined ? "AUTH_SECRET (shared by every node)" : undefined,
      e.ADMIN_TOKEN === undefined ? "ADMIN_TOKEN (shared by every node)" : undefined,
    ].filter((name) => name !== undefined);
    if (missing.length > 0) {
      throw new ConfigError(`bad configuration: NATS_URL (cluster mode) needs ${missing.join(", ")}`);
    }
  } else if (e.NODE_ID !== undefined || env.NODE_OWNS !== undefined) {
    throw new ConfigError("bad configuration: NODE_ID and NODE_OWNS need NATS_URL (cluster mode)");
  }
  const dataDir = dataDirFrom(env);
  mkdirSync(dataDir, { recursive: true });
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    authSecret: e.AUTH_SECRET ?? generatedSecret(dataDir, "auth_secret"),
    adminToken: e.ADMIN_TOKEN ?? generatedSecret(dataDir, "admin_token"),
    production,
    seedDemo: e.SEED_DEMO,
    devLogin: !production && (devLoginAsked ?? e.SEED_DEMO),
    allowNewDatabase: e.ALLOW_NEW_DATABASE,
    databaseUrl: e.DATABASE_URL,
    databaseConnectTimeoutSeconds: e.DATABASE_CONNECT_TIMEOUT_S,
    cluster:
      e.NATS_URL === undefined
        ? undefined
        : { natsUrl: e.NATS_URL, nodeId: e.NODE_ID ?? defaultNodeId(e.PORT), owns: e.NODE_OWNS },
    clusterLeaseMs: e.CLUSTER_LEASE_MS,
    diskMinFreeBytes: e.DISK_MIN_FREE_BYTES,
    queue: {
      activeMax: e.QUEUE_ACTIVE_MAX,
      activeTtlMs: e.QUEUE_ACTIVE_TTL_MS,
      waitingIdleMs: e.QUEUE_WAITING_IDLE_MS,
      tickMs: e.QUEUE_TICK_MS,
      waitingMax: e.QUEUE_WAITING_MAX,
    },
    holdTtlMs: e.HOLD_TTL_MS,
    maxHoldsPerUser: e.MAX_HOLDS_PER_USER,
    chargeMax: e.CHARGE_MAX,
    balanceMax: e.BALANCE_MAX,
    logLevel: e.LOG_LEVEL,
    maxBodyBytes: e.MAX_BODY_BYTES,
    adminMaxBodyBytes: Math.max(e.ADMIN_MAX_BODY_BYTES, e.MAX_BODY_BYTES),
    maxFrameBytes: e.MAX_FRAME_BYTES,
    durability: e.DURABILITY,
    seatDiffIntervalMs: e.SEAT_DIFF_INTERVAL_MS,
    rateLimit: { perSecond: e.RATE_LIMIT_PER_SECOND, burst: e.RATE_LIMIT_BURST },
    rateLimitPerIp: { perSecond: e.RATE_LIMIT_PER_IP, burst: e.RATE_LIMIT_PER_IP_BURST },
    trustProxy: e.TRUST_PROXY,
    moneyRate: { perSecond: e.MONEY_RATE_PER_SECOND, burst: e.MONEY_RATE_BURST },
    idempotencyMaxPerUser: e.IDEMPOTENCY_MAX_PER_USER,
    maxInflightBodies: e.MAX_INFLIGHT_BODIES,
    wsMaxConnectionsPerUser: e.WS_MAX_CONNECTIONS_PER_USER,
    wsMaxBackpressureBytes: e.WS_MAX_BACKPRESSURE_BYTES,
    bodyTimeoutMs: e.BODY_TIMEOUT_MS,
    metricsToken: e.METRICS_TOKEN,
    auth: { issuer: e.AUTH_ISSUER, audience: e.AUTH_AUDIENCE, maxLifetimeSeconds: e.AUTH_MAX_TOKEN_LIFETIME_S },
    corsOrigins: e.CORS_ORIGINS,
  };
}

/** The host name and port (the process id when the port is chosen at random), in NODE_ID's alphabet. */
function defaultNodeId(port: number): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9_:-]/g, "-")
    .slice(0, 48);
  return `${host}:${port === 0 ? `pid${process.pid}` : port}`;
}

/** A random secret kept in DATA_DIR/secrets/<name> (mode 0600), created on first start. */
function generatedSecret(dataDir: string, name: string): string {
  const dir = join(dataDir, "secrets");
  const file = join(dir, name);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
