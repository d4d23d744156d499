// The ceiling server: bare uWS with no state. `GET /ping` answers a static body; on /v1/ws a
// request is decoded and answered with a booking-sized reply (the echo ceiling), and two ops
// make a fan-out ceiling: `seats.subscribe` joins a topic, `publish` sends its args to it.

import { Packr, Unpackr } from "msgpackr";
import { uws } from "../../src/uws.js";

const uWS = uws();
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const body = JSON.stringify({ concerts: [{ id: 1, title: "Aurora Strings — Winter Tour" }] });
const encode = (value: unknown, binary: boolean) => (binary ? packr.pack(value) : JSON.stringify(value));
const topic = (binary: boolean) => (binary ? "seats/msgpack" : "seats/json");

interface Request {
  id: number;
  op: string;
  args: { scheduleId?: number; seatNo?: number; push?: unknown };
}

const app = uWS.App();
app
  .get("/ping", (res) => {
    res.cork(() => res.writeStatus("200 OK").writeHeader("content-type", "application/json").end(body));
  })
  .ws("/v1/ws", {
    maxPayloadLength: 64 * 1024,
    maxBackpressure: 1024 * 1024,
    message(ws, message, isBinary) {
      const request = (
        isBinary ? unpackr.unpack(new Uint8Array(message)) : JSON.parse(Buffer.from(message).toString())
      ) as Request;
      if (request.op === "seats.subscribe") ws.subscribe(topic(isBinary));
      if (request.op === "publish") {
        for (const binary of [false, true]) app.publish(topic(binary), encode(request.args.push, binary), binary);
      }
      const data = {
        reservationId: request.id,
        scheduleId: request.args?.scheduleId ?? 1,
        seatNo: request.args?.seatNo ?? 1,
        price: 1000,
        status: "held",
        expiresAt: new Date().toISOString(),
      };
      ws.send(encode({ id: request.id, ok: true, data }, isBinary), isBinary);
    },
  })
  .listen("127.0.0.1", 0, (socket) => {
    if (!socket) process.exit(1);
    process.send?.({ type: "listening", port: uWS.us_socket_local_port(socket) });
  });
