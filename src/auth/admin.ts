// Admin identity: a fixed bearer token, compared in constant time.
import { createHash, timingSafeEqual } from "node:crypto";
import { ApiError } from "../errors.js";

export type AuthenticateAdmin = (token: string | undefined) => void;

export function createAdminAuthenticator(adminToken: string): AuthenticateAdmin {
  // Hashing both sides gives equal lengths, so timingSafeEqual never leaks the token's length.
  const expected = createHash("sha256").update(adminToken).digest();
  return (token) => {
    const given = createHash("sha256")
      .update(token ?? "")
      .digest();
    if (!token || !timingSafeEqual(given, expected)) {
      throw new ApiError("UNAUTHENTICATED", "admin credentials required");
    }
  };
}
