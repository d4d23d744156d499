// The typed client of the ticketing API: HTTP calls and a WebSocket session, both typed from
// the server's own op schemas. Works in Node (global WebSocket or `ws`) and in browsers.
export { type Codec, jsonCodec } from "./codec.js";
export { ClientError, type TransportErrorCode } from "./errors.js";
export { type CallOptions, HttpClient, type HttpClientOptions, type TokenSource } from "./http.js";
export {
  type LayoutDocument,
  type PushOutcome,
  pricesOf,
  type SeatChange,
  SeatMap,
  type SeatMapListener,
  unpackCompactStatuses,
} from "./seatMap.js";
export * from "./types.js";
export {
  type QueueRoom,
  type ReconnectOptions,
  type SessionEvent,
  type WebSocketConstructor,
  type WebSocketLike,
  WsSession,
  type WsSessionOptions,
} from "./ws.js";
