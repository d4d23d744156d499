// Frame encodings: text frames are JSON, binary frames MessagePack.
import { Packr, Unpackr } from "msgpackr";
import { encodeOnce } from "../immutable.js";

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

// msgpackr returns views of a buffer it reuses on the next pack: keep copies of what is kept.
const DATA_KEY = Buffer.from(packr.pack("data"));

/**
 * `{id, ok: true, data}` in either encoding, with `data` encoded once when it is an immutable
 * body (a seat map is sent to every subscriber and every reader as the same bytes).
 */
export function encodeReply(id: string | number | null, data: unknown, isBinary: boolean): string | Buffer {
  if (!isBinary) return `{"id":${JSON.stringify(id)},"ok":true,"data":${encodeOnce(data, "json", JSON.stringify)}}`;
  // A two-entry map {id, ok} becomes a three-entry one followed by "data": msgpackr writes
  // plain objects with a map16 header (0xde + count), a fixmap (0x82) is handled too.
  const packedData = encodeOnce(data, "msgpack", (body) => Buffer.from(packr.pack(body)));
  const head = Buffer.from(packr.pack({ id, ok: true }));
  if (head[0] === 0xde) head.writeUInt16BE(3, 1);
  else head[0] = 0x83;
  return Buffer.concat([head, DATA_KEY, packedData]);
}
