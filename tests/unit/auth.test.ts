// User JWTs: who may use a `demo:` subject, what is refused before verification, which optional
// claims are checked, and that failures never enter the cache of verified tokens.
import { describe, expect, it } from "vitest";
import { mintDevToken } from "../../src/auth/devTokens.js";
import { type AuthSettings, createAuthenticator, MAX_BEARER_BYTES } from "../../src/auth/users.js";
import { ApiError } from "../../src/errors.js";
import { signJwt, TEST_AUTH_SECRET } from "../helpers/server.js";

const now = Date.now();
const exp = Math.floor(now / 1000) + 600;
const base: AuthSettings = { secret: TEST_AUTH_SECRET, devLogin: false };

function refusal(settings: AuthSettings, token: string): string | null {
  try {
    createAuthenticator(settings).verify(token, now);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("UNAUTHENTICATED");
    return (error as ApiError).message;
  }
}

describe("demo identities", () => {
  const dev = mintDevToken({ secret: TEST_AUTH_SECRET }, "alice", now);

  it("dev login mints sub demo:<name> with iss dev-login, accepted only while dev login is on", () => {
    expect(dev.userId).toBe("demo:alice");
    const claims = JSON.parse(Buffer.from(dev.token.split(".")[1]!, "base64url").toString());
    expect(claims).toMatchObject({ iss: "dev-login", sub: "demo:alice" });
    expect(createAuthenticator({ ...base, devLogin: true }).verify(dev.token, now).userId).toBe("demo:alice");
    expect(refusal(base, dev.token)).toMatch(/dev login is off/);
  });

  it("no other token may use a demo: subject, and a dev-login token may not name a real user", () => {
    const on = { ...base, devLogin: true };
    expect(refusal(on, signJwt({ sub: "demo:alice", exp }))).toMatch(/reserved for dev login/);
    expect(refusal(on, signJwt({ sub: "demo:alice", exp, iss: "https://id.example" }))).toMatch(/reserved/);
    expect(refusal(on, signJwt({ sub: "alice", exp, iss: "dev-login" }))).toMatch(/reserved/);
    expect(createAuthenticator(on).verify(signJwt({ sub: "alice", exp }), now).userId).toBe("alice");
  });

  it("dev tokens carry the configured audience and stay within the lifetime cap", () => {
    const capped = mintDevToken({ secret: TEST_AUTH_SECRET, audience: "tickets", maxLifetimeSeconds: 60 }, "bo", now);
    expect(capped.expiresAt - now).toBeLessThanOrEqual(60_000);
    const settings = { ...base, devLogin: true, audience: "tickets", maxLifetimeSeconds: 60, issuer: "https://id" };
    expect(createAuthenticator(settings).verify(capped.token, now).userId).toBe("demo:bo");
  });
});

describe("refused without verification, never cached when bad", () => {
  it(`a validly signed token over ${MAX_BEARER_BYTES} bytes is refused`, () => {
    const padded = signJwt({ sub: "alice", exp, pad: "x".repeat(MAX_BEARER_BYTES) });
    expect(padded.length).toBeGreaterThan(MAX_BEARER_BYTES);
    expect(refusal(base, padded)).toMatch(/over 8192 bytes/);
  });

  it("a subject with a control character is refused", () => {
    expect(refusal(base, signJwt({ sub: "vic\u0000x", exp }))).toMatch(/control characters/);
    expect(refusal(base, signJwt({ sub: "vic\u007f", exp }))).toMatch(/control characters/);
  });

  it("20,000 failed verifications do not push a valid token out of the cache, and none of them is cached", () => {
    const auth = createAuthenticator(base);
    const good = signJwt({ sub: "alice", exp });
    auth.verify(good, now);
    const bad = (i: number) => signJwt({ sub: `mallory-${i}`, exp }, "another-secret-0123456789");
    for (let i = 0; i < 20_000; i++) expect(() => auth.verify(bad(i), now)).toThrow(ApiError);
    expect(auth.cached(good, now)?.userId).toBe("alice");
    expect(auth.cached(bad(0), now)).toBeUndefined();
  });

  it("a cached token stops counting at its exp", () => {
    const auth = createAuthenticator(base);
    const token = signJwt({ sub: "alice", exp });
    auth.verify(token, now);
    expect(auth.cached(token, exp * 1000 - 1)).toBeDefined();
    expect(auth.cached(token, exp * 1000)).toBeUndefined();
  });
});

describe("optional claim checks", () => {
  it("AUTH_ISSUER: other tokens must carry it", () => {
    const settings = { ...base, issuer: "https://id.example" };
    expect(refusal(settings, signJwt({ sub: "alice", exp }))).toMatch(/issuer/);
    expect(refusal(settings, signJwt({ sub: "alice", exp, iss: "https://evil.example" }))).toMatch(/issuer/);
    expect(refusal(settings, signJwt({ sub: "alice", exp, iss: "https://id.example" }))).toBeNull();
  });

  it("AUTH_AUDIENCE: aud must name it (a string or one of a list)", () => {
    const settings = { ...base, audience: "tickets" };
    expect(refusal(settings, signJwt({ sub: "alice", exp }))).toMatch(/audience/);
    expect(refusal(settings, signJwt({ sub: "alice", exp, aud: "shop" }))).toMatch(/audience/);
    expect(refusal(settings, signJwt({ sub: "alice", exp, aud: "tickets" }))).toBeNull();
    expect(refusal(settings, signJwt({ sub: "alice", exp, aud: ["shop", "tickets"] }))).toBeNull();
  });

  it("AUTH_MAX_TOKEN_LIFETIME_S counts exp minus now (iat is optional)", () => {
    const settings = { ...base, maxLifetimeSeconds: 900 };
    expect(refusal(settings, signJwt({ sub: "alice", exp: Math.floor(now / 1000) + 3600 }))).toMatch(/lifetime/);
    expect(refusal(settings, signJwt({ sub: "alice", exp: Math.floor(now / 1000) + 600 }))).toBeNull();
  });
});
