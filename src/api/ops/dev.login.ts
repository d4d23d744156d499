// dev.login — mint a short-lived user JWT for a chosen name; POST /v1/dev/login. Demo only:
// without DEV_LOGIN (which follows SEED_DEMO when unset) the route answers 404 like no route.
import { z } from "zod";
import { DEV_TOKEN_TTL_SECONDS, mintUserToken } from "../../auth/devTokens.js";
import { defineOp } from "../op.js";
import { instant } from "../schemas.js";

export const devLogin = defineOp({
  name: "dev.login",
  summary: `demo only (DEV_LOGIN): a user JWT for the given name, valid ${DEV_TOKEN_TTL_SECONDS} s`,
  http: { method: "POST", path: "/v1/dev/login", status: 200 },
  gate: "none",
  enabled: (config) => config.devLogin,
  args: z.object({ name: z.string().trim().min(1).max(64) }),
  result: z.object({ token: z.string(), userId: z.string(), expiresAt: instant }),
  handle({ name }, { config, now }) {
    const { token, expiresAt } = mintUserToken(config.authSecret, name, now);
    return { token, userId: name, expiresAt: new Date(expiresAt).toISOString() };
  },
});
