// Entry point of `npm run verify-draw -- <concertId>`: checks an on-sale's published draw against a
// running server, from published values only, and tells a fan their own place in it.
import { commitmentOf, drawOrder, entryIdOf } from "./draw.js";

const USAGE = `usage: npm run verify-draw -- <concertId> [--server URL] [--token JWT] [--user ID]
  Fetches GET /v1/concerts/<concertId>/draw from the server (default http://127.0.0.1:8080) and
  checks that SHA-256(seed) is the commitment published before the opening, and that the entry ids
  are in the order HMAC-SHA256(seed, entryId) gives. --user ID also finds that fan's place.
  Without --token it signs in with the demo login (servers with DEV_LOGIN on).
  Exit codes: 0 verified, 1 not verified (or no draw yet), 2 bad usage.`;

interface Draw {
  concertId: number;
  commitment: string | null;
  seed: string | null;
  entries: string[];
}

function parseArguments(args: string[]) {
  const options: { concertId?: number; server: string; token?: string; user?: string } = {
    server: "http://127.0.0.1:8080",
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = () => {
      const next = args[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === "--server") options.server = value().replace(/\/+$/, "");
    else if (arg === "--token") options.token = value();
    else if (arg === "--user") options.user = value();
    else if (/^[1-9][0-9]*$/.test(arg) && options.concertId === undefined) options.concertId = Number(arg);
    else throw new Error(`unexpected argument ${arg}`);
  }
  if (options.concertId === undefined) throw new Error("a concert id is needed");
  return { ...options, concertId: options.concertId };
}

async function fetchJson(url: string, init: RequestInit = {}): Promise<any> {
  const response = await fetch(url, init);
  const body = (await response.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!response.ok) {
    const error = body?.error ? `${body.error.code}: ${body.error.message}` : String(response.status);
    throw new Error(`${init.method ?? "GET"} ${url}: ${error}`);
  }
  return body;
}

async function main(): Promise<number> {
  let options: ReturnType<typeof parseArguments>;
  try {
    options = parseArguments(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { server, concertId, user } = options;
  const token =
    options.token ??
    (
      await fetchJson(`${server}/v1/dev/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "verify-draw" }),
      })
    ).token;
  const draw: Draw = await fetchJson(`${server}/v1/concerts/${concertId}/draw`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (draw.commitment === null) {
    process.stdout.write(`concert ${concertId}: its on-sale opened at once, with no draw\n`);
    return 1;
  }
  if (draw.seed === null) {
    process.stdout.write(`concert ${concertId}: not drawn yet; commitment ${draw.commitment}\n`);
    return 1;
  }
  const problems: string[] = [];
  if (commitmentOf(draw.seed) !== draw.commitment) problems.push("SHA-256(seed) is not the published commitment");
  const recomputed = drawOrder(draw.seed, draw.entries);
  const misplaced = recomputed.findIndex((entryId, index) => draw.entries[index] !== entryId);
  if (misplaced >= 0) problems.push(`the order differs from the recomputed one at place ${misplaced + 1}`);
  process.stdout.write(
    `concert ${concertId}: seed ${draw.seed}\n  commitment ${draw.commitment}\n  ${draw.entries.length} entries\n`,
  );
  if (user !== undefined) {
    const mine = entryIdOf(concertId, user);
    const place = draw.entries.indexOf(mine);
    process.stdout.write(
      place < 0
        ? `  ${user} (entry ${mine}) was not in the draw\n`
        : `  ${user} (entry ${mine}) drew place ${place + 1} of ${draw.entries.length}\n`,
    );
  }
  if (problems.length > 0) {
    process.stdout.write(`NOT VERIFIED: ${problems.join("; ")}\n`);
    return 1;
  }
  process.stdout.write("verified: the seed matches its commitment and the order is the seed's\n");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`verify-draw: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
