// User identity: verifies the HS256 JWT of `Authorization: Bearer` and returns its `sub`.
import { createVerifier } from "fast-jwt";
import { LRUCache } from "lru-cache";
import { ApiError } from "../errors.js";
import { hasControlCharacter } from "../text.js";
import { DEV_ISSUER, DEV_SUBJECT_PREFIX } from "./devTokens.js";

export interface Identity {
  userId: string;
  /** Epoch ms after which the token no longer counts (a WebSocket re-checks it per request). */
  expiresAt: number;
}

export interface AuthSettings {
  secret: string;
  /** Dev login is on: `iss: "dev-login"` tokens with a `demo:` subject are accepted. */
  devLogin: boolean;
  /** When set, every other token must carry this `iss`. */
  issuer?: string | undefined;
  /** When set, every token's `aud` must name it. */
  audience?: string | undefined;
  /** When set, a token whose `exp` is further than this in the future is refused. */
  maxLifetimeSeconds?: number | undefined;
}

/** Longer bearer tokens are refused before any verification: their HMAC alone costs ~1 ms at 120 KB. */
export const MAX_BEARER_BYTES = 8 * 1024;

/** Verified tokens remembered, so a repeat costs one map lookup instead of one HMAC. */
const VALID_TOKEN_CACHE = 10_000;

export interface Authenticator {
  /** The identity of `token`, or UNAUTHENTICATED. */
  verify(token: string | undefined, now: number): Identity;
  /** The identity of `token` when it was verified before and is still valid (no HMAC, no error). */
  cached(token: string, now: number): Identity | undefined;
}

export function createAuthenticator(settings: AuthSettings): Authenticator {
  // fast-jwt checks the signature, `alg` (HS256 only, so `none` and others are refused), `exp`
  // and `nbf`. Its own cache is off: it would also keep failures, which a flood of bad tokens
  // then uses to push real users' tokens out.
  const verifyJwt = createVerifier({ key: settings.secret, algorithms: ["HS256"], requiredClaims: ["exp", "sub"] });
  const valid = new LRUCache<string, Identity>({ max: VALID_TOKEN_CACHE });

  const check = (token: string, now: number): Identity => {
    let claims: Record<string, unknown>;
    try {
      claims = verifyJwt(token) as Record<string, unknown>;
    } catch {
      throw unauthenticated("invalid or expired token");
    }
    const { sub, exp, iss } = claims;
    if (typeof sub !== "string" || sub.length < 1 || sub.length > 64) {
      throw unauthenticated("token subject must be a string of 1..64 characters");
    }
    if (hasControlCharacter(sub)) throw unauthenticated("token subject must not contain control characters");
    if (typeof exp !== "number") throw unauthenticated("token has no numeric exp");
    const isDev = iss === DEV_ISSUER;
    if (isDev !== sub.startsWith(DEV_SUBJECT_PREFIX)) {
      // Only the dev login mints `demo:` subjects, and it mints nothing else.
      throw unauthenticated(`a "${DEV_SUBJECT_PREFIX}" subject is reserved for dev login tokens`);
    }
    if (isDev && !settings.devLogin) throw unauthenticated("dev login is off on this server");
    if (!isDev && settings.issuer !== undefined && iss !== settings.issuer) {
      throw unauthenticated("token issuer is not accepted");
    }
    if (settings.audience !== undefined && !audienceNames(claims.aud, settings.audience)) {
      throw unauthenticated("token audience is not accepted");
    }
    const expiresAt = exp * 1000;
    if (settings.maxLifetimeSeconds !== undefined && expiresAt - now > settings.maxLifetimeSeconds * 1000) {
      throw unauthenticated(`token lifetime is over ${settings.maxLifetimeSeconds} s`);
    }
    return { userId: sub, expiresAt };
  };

  const cached = (token: string, now: number): Identity | undefined => {
    const identity = valid.get(token);
    if (identity === undefined) return undefined;
    if (identity.expiresAt > now) return identity;
    valid.delete(token);
    return undefined;
  };

  return {
    cached,
    verify(token, now) {
      if (!token) throw unauthenticated("missing bearer token");
      if (token.length > MAX_BEARER_BYTES) throw unauthenticated(`bearer token over ${MAX_BEARER_BYTES} bytes`);
      const known = cached(token, now);
      if (known !== undefined) return known;
      const identity = check(token, now);
      valid.set(token, identity);
      return identity;
    },
  };
}

function audienceNames(aud: unknown, audience: string): boolean {
  return aud === audience || (Array.isArray(aud) && aud.includes(audience));
}

function unauthenticated(message: string): ApiError {
  return new ApiError("UNAUTHENTICATED", message);
}

/** The token part of an `Authorization: Bearer <token>` header, if it has that shape. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
