# syntax=docker/dockerfile:1
# Node.js 24 LTS on Debian 13 (trixie) in both stages: its glibc 2.41 loads upstream
# uWebSockets.js v20.57.0 (src/uws.ts picks it), and the runtime has the same Node ABI and libc
# as the stage that compiled better-sqlite3. This is the setup .ci/node24 tests (a trixie root with
# Node 24 from npm); the image itself is not built by CI here (no docker on the CI machine).
# Build stage: native modules (better-sqlite3) need a compiler; the runtime image does not.
FROM node:24-trixie-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY machines ./machines
RUN npm run build && npm prune --omit=dev

FROM node:24-trixie-slim
# Production: dev login can never be on, and no demo catalog is loaded into a real database.
ENV NODE_ENV=production \
    SEED_DEMO=0 \
    DATA_DIR=/data \
    PORT=8080 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY data/demo-catalog.json ./data/demo-catalog.json
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
