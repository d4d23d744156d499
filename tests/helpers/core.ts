// Runs the server's core in process (src/core.ts): the same storage, actors and dispatcher as the
// real server, without sockets. Ops are called by name through the dispatcher, so a test sees
// exactly what a client would (status and body), in milliseconds.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OpReply } from "../../src/api/dispatch.js";
import { opsByName } from "../../src/api/ops/index.js";
import { loadConfig } from "../../src/config.js";
import { buildCore, type Core } from "../../src/core.js";
import { createLogger } from "../../src/log.js";
import { TEST_ADMIN_TOKEN, TEST_AUTH_SECRET, userJwt } from "./server.js";

export interface CallOptions {
  /** The caller (a JWT is minted for them); omitted for ops open to anyone. */
  user?: string;
  /** Call as the admin. */
  admin?: boolean;
  queueToken?: string;
  /** The client's address (per-address limits). */
  address?: string;
}

export interface InProcess {
  core: Core;
  dataDir: string;
  /** Runs op `name` with `args` as a client would; resolves with its status and body. */
  call(name: string, args?: Record<string, unknown>, options?: CallOptions): Promise<OpReply>;
  /** Like call, but resolves with the body of a success and throws with the error otherwise. */
  ok<T = any>(name: string, args?: Record<string, unknown>, options?: CallOptions): Promise<T>;
  /** An active queue token for `user` (checked in; expects immediate admission). */
  activeToken(user: string): Promise<string>;
  /** Closes the core; the data directory stays for a restart. */
  close(): Promise<void>;
  /** Closes the core and a new one starts on the same data (a clean restart). */
  restart(env?: Record<string, string>): Promise<InProcess>;
  /** Closes the core and removes the data directory. */
  dispose(): Promise<void>;
}

let requests = 0;

/** A core on a fresh data directory (or `dataDir`), configured like the test servers plus `env`. */
export async function startCore(env: Record<string, string> = {}, dataDir?: string): Promise<InProcess> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "ticketing-core-"));
  const config = loadConfig({
    DATA_DIR: dir,
    SEED_DEMO: "0",
    AUTH_SECRET: TEST_AUTH_SECRET,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    ...env,
  });
  const core = await buildCore(config, createLogger("silent"), {
    onFatal: (error) => {
      throw error;
    },
  });
  const call = (name: string, args: Record<string, unknown> = {}, options: CallOptions = {}) => {
    const op = opsByName.get(name);
    if (!op) throw new Error(`no op ${name}`);
    const bearer = options.admin ? TEST_ADMIN_TOKEN : options.user === undefined ? undefined : userJwt(options.user);
    return core.dispatcher.run({
      op,
      args,
      requestId: `t${++requests}`,
      bearer,
      queueToken: options.queueToken,
      address: () => options.address ?? "192.0.2.1",
    });
  };
  const harness: InProcess = {
    core,
    dataDir: dir,
    call,
    async ok(name, args, options) {
      const reply = await call(name, args, options);
      if (reply.status >= 400) throw new Error(`${name}: ${reply.status} ${JSON.stringify(reply.body)}`);
      return reply.body as never;
    },
    async activeToken(user) {
      const status = await harness.ok("queue.check", {}, { user });
      if (status.status !== "active") throw new Error(`${user} was not admitted: ${JSON.stringify(status)}`);
      return status.token;
    },
    close: () => core.close(),
    async restart(restartEnv = env) {
      await core.close();
      return startCore(restartEnv, dir);
    },
    async dispose() {
      await core.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** The error code of a reply (undefined for a success). */
export function codeOf(reply: OpReply): string | undefined {
  return (reply.body as { error?: { code?: string } }).error?.code;
}
