// A bystander subscriber for fan-out runs: a bare WebSocket over net.Socket that checks in,
// subscribes, then only walks frame headers to count pushes. The server does all of its usual
// work for it, but the generator spends almost nothing per frame, so 10,000 of them fit beside
// the server on two cores and the measured latency is the server's, not the generator's.
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

export class RawSubscriber {
  frames = 0;
  private buffer: Buffer = Buffer.alloc(0);
  private handshaken = false;
  private waiting: ((payload: Buffer) => void) | null = null;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
  }

  static open(port: number, jwt: string): Promise<RawSubscriber> {
    return new Promise((done, fail) => {
      const socket = connect(port, "127.0.0.1");
      socket.setNoDelay(true);
      const subscriber = new RawSubscriber(socket);
      socket.once("error", fail);
      socket.once("connect", () => {
        socket.write(
          `GET /v1/ws?access_token=${jwt} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
        subscriber.waiting = () => done(subscriber);
      });
    });
  }

  /** Sends one JSON request and resolves with the next frame's payload (set-up only). */
  request(value: object): Promise<Buffer> {
    const payload = Buffer.from(JSON.stringify(value));
    const mask = randomBytes(4);
    const header =
      payload.length < 126
        ? Buffer.from([0x81, 0x80 | payload.length])
        : Buffer.from([0x81, 0xfe, payload.length >> 8, payload.length & 0xff]);
    for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
    this.socket.write(Buffer.concat([header, mask, payload]));
    return new Promise((done) => {
      this.waiting = done;
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (!this.handshaken) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end === -1) return;
      this.handshaken = true;
      this.buffer = this.buffer.subarray(end + 4);
      this.deliver(Buffer.alloc(0));
    }
    // Server frames are unmasked: 2-byte header, then a 16- or 64-bit length when needed.
    while (this.buffer.length >= 2) {
      let length = this.buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.length < offset + length) return;
      const opcode = this.buffer[0]! & 0x0f;
      if (opcode === 1 || opcode === 2) {
        this.frames++;
        if (this.waiting) this.deliver(this.buffer.subarray(offset, offset + length));
      }
      this.buffer = this.buffer.subarray(offset + length);
    }
  }

  private deliver(payload: Buffer): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.(payload);
  }
}
