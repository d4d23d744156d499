# syntax=docker/dockerfile:1
# Build stage: native modules (better-sqlite3) need a compiler; the runtime image does not.
# Still Node 20: the suite does not pass yet on Node 24 with upstream uWebSockets.js (issue 17).
FROM node:20-slim AS build
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

FROM node:20-slim
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
