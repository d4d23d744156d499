// What survives a reload: the sign-in, the waiting room and its token, the fan's picks, in sessionStorage only
// (the tab's own storage: closing the tab signs out, and nothing lingers in localStorage).

export interface SavedSession {
  /** The dev-login JWT and when it runs out (ms since the epoch). */
  jwt: string;
  jwtExpiresAt: number;
  userId: string;
  /** The room the page is in: an on-sale's concert id; absent for the site room. */
  room?: number;
  /**
   * The room's queue token of the last check-in or push, its status then and its expiresAt (ms);
   * "ended" and "soldout": no token.
   */
  queueToken?: string;
  queueStatus?: "pre" | "waiting" | "active" | "ended" | "soldout";
  queueExpiresAt?: number;
  concertId?: number;
  scheduleId?: number;
}

/** Titles, zones and dates seen while the booking window was open, so holds keep their labels after it ends. */
export interface CatalogLabels {
  concerts: Record<number, string>;
  /** The venue's IANA time zone of concerts with an on-sale (others are shown in UTC). */
  zones: Record<number, string>;
  schedules: Record<number, { concertId: number; startsAt: string }>;
}

const SESSION_KEY = "tickets.session";
const CATALOG_KEY = "tickets.catalog";

function read<T>(key: string): T | undefined {
  try {
    const text = sessionStorage.getItem(key);
    return text ? (JSON.parse(text) as T) : undefined;
  } catch {
    return undefined; // storage switched off, or a value this page did not write
  }
}

function write(key: string, value: unknown): void {
  try {
    sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or switched off: the page still works, it only forgets on reload.
  }
}

/** The saved sign-in, if it is still good for at least `marginMs`. */
export function loadSession(now = Date.now(), marginMs = 30_000): SavedSession | undefined {
  const saved = read<SavedSession>(SESSION_KEY);
  if (!saved || typeof saved.jwt !== "string" || typeof saved.jwtExpiresAt !== "number") return undefined;
  return saved.jwtExpiresAt - marginMs > now ? saved : undefined;
}

/** Whether a sign-in was saved but has run out (to say so instead of a bare sign-in form). */
export function sessionRanOut(now = Date.now()): boolean {
  return read<SavedSession>(SESSION_KEY) !== undefined && loadSession(now) === undefined;
}

export function saveSession(session: SavedSession): void {
  write(SESSION_KEY, session);
}

export function updateSession(patch: Partial<SavedSession>): void {
  const saved = read<SavedSession>(SESSION_KEY);
  if (saved) write(SESSION_KEY, { ...saved, ...patch });
}

export function clearSession(): void {
  try {
    sessionStorage.removeItem(SESSION_KEY);
    sessionStorage.removeItem(CATALOG_KEY);
  } catch {}
}

export function loadCatalog(): CatalogLabels {
  return { concerts: {}, zones: {}, schedules: {}, ...read<Partial<CatalogLabels>>(CATALOG_KEY) };
}

export function saveCatalog(labels: CatalogLabels): void {
  write(CATALOG_KEY, labels);
}
