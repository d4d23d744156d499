// Reply bodies that stay the same until their source changes (a seat map between two changes,
// the concert list): marked once, so transports encode each body once and reuse the bytes.
type Encodings = { json?: string; msgpack?: Uint8Array };

const encodings = new WeakMap<object, Encodings>();

/** Marks `body` as never mutated from now on; returns it. */
export function immutable<T extends object>(body: T): T {
  encodings.set(body, {});
  return body;
}

/** `encode(body)`, computed once per immutable body and encoding. */
export function encodeOnce<K extends keyof Encodings>(
  body: unknown,
  kind: K,
  encode: (body: unknown) => NonNullable<Encodings[K]>,
): NonNullable<Encodings[K]> {
  const cached = typeof body === "object" && body !== null ? encodings.get(body) : undefined;
  if (!cached) return encode(body);
  return (cached[kind] ??= encode(body)) as NonNullable<Encodings[K]>;
}
