// Delivery latency of pushes, timed in one generator process from a reference moment seen in the
// same process (so both share its clock):
// - from a hold's acknowledgement (keyed by seat): on a cluster the push can reach a watcher before
//   the reply reaches the holder (both leave the owner over NATS, through different nodes);
// - from the owner's publish (keyed by the diff's version): a NATS subscriber in this process
//   receives the diff the owner publishes on tickets.seats.<scheduleId>, as every node does.
// A push that arrives before its reference counts as 0 ms and is counted in `pushesBefore`.
import { connect } from "@nats-io/transport-node";
import { Unpackr } from "msgpackr";
import { subjects } from "../../src/cluster/subjects.js";
import type { LoadClient } from "./wsClient.js";

export class DeliveryClock {
  private readonly referenceAt = new Map<number, number>();
  /** Pushes whose reference has not been seen yet: the watcher's group of each. */
  private readonly early = new Map<number, string[]>();
  pushesBefore = 0;

  /** `record(group, ms)`: group names the watcher's node (e.g. "n0"). */
  constructor(private readonly record: (group: string, ms: number) => void) {}

  /** `key` starts again (a seat held anew): its previous reference no longer counts. */
  forget(key: number): void {
    this.referenceAt.delete(key);
    this.early.delete(key);
  }

  reference(key: number, at: number): void {
    this.referenceAt.set(key, at);
    const early = this.early.get(key);
    if (early === undefined) return;
    this.early.delete(key);
    this.pushesBefore += early.length;
    for (const group of early) this.record(group, 0);
  }

  /** A watcher in `group` received the push of `key`. */
  pushed(key: number, at: number, group: string): void {
    const reference = this.referenceAt.get(key);
    if (reference !== undefined) {
      this.record(group, at - reference);
      return;
    }
    const early = this.early.get(key);
    if (early) early.push(group);
    else this.early.set(key, [group]);
  }
}

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: "number" });

/**
 * Calls `published(version, at)` for each seat diff the owner publishes on `subject`
 * (src/cluster/subjects.ts, tickets.seats.<id>). Resolves once the subscription is in place; the
 * returned function closes the connection.
 */
export async function watchPublishes(
  natsUrl: string,
  subject: string,
  published: (version: number, at: number) => void,
): Promise<() => Promise<void>> {
  const nc = await connect({ servers: natsUrl, name: "bench-publish-clock", noAsyncTraces: true });
  nc.subscribe(subject, {
    callback: (error, msg) => {
      if (error) return;
      published((unpackr.unpack(msg.data) as { version: number }).version, performance.now());
    },
  });
  await nc.flush();
  return () => nc.close();
}

export interface Deliveries {
  /** Keyed by seat: a hold's acknowledgement (the caller gives it), and the pushes that the seat is held. */
  fromAck: DeliveryClock;
  /** Counts the pushes that came before their reference, and closes NATS. */
  finish(): Promise<void>;
}

/**
 * Times the pushes `watchers` receive: that a seat is held, from the hold's acknowledgement
 * (`fromAck`, and `fromAck.n<k>` for watcher i in group k = i % groups); with `natsUrl`, every diff
 * from the owner's publish as heard on NATS (`fromPublish`, `fromPublish.n<k>`). Undefined without
 * watchers. It sets each watcher's onPush.
 */
export async function watchPushes(options: {
  watchers: LoadClient[];
  groups: number;
  scheduleId: number;
  natsUrl?: string | undefined;
  record: (name: string, ms: number) => void;
  count: (name: string, n: number) => void;
}): Promise<Deliveries | undefined> {
  const { watchers, groups, scheduleId, natsUrl, record, count } = options;
  if (watchers.length === 0) return undefined;
  const clock = (name: string) =>
    new DeliveryClock((group, ms) => {
      record(name, ms);
      record(`${name}.${group}`, ms);
    });
  const fromAck = clock("fromAck");
  const fromPublish = clock("fromPublish");
  const closeNats = natsUrl
    ? await watchPublishes(natsUrl, subjects.seats(scheduleId), (version, at) => fromPublish.reference(version, at))
    : undefined;
  watchers.forEach((client, index) => {
    const group = `n${index % groups}`;
    client.onPush = (push) => {
      if (push.ev !== "seats") return;
      const now = performance.now();
      if (closeNats) fromPublish.pushed(push.version as number, now, group);
      for (const change of push.changes as { no: number; status: string }[]) {
        if (change.status === "held") fromAck.pushed(change.no, now, group);
      }
    };
  });
  return {
    fromAck,
    async finish() {
      count("pushesBeforeAck", fromAck.pushesBefore);
      if (closeNats) count("pushesBeforePublish", fromPublish.pushesBefore);
      await closeNats?.();
    },
  };
}
