// Fan-out bystanders, run as their own process: raw subscribers that check in, subscribe to one
// schedule and count the pushes they receive (see rawSubscriber.ts).
import { userJwt } from "../../tests/helpers/server.js";
import { RawSubscriber } from "./rawSubscriber.js";

export interface BystanderJob {
  port: number;
  secret: string;
  userPrefix: string;
  count: number;
  scheduleId: number;
}

const send = (message: object) => process.send?.(message);
const nextMessage = () => new Promise<unknown>((done) => process.once("message", done));

async function main(job: BystanderJob): Promise<void> {
  const subscribers: RawSubscriber[] = [];
  for (let i = 0; i < job.count; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, job.count - i) }, async (_, k) => {
        const subscriber = await RawSubscriber.open(job.port, userJwt(`${job.userPrefix}${i + k}`, 3600, job.secret));
        await subscriber.request({ id: 1, op: "queue.check", args: {} });
        await subscriber.request({ id: 2, op: "seats.subscribe", args: { scheduleId: job.scheduleId } });
        return subscriber;
      }),
    );
    subscribers.push(...batch);
  }
  send({ type: "ready" });
  await nextMessage(); // go
  const before = subscribers.reduce((sum, s) => sum + s.frames, 0);
  await nextMessage(); // release
  const frames = subscribers.reduce((sum, s) => sum + s.frames, 0) - before;
  send({ type: "result", frames });
  for (const subscriber of subscribers) subscriber.close();
  setTimeout(() => process.exit(0), 100);
}

process.once("message", (job: BystanderJob) => {
  main(job).catch((error) => {
    send({ type: "error", message: String(error?.stack ?? error) });
    process.exit(1);
  });
});
