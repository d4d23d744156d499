// Reads and validates the environment once; everything else receives a Config.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";

const integer = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const flag = (fallback: boolean) =>
  z
    .enum(["0", "1", "true", "false"])
    .default(fallback ? "1" : "0")
    .transform((value) => value === "1" || value === "true");

const envSchema = z.object({
  PORT: integer(8080, 0, 65535),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATA_DIR: z.string().min(1).default("./data"),
  AUTH_SECRET: z.string().min(16, "AUTH_SECRET must be at least 16 characters").optional(),
  ADMIN_TOKEN: z.string().min(16, "ADMIN_TOKEN must be at least 16 characters").optional(),
  SEED_DEMO: flag(true),
  // Unset: follows SEED_DEMO. The dev-only JWT minting endpoint of the demo page (POST /v1/dev/login).
  DEV_LOGIN: z.enum(["0", "1", "true", "false"]).optional(),
  QUEUE_ACTIVE_MAX: integer(1000, 1),
  QUEUE_ACTIVE_TTL_MS: integer(600_000, 1),
  QUEUE_WAITING_IDLE_MS: integer(60_000, 1),
  QUEUE_TICK_MS: integer(1000, 10),
  HOLD_TTL_MS: integer(300_000, 1),
  MAX_HOLDS_PER_USER: integer(4, 1, 1_000_000),
  CHARGE_MAX: integer(10_000_000, 1),
  BALANCE_MAX: integer(1_000_000_000, 1),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  MAX_BODY_BYTES: integer(65_536, 256, 16 * 1024 * 1024),
  MAX_FRAME_BYTES: integer(65_536, 256, 1024 * 1024),
  DURABILITY: z.enum(["normal", "full"]).default("normal"),
  SEAT_DIFF_INTERVAL_MS: integer(20, 1, 10_000),
  // Abuse limits (0 disables a rate limit); defaults sit far above what one honest user does.
  RATE_LIMIT_PER_SECOND: integer(1000, 0),
  RATE_LIMIT_BURST: integer(2000, 1),
  WS_MAX_CONNECTIONS_PER_USER: integer(32, 1),
  WS_MAX_BACKPRESSURE_BYTES: integer(1024 * 1024, 1024),
  BODY_TIMEOUT_MS: integer(10_000, 10),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  authSecret: string;
  adminToken: string;
  seedDemo: boolean;
  /** POST /v1/dev/login mints user JWTs for any name: demo only. */
  devLogin: boolean;
  queue: { activeMax: number; activeTtlMs: number; waitingIdleMs: number; tickMs: number };
  holdTtlMs: number;
  maxHoldsPerUser: number;
  chargeMax: number;
  balanceMax: number;
  logLevel: string;
  maxBodyBytes: number;
  maxFrameBytes: number;
  durability: "normal" | "full";
  seatDiffIntervalMs: number;
  /** Token bucket per user (all requests) and per WebSocket connection (all frames). */
  rateLimit: { perSecond: number; burst: number };
  wsMaxConnectionsPerUser: number;
  wsMaxBackpressureBytes: number;
  bodyTimeoutMs: number;
}

export class ConfigError extends Error {}

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
  const dataDir = resolve(e.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    authSecret: e.AUTH_SECRET ?? generatedSecret(dataDir, "auth_secret"),
    adminToken: e.ADMIN_TOKEN ?? generatedSecret(dataDir, "admin_token"),
    seedDemo: e.SEED_DEMO,
    devLogin: e.DEV_LOGIN === undefined ? e.SEED_DEMO : e.DEV_LOGIN === "1" || e.DEV_LOGIN === "true",
    queue: {
      activeMax: e.QUEUE_ACTIVE_MAX,
      activeTtlMs: e.QUEUE_ACTIVE_TTL_MS,
      waitingIdleMs: e.QUEUE_WAITING_IDLE_MS,
      tickMs: e.QUEUE_TICK_MS,
    },
    holdTtlMs: e.HOLD_TTL_MS,
    maxHoldsPerUser: e.MAX_HOLDS_PER_USER,
    chargeMax: e.CHARGE_MAX,
    balanceMax: e.BALANCE_MAX,
    logLevel: e.LOG_LEVEL,
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxFrameBytes: e.MAX_FRAME_BYTES,
    durability: e.DURABILITY,
    seatDiffIntervalMs: e.SEAT_DIFF_INTERVAL_MS,
    rateLimit: { perSecond: e.RATE_LIMIT_PER_SECOND, burst: e.RATE_LIMIT_BURST },
    wsMaxConnectionsPerUser: e.WS_MAX_CONNECTIONS_PER_USER,
    wsMaxBackpressureBytes: e.WS_MAX_BACKPRESSURE_BYTES,
    bodyTimeoutMs: e.BODY_TIMEOUT_MS,
  };
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
