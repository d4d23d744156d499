// The page's one WebSocket session, and what the fan sees of it: "Live", "Reconnecting…", and how
// many of their actions wait to be sent once the connection is back (the session queues them).
import {
  type ArgsOf,
  ClientError,
  type LayoutDocument,
  type ResultOf,
  type SeatMap,
  type SessionEvent,
  type WsOpName,
  WsSession,
} from "../client/index.js";
import { $, notify } from "./dom.js";

export type Request = <N extends WsOpName>(op: N, args: ArgsOf<N>) => Promise<ResultOf<N>>;

export class Connection {
  private session: WsSession | undefined;
  private queued = 0;
  private lost = false;

  /** Opens the session unless one is open (a second sign-in click must not open a second socket). */
  open(jwt: () => string, onEvent: (event: SessionEvent) => void): void {
    if (this.session) return;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/ws`;
    const session = new WsSession({ url, token: jwt });
    this.session = session;
    session.on((event) => {
      if (event.type === "open" && !event.reconnected) this.lost = false;
      if (event.type === "close") this.lost = event.willReconnect;
      if (event.type === "restored") this.lost = false;
      this.render();
      onEvent(event);
    });
  }

  get isOpen(): boolean {
    return this.session !== undefined;
  }

  /** Forget a room's queue token (null: the site room): a reconnect must not check in there again (a new place at the back). */
  forgetQueueToken(room: number | null): void {
    this.session?.forgetQueueToken(room);
  }

  request: Request = (op, args) => {
    const session = this.session;
    if (!session) return Promise.reject(new ClientError("CLOSED", "not signed in"));
    if (session.connected) return session.request(op, args);
    // Sent once the connection is back and restored: say so, and count it until it is answered.
    this.queued++;
    this.render();
    if (this.lost) notify("The connection dropped. Your request is sent as soon as it is back.");
    return session.request(op, args).finally(() => {
      this.queued--;
      this.render();
    });
  };

  /** With the schedule's layout: compact snapshots, prices from the layout. */
  subscribeSeats(scheduleId: number, layout?: LayoutDocument): Promise<SeatMap> {
    if (!this.session) return Promise.reject(new ClientError("CLOSED", "not signed in"));
    return this.session.subscribeSeats(scheduleId, layout ? { layout } : {});
  }

  async unsubscribeSeats(scheduleId: number): Promise<void> {
    await this.session?.unsubscribeSeats(scheduleId);
  }

  /** Drops the socket so that the session reconnects (with a renewed sign-in). */
  reconnect(): void {
    this.session?.dropConnection();
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
    this.queued = 0;
    this.lost = false;
    this.render();
  }

  private render(): void {
    const connection = $("connection");
    const live = this.session?.connected ?? false;
    connection.dataset.state = live ? "online" : "offline";
    const waiting = this.queued > 0 ? ` (${this.queued} action${this.queued === 1 ? "" : "s"} waiting to be sent)` : "";
    connection.textContent = !this.session
      ? "Not connected"
      : live
        ? `Live${waiting}`
        : this.lost
          ? `Reconnecting…${waiting}`
          : `Connecting…${waiting}`;
  }
}
