// Watchers of a cluster run, as their own process: raw subscribers (rawSubscriber.ts) spread over
// several nodes' ports, each checking in to one or more waiting rooms and subscribing to a schedule
// in each, then only counting frames. Spoken to with forkWorker: "ready" once all are subscribed,
// then `{type: "count"}` answers `{type: "frames", frames}` (every frame received so far), and
// `{type: "stop"}` closes them.
import { userJwt } from "../../tests/helpers/server.js";
import { RawSubscriber } from "./rawSubscriber.js";

export interface WatcherJob {
  /** Subscriber i connects to ports[i % ports.length]. */
  ports: number[];
  secret: string;
  userPrefix: string;
  count: number;
  /** In order, for each subscriber: check in (to the concert's room, or the site room), then subscribe. */
  follow: { concertId?: number; scheduleId: number }[];
}

const send = (message: object) => process.send?.(message);

/** A reply frame starts `{"id":N,"ok":true`; its (possibly large) body is not parsed. */
const ok = (payload: Buffer) => payload.subarray(0, 32).toString("latin1").includes('"ok":true');

async function main(job: WatcherJob): Promise<void> {
  const subscribers: RawSubscriber[] = [];
  let refused = 0;
  const open = async (index: number) => {
    const port = job.ports[index % job.ports.length]!;
    const subscriber = await RawSubscriber.open(port, userJwt(`${job.userPrefix}${index}`, 3600, job.secret));
    let id = 0;
    for (const { concertId, scheduleId } of job.follow) {
      const checkIn = await subscriber.request({
        id: ++id,
        op: "queue.check",
        args: concertId === undefined ? {} : { concertId },
      });
      const subscribed = await subscriber.request({ id: ++id, op: "seats.subscribe", args: { scheduleId } });
      if (!ok(checkIn) || !ok(subscribed)) refused++;
    }
    return subscriber;
  };
  for (let i = 0; i < job.count; i += 100) {
    subscribers.push(
      ...(await Promise.all(Array.from({ length: Math.min(100, job.count - i) }, (_, k) => open(i + k)))),
    );
  }
  send({ type: "ready", refused });
  const frames = () => subscribers.reduce((sum, s) => sum + s.frames, 0);
  process.on("message", (message: { type: string }) => {
    if (message.type === "count") send({ type: "frames", frames: frames() });
    if (message.type === "stop") {
      for (const subscriber of subscribers) subscriber.close();
      setTimeout(() => process.exit(0), 100);
    }
  });
}

process.once("message", (job: WatcherJob) => {
  main(job).catch((error) => {
    send({ type: "error", message: String(error?.stack ?? error) });
    process.exit(1);
  });
});
