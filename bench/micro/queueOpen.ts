// The queue machine's opening alone: N fans in the pre-queue, then OPEN (the draw and the first
// admissions), timed around the one send. `node dist/bench/micro/queueOpen.js [N] [machine.js]`:
// the second argument loads another build's dist/machines/queue.js, for before/after pairs.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createActor } from "xstate";
import type { queueMachine as QueueMachine } from "../../machines/queue.js";

const fans = Number(process.argv[2] ?? 100_000);
const file = process.argv[3] ? pathToFileURL(resolve(process.argv[3])).href : "../../machines/queue.js";
const { queueMachine } = (await import(file)) as { queueMachine: typeof QueueMachine };
const seed = randomBytes(32).toString("hex");

for (let round = 1; round <= 4; round++) {
  const opensAt = Date.now() + 1000;
  const input = {
    activeMax: 1000,
    activeTtlMs: 600_000,
    waitingIdleMs: 600_000,
    opensAt,
    opened: false,
    paused: false,
  };
  const actor = createActor(queueMachine, { input }).start();
  for (let i = 0; i < fans; i++) {
    const entryId = createHash("sha256").update(`1:fan-${i}`).digest("hex");
    const drawKey = createHmac("sha256", seed).update(entryId).digest("hex");
    const token = randomBytes(18).toString("base64url");
    actor.send({ type: "JOIN", token, userId: `fan-${i}`, now: opensAt - 1000, drawKey, entryId });
  }
  let drawn = 0;
  actor.on("drawn", (event) => {
    drawn = event.tokens.length;
  });
  const started = performance.now();
  actor.send({ type: "OPEN", now: opensAt });
  const ms = performance.now() - started;
  console.log(
    `round ${round}: OPEN ${ms.toFixed(1)} ms, ${drawn} drawn, ${actor.getSnapshot().context.activeCount} admitted`,
  );
  actor.stop();
}
