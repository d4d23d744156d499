// How the page writes money, instants and countdowns: every time with its zone's label.

/** The zone times are shown in. Concerts carry no time zone yet (api.md §16), so UTC for all. */
export const TIME_ZONE = "UTC";

const wonFormat = new Intl.NumberFormat("en");
const dateTimeFormat = new Intl.DateTimeFormat("en-GB", {
  timeZone: TIME_ZONE,
  weekday: "short",
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});
const clockFormat = new Intl.DateTimeFormat("en-GB", {
  timeZone: TIME_ZONE,
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});

export function won(amount: number): string {
  return `${wonFormat.format(amount)} won`;
}

export function count(n: number): string {
  return wonFormat.format(n);
}

/** "Tue 1 Jun 2027, 19:00 UTC": a concert date. */
export function dateTime(instant: string | number): string {
  return `${dateTimeFormat.format(new Date(instant))} ${TIME_ZONE}`;
}

/** "19:04:05 UTC": when a hold or a booking window ends. */
export function clock(instant: string | number): string {
  return `${clockFormat.format(new Date(instant))} ${TIME_ZONE}`;
}

/** "4:05" for the time from now until `until` (never negative). */
export function countdown(until: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.ceil((until - now) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** "3 seats" / "1 seat". */
export function seats(n: number): string {
  return n === 1 ? "1 seat" : `${count(n)} seats`;
}
