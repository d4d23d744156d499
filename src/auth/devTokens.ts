// Mints the demo page's dev-login JWTs: `iss: "dev-login"`, `sub: "demo:<name>"` (only while DEV_LOGIN is on).
import { createSigner } from "fast-jwt";

export const DEV_ISSUER = "dev-login";
/** Every dev-login subject starts with this; no other token may use it (auth/users.ts). */
export const DEV_SUBJECT_PREFIX = "demo:";
export const DEV_TOKEN_TTL_SECONDS = 3600;

export interface DevTokenSettings {
  secret: string;
  /** Carried as `aud` when the server checks audiences (AUTH_AUDIENCE). */
  audience?: string | undefined;
  /** A server that caps token lifetimes gets dev tokens within the cap. */
  maxLifetimeSeconds?: number | undefined;
}

const signers = new Map<string, (claims: Record<string, unknown>) => string>();

export function mintDevToken(
  settings: DevTokenSettings,
  name: string,
  now: number,
): { token: string; userId: string; expiresAt: number } {
  let sign = signers.get(settings.secret);
  if (!sign) {
    sign = createSigner({ key: settings.secret, algorithm: "HS256" }) as (claims: Record<string, unknown>) => string;
    signers.set(settings.secret, sign);
  }
  const userId = `${DEV_SUBJECT_PREFIX}${name}`;
  const issuedAt = Math.floor(now / 1000);
  const expiresAt = issuedAt + Math.min(DEV_TOKEN_TTL_SECONDS, settings.maxLifetimeSeconds ?? DEV_TOKEN_TTL_SECONDS);
  // iat/exp are set here (not by fast-jwt) so the expiry follows the caller's clock.
  const claims: Record<string, unknown> = { iss: DEV_ISSUER, sub: userId, iat: issuedAt, exp: expiresAt };
  if (settings.audience !== undefined) claims.aud = settings.audience;
  return { token: sign(claims), userId, expiresAt: expiresAt * 1000 };
}
