// Frame encodings of a WebSocket session: JSON text frames by default; MessagePack in msgpack.ts.

export interface Codec {
  /** Binary frames (MessagePack) or text frames (JSON). */
  readonly binary: boolean;
  encode(value: unknown): string | Uint8Array;
  decode(frame: Uint8Array): unknown;
}

export const jsonCodec: Codec = {
  binary: false,
  encode: (value) => JSON.stringify(value),
  decode: (frame) => JSON.parse(new TextDecoder().decode(frame)),
};
