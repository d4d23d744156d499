// MessagePack frames for a WebSocket session (kept apart so JSON-only bundles stay small).
import { Packr } from "msgpackr";
import type { Codec } from "./codec.js";

const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: "number" });

export const msgpackCodec: Codec = {
  binary: true,
  encode: (value) => packr.pack(value),
  decode: (frame) => packr.unpack(frame),
};
