// dev.login — mint a short-lived `demo:<name>` JWT; POST /v1/dev/login. Demo only: with dev login
// off (always in production) the route answers 404 like no route. Limited per client address.
import { z } from "zod";
import { DEV_TOKEN_TTL_SECONDS, mintDevToken } from "../../auth/devTokens.js";
import { defineOp } from "../op.js";
import { instant, printable } from "../schemas.js";

export const devLogin = defineOp({
  name: "dev.login",
  summary: `demo only (DEV_LOGIN): a JWT for the user "demo:<name>", valid up to ${DEV_TOKEN_TTL_SECONDS} s`,
  http: { method: "POST", path: "/v1/dev/login", status: 200 },
  gate: "none",
  enabled: (config) => config.devLogin,
  limitPerAddress: true,
  args: z.object({
    name: printable(z.string().trim().min(1).max(59)),
  }),
  result: z.object({ token: z.string(), userId: z.string(), expiresAt: instant }),
  handle({ name }, { config, now }) {
    const settings = {
      secret: config.authSecret,
      audience: config.auth.audience,
      maxLifetimeSeconds: config.auth.maxLifetimeSeconds,
    };
    const { token, userId, expiresAt } = mintDevToken(settings, name, now);
    return { token, userId, expiresAt: new Date(expiresAt).toISOString() };
  },
});
