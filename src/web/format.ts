// How the page writes money, instants and countdowns: every time in a venue's time zone (IANA, from
// the concert's on-sale; UTC for concerts without one) and with that zone's label.

export const UTC = "UTC";

const wonFormat = new Intl.NumberFormat("en");
const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();
const clockFormats = new Map<string, Intl.DateTimeFormat>();
const offsetFormats = new Map<string, Intl.DateTimeFormat>();

function cached(formats: Map<string, Intl.DateTimeFormat>, timeZone: string, make: () => Intl.DateTimeFormat) {
  let format = formats.get(timeZone);
  if (!format) formats.set(timeZone, (format = make()));
  return format;
}

/** A zone this browser does not know (older tz data) is shown in UTC rather than breaking the page. */
function knownZone(timeZone: string): string {
  try {
    new Intl.DateTimeFormat("en", { timeZone });
    return timeZone;
  } catch {
    return UTC;
  }
}

export function won(amount: number): string {
  return `${wonFormat.format(amount)} won`;
}

export function count(n: number): string {
  return wonFormat.format(n);
}

/** "UTC", or "Seoul time": the zone's place, for a label that covers several times (a date picker). */
export function zonePlace(timeZone: string): string {
  const zone = knownZone(timeZone);
  return zone === UTC ? UTC : `${zone.slice(zone.lastIndexOf("/") + 1).replaceAll("_", " ")} time`;
}

/** "UTC", or "Seoul time (GMT+9)": the zone's place and its offset at `instant` (which summer time changes). */
export function zoneLabel(instant: string | number, timeZone: string): string {
  const zone = knownZone(timeZone);
  if (zone === UTC) return UTC;
  const offset = cached(
    offsetFormats,
    zone,
    () => new Intl.DateTimeFormat("en-GB", { timeZone: zone, timeZoneName: "shortOffset" }),
  )
    .formatToParts(new Date(instant))
    .find((part) => part.type === "timeZoneName")?.value;
  return offset ? `${zonePlace(zone)} (${offset})` : zonePlace(zone);
}

/** "Tue, 1 Jun 2027, 19:00 UTC" or "Sat, 16 Jan 2027, 19:02 Seoul time (GMT+9)": a concert date or an opening. */
export function dateTime(instant: string | number, timeZone = UTC): string {
  return `${wallDateTime(instant, timeZone)} ${zoneLabel(instant, timeZone)}`;
}

/** "Sat, 16 Jan 2027, 19:02": the wall-clock date and time in `timeZone`, for where a label names the zone. */
export function wallDateTime(instant: string | number, timeZone = UTC): string {
  const zone = knownZone(timeZone);
  const format = cached(
    dateTimeFormats,
    zone,
    () =>
      new Intl.DateTimeFormat("en-GB", {
        timeZone: zone,
        weekday: "short",
        day: "numeric",
        month: "short",
        year: "numeric",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      }),
  );
  return format.format(new Date(instant));
}

/** "19:04:05 UTC": when a hold or a booking window ends. */
export function clock(instant: string | number, timeZone = UTC): string {
  const zone = knownZone(timeZone);
  const format = cached(
    clockFormats,
    zone,
    () =>
      new Intl.DateTimeFormat("en-GB", {
        timeZone: zone,
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        hourCycle: "h23",
      }),
  );
  return `${format.format(new Date(instant))} ${zoneLabel(instant, zone)}`;
}

/** "4:05", or "1:04:05" from an hour on, or "3 days 4 h" from a day on: the time from now until `until`. */
export function countdown(until: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.ceil((until - now) / 1000));
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  if (days > 0) return `${days} day${days === 1 ? "" : "s"} ${hours} h`;
  const mmss = `${String(Math.floor((seconds % 3600) / 60)).padStart(hours > 0 ? 2 : 1, "0")}:${String(seconds % 60).padStart(2, "0")}`;
  return hours > 0 ? `${hours}:${mmss}` : mmss;
}

/** "3 seats" / "1 seat". */
export function seats(n: number): string {
  return n === 1 ? "1 seat" : `${count(n)} seats`;
}
