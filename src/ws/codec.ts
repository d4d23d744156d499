// Frame encodings: text frames are JSON, binary frames MessagePack.
import { Packr, Unpackr } from "msgpackr";

const packr = new Packr({ useRecords: false });
// Plain maps as objects and 64-bit integers as numbers: the schemas then judge what arrived.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: "number" });
const utf8 = new TextDecoder("utf-8", { fatal: true });

export function decodeFrame(message: ArrayBuffer, isBinary: boolean): unknown {
  if (isBinary) return unpackr.unpack(new Uint8Array(message));
  return JSON.parse(utf8.decode(message));
}

export function encodeFrame(value: unknown, isBinary: boolean): string | Buffer {
  return isBinary ? packr.pack(value) : JSON.stringify(value);
}
