// A lean WebSocket client for load generation: MessagePack frames, request ids, pushes.
import { Packr } from "msgpackr";
import WebSocket from "ws";

const packr = new Packr({ useRecords: false });

export interface Reply {
  id: number;
  ok: boolean;
  data?: any;
  error?: { code: string; message: string };
}

export interface Push {
  ev: string;
  [key: string]: any;
}

export class LoadClient {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: Reply, frame: Buffer) => void>();
  onPush: (push: Push, raw: Buffer) => void = () => {};
  /** When false, pushes are counted but not decoded (cheap bystanders in fan-out). */
  decodePushes = true;
  pushesSeen = 0;

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data: Buffer) => {
      // Replies start with a map holding "id"; pushes with "ev". Decoding is needed to tell them
      // apart, except for bystanders that never send requests after set-up.
      if (!this.decodePushes && this.pending.size === 0) {
        this.pushesSeen++;
        return;
      }
      const message = packr.unpack(data) as Reply & Push;
      if (message.ev !== undefined) {
        this.pushesSeen++;
        this.onPush(message, data);
        return;
      }
      const done = this.pending.get(message.id);
      if (done) {
        this.pending.delete(message.id);
        done(message, data);
      }
    });
  }

  static connect(url: string, jwt: string, localAddress?: string): Promise<LoadClient> {
    return new Promise((done, fail) => {
      const socket = new WebSocket(`${url}?access_token=${jwt}`, { perMessageDeflate: false, localAddress });
      socket.once("open", () => done(new LoadClient(socket)));
      socket.once("error", fail);
    });
  }

  request(op: string, args: object = {}): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((done) => {
      this.pending.set(id, done);
      this.socket.send(packr.pack({ id, op, args }), { binary: true });
    });
  }

  /**
   * Sends a request with the caller's id and resolves with the reply and its frame's bytes: a
   * replay sent with the first request's id must then come back as the very same bytes.
   */
  requestWithId(id: number, op: string, args: object): Promise<{ reply: Reply; frame: Buffer }> {
    return new Promise((done) => {
      this.pending.set(id, (reply, frame) => done({ reply, frame }));
      this.socket.send(packr.pack({ id, op, args }), { binary: true });
    });
  }

  close(): void {
    this.socket.close();
  }
}

/** Opens `count` connections, `parallel` at a time, calling `jwtFor(i)` for each identity (and `url(i)` for its server, when a function). */
export async function connectMany(
  url: string | ((index: number) => string),
  count: number,
  jwtFor: (index: number) => string,
  options: { parallel?: number; localAddresses?: string[] } = {},
): Promise<LoadClient[]> {
  const clients: LoadClient[] = new Array(count);
  const parallel = options.parallel ?? 200;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const local = options.localAddresses?.[index % options.localAddresses.length];
      clients[index] = await LoadClient.connect(typeof url === "string" ? url : url(index), jwtFor(index), local);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return clients;
}
