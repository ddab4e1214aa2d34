# syntax=docker/dockerfile:1
# Switchboard production image. Build: docker build -t switchboard .
# Node 24 is the LTS line that better-sqlite3 12 ships prebuilt binaries for; the tag is exact so that a
# rebuild gives the same runtime. Bump it deliberately (see integration/runbook.md, "Upgrade").

# --- build: install everything, compile TypeScript, then drop dev dependencies -------------------------
FROM node:24.20.0-bookworm-slim AS build
WORKDIR /app
# Compilers for better-sqlite3, used only when no prebuilt binary matches.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# --- runtime: production dependencies, compiled code, nothing else --------------------------------------
FROM node:24.20.0-bookworm-slim AS runtime
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=3000 \
  DATABASE_URL=sqlite:/data/switchboard.db \
  PM2_HOME=/home/node/.pm2 \
  SWITCHBOARD_PM2_MODE=single \
  PATH=/app/node_modules/.bin:$PATH
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node ecosystem.config.js ./ecosystem.config.js
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
# The image's own unprivileged user (uid 1000).
USER node
EXPOSE 3000
# No curl in slim images: Node's fetch answers the probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# pm2-runtime keeps PM2 in the foreground (signals reach it, logs go to stdout) and restarts the process on
# a crash or above max_memory_restart. SWITCHBOARD_PM2_MODE=single runs every role in one process: the
# container is the unit the orchestrator replaces, so PM2's zero-downtime reload across roles is not needed.
CMD ["pm2-runtime", "ecosystem.config.js"]
