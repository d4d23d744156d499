// The on-sales beside the site's booking area (onsales.list, no queue token needed): each concert
// that opens at a set time, its state and opening in the venue's time, and the button that lines
// the fan up in its own waiting room. Cards are built once per concert and patched, so a button
// keeps its focus while the countdowns tick.
import type { ResultOf } from "../client/index.js";
import type { OnSaleDirectory } from "./booking.js";
import type { Catalog } from "./catalog.js";
import type { Connection } from "./connection.js";
import { $, element } from "./dom.js";
import { count, countdown, dateTime } from "./format.js";

export type OnSaleStatus = ResultOf<"onsales.list">["onSales"][number];

/** The list's states and counts are re-read this often while the page is visible. */
const REFRESH_MS = 10_000;

interface Card {
  item: HTMLLIElement;
  when: HTMLElement;
  status: HTMLElement;
  button: HTMLButtonElement;
}

export class OnSales implements OnSaleDirectory {
  private byId = new Map<number, OnSaleStatus>();
  private readonly cards = new Map<number, Card>();
  /** The on-sale whose room the page is in; null: the site room. */
  private current: number | null = null;
  private started = false;
  /** A re-read after an opening is on its way. */
  private rereading = false;
  private readonly listeners = new Set<() => void>();
  private readonly firstLoad: Promise<void>;
  private settleFirstLoad!: () => void;

  constructor(
    private readonly connection: Connection,
    private readonly catalog: Catalog,
    /** The fan picked an on-sale (a concert id), or the other concerts (null). */
    private readonly onPick: (room: number | null) => void,
  ) {
    this.firstLoad = new Promise((done) => {
      this.settleFirstLoad = done;
    });
    $("site-room").addEventListener("click", () => this.onPick(null));
    setInterval(() => {
      if (this.started && !document.hidden) this.refresh().catch(() => {});
    }, REFRESH_MS);
    setInterval(() => this.tick(), 1000);
  }

  /** Resolves after the first attempt to read the list (even a failed one: booking must not wait forever). */
  loaded(): Promise<void> {
    return this.firstLoad;
  }

  has(concertId: number): boolean {
    return this.byId.has(concertId);
  }

  get(concertId: number): OnSaleStatus | undefined {
    return this.byId.get(concertId);
  }

  /** Called after every refresh of the list. */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Signed in: the list, then every REFRESH_MS. */
  start(): Promise<void> {
    this.started = true;
    return this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      const { onSales } = await this.connection.request("onsales.list", {});
      this.byId = new Map(onSales.map((onSale) => [onSale.concertId, onSale]));
      this.catalog.rememberOnSales(onSales);
      this.render();
      for (const listener of this.listeners) listener();
    } finally {
      this.settleFirstLoad();
    }
  }

  /**
   * The room the page is in. In the site room the on-sales come first; in an on-sale's room its
   * waiting room does, and the other on-sales follow the page's own sections (moved in the DOM,
   * so that reading and tabbing order follow what is seen).
   */
  setCurrent(room: number | null): void {
    this.current = room;
    const section = $("onsales");
    if (room === null) section.parentElement?.insertBefore(section, $("queue"));
    else section.parentElement?.append(section);
    this.render();
  }

  private render(): void {
    const list = $("onsales-list");
    for (const [concertId, card] of this.cards) {
      if (this.byId.has(concertId)) continue;
      card.item.remove();
      this.cards.delete(concertId);
    }
    for (const onSale of this.byId.values()) {
      const card = this.cards.get(onSale.concertId) ?? this.createCard(onSale);
      list.append(card.item);
      this.renderCard(onSale, card);
    }
    // In an on-sale's room its waiting room names it: the list offers the others, and the way back.
    const others = [...this.byId.keys()].filter((concertId) => concertId !== this.current).length;
    $("onsales").hidden = this.byId.size === 0;
    $("onsales-title").textContent =
      this.current === null ? "On-sales with their own waiting room" : "Other on-sales with their own waiting room";
    $("onsales-title").hidden = others === 0;
    $("site-room").hidden = this.current === null;
  }

  private createCard(onSale: OnSaleStatus): Card {
    const item = element("li", "onsale");
    const title = element("h3", undefined, onSale.title);
    title.id = `onsale-${onSale.concertId}-title`;
    const when = element("p", "onsale-when");
    const status = element("p", "onsale-status");
    const button = element("button", "primary");
    button.type = "button";
    button.addEventListener("click", () => this.onPick(onSale.concertId));
    item.append(title, when, status, button);
    const card = { item, when, status, button };
    this.cards.set(onSale.concertId, card);
    return card;
  }

  private renderCard(onSale: OnSaleStatus, card: Card): void {
    card.item.hidden = this.current === onSale.concertId;
    card.item.dataset.state = onSale.state;
    card.item.dataset.concert = String(onSale.concertId);
    card.when.textContent = onSale.opensAt
      ? `${beforeDraw(onSale) ? "Opens" : "Opened"} ${dateTime(onSale.opensAt, onSale.timeZone)}`
      : "On sale";
    card.status.textContent = statusText(onSale);
    const label =
      onSale.state === "soldout"
        ? "Check again"
        : beforeDraw(onSale)
          ? "Line up for the draw"
          : "Enter the waiting room";
    card.button.textContent = label;
    card.button.setAttribute("aria-label", `${label}: ${onSale.title}`);
  }

  /** The countdowns to openings; once one has passed, the list is read again (the seed is public then). */
  private tick(): void {
    let opened = false;
    for (const onSale of this.byId.values()) {
      if (!beforeDraw(onSale)) continue;
      const card = this.cards.get(onSale.concertId);
      if (card) card.status.textContent = statusText(onSale);
      if (Date.parse(onSale.opensAt ?? "") <= Date.now()) opened = true;
    }
    if (opened && this.started && !this.rereading) {
      // The draw runs at the server's next tick: give it a moment before asking.
      this.rereading = true;
      setTimeout(() => {
        this.refresh()
          .catch(() => {})
          .finally(() => {
            this.rereading = false;
          });
      }, 1500);
    }
  }
}

/** An on-sale with a draw whose seed is not public yet: before its opening (or at it, until the draw runs). */
function beforeDraw(onSale: OnSaleStatus): boolean {
  return onSale.commitment !== null && onSale.seed === null && onSale.state !== "soldout";
}

function statusText(onSale: OnSaleStatus): string {
  if (beforeDraw(onSale)) {
    const opensAt = Date.parse(onSale.opensAt ?? "");
    const paused = onSale.state === "paused" ? " Admission is paused for now." : "";
    return opensAt > Date.now()
      ? `Opens in ${countdown(opensAt)}. Fans who line up before then are put in order by a draw.${paused}`
      : "Opening now: the draw is running.";
  }
  switch (onSale.state) {
    case "paused":
      return "Paused: nobody is let in for now; the line keeps its order.";
    case "soldout":
      return "Sold out: every seat has been sold.";
    default:
      return `On sale now: ${count(onSale.availableSeats)} seats left${onSale.waiting > 0 ? `, ${count(onSale.waiting)} in line` : ""}.`;
  }
}
