// User identity: verifies the HS256 JWT of `Authorization: Bearer` and returns its `sub`.
import { createVerifier } from "fast-jwt";
import { ApiError } from "../errors.js";

export interface Identity {
  userId: string;
  /** Epoch ms after which the token no longer counts (a WebSocket re-checks it per request). */
  expiresAt: number;
}

export type Authenticate = (token: string | undefined) => Identity;

export function createAuthenticator(secret: string): Authenticate {
  // fast-jwt checks signature, `alg` (HS256 only, so `none` and others are refused), `exp` and
  // `nbf`; its cache makes a repeat token cost one map lookup instead of one HMAC.
  const verify = createVerifier({
    key: secret,
    algorithms: ["HS256"],
    requiredClaims: ["exp", "sub"],
    cache: 10_000,
  });
  return (token) => {
    if (!token) throw new ApiError("UNAUTHENTICATED", "missing bearer token");
    let claims: { sub?: unknown; exp?: unknown };
    try {
      claims = verify(token) as { sub?: unknown; exp?: unknown };
    } catch {
      throw new ApiError("UNAUTHENTICATED", "invalid or expired token");
    }
    const { sub, exp } = claims;
    if (typeof sub !== "string" || sub.length < 1 || sub.length > 64) {
      throw new ApiError("UNAUTHENTICATED", "token subject must be a string of 1..64 characters");
    }
    if (typeof exp !== "number") throw new ApiError("UNAUTHENTICATED", "token has no numeric exp");
    return { userId: sub, expiresAt: exp * 1000 };
  };
}

/** The token part of an `Authorization: Bearer <token>` header, if it has that shape. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
