// What survives a reload: the sign-in, the queue token and the fan's picks, in sessionStorage only
// (the tab's own storage: closing the tab signs out, and nothing lingers in localStorage).

export interface SavedSession {
  /** The dev-login JWT and when it runs out (ms since the epoch). */
  jwt: string;
  jwtExpiresAt: number;
  userId: string;
  /** The queue token of the last check-in or push, its status then and its expiresAt (ms); "ended": no token. */
  queueToken?: string;
  queueStatus?: "waiting" | "active" | "ended";
  queueExpiresAt?: number;
  concertId?: number;
  scheduleId?: number;
}

/** Titles and dates seen while the booking window was open, so holds keep their labels after it ends. */
export interface CatalogLabels {
  concerts: Record<number, string>;
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
  return read<CatalogLabels>(CATALOG_KEY) ?? { concerts: {}, schedules: {} };
}

export function saveCatalog(labels: CatalogLabels): void {
  write(CATALOG_KEY, labels);
}
