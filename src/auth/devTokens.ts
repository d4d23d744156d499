// Mints user JWTs for the demo page's dev login (only when DEV_LOGIN is on; see config.ts).
import { createSigner } from "fast-jwt";

export const DEV_TOKEN_TTL_SECONDS = 3600;

const signers = new Map<string, (claims: Record<string, unknown>) => string>();

export function mintUserToken(secret: string, userId: string, now: number): { token: string; expiresAt: number } {
  let sign = signers.get(secret);
  if (!sign) {
    sign = createSigner({ key: secret, algorithm: "HS256" }) as (claims: Record<string, unknown>) => string;
    signers.set(secret, sign);
  }
  const issuedAt = Math.floor(now / 1000);
  const expiresAt = issuedAt + DEV_TOKEN_TTL_SECONDS;
  // iat/exp are set here (not by fast-jwt) so the expiry follows the caller's clock.
  return { token: sign({ sub: userId, iat: issuedAt, exp: expiresAt }), expiresAt: expiresAt * 1000 };
}
