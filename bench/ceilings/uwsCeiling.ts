// The ceiling server: bare uWS answering `GET /ping` with a static body and echoing WebSocket
// requests (MessagePack decoded and a reply of the booking reply's size encoded), no state.

import uWS from "uWebSockets.js";
import { Packr, Unpackr } from "msgpackr";

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const body = JSON.stringify({ concerts: [{ id: 1, title: "Aurora Strings — Winter Tour" }] });

uWS
  .App()
  .get("/ping", (res) => {
    res.cork(() => res.writeStatus("200 OK").writeHeader("content-type", "application/json").end(body));
  })
  .ws("/v1/ws", {
    maxPayloadLength: 64 * 1024,
    message(ws, message) {
      const request = unpackr.unpack(new Uint8Array(message)) as {
        id: number;
        args: { scheduleId: number; seatNo: number };
      };
      const data = {
        reservationId: request.id,
        scheduleId: request.args.scheduleId,
        seatNo: request.args.seatNo,
        price: 1000,
        status: "held",
        expiresAt: new Date().toISOString(),
      };
      ws.send(packr.pack({ id: request.id, ok: true, data }), true);
    },
  })
  .listen("127.0.0.1", 0, (socket) => {
    if (!socket) process.exit(1);
    process.send?.({ type: "listening", port: uWS.us_socket_local_port(socket) });
  });
