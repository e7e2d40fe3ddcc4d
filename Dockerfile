# syntax=docker/dockerfile:1
# Switchyard: multi-stage build on the official Bun image; runs as the image's non-root `bun` user
# with its data (SQLite database, rules, nothing else) on the /data volume.

ARG BUN_VERSION=1.4.5

FROM oven/bun:${BUN_VERSION} AS deps
WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production

# The server runs as one bundle (scripts/build.ts): the same code as src/, in less memory.
FROM deps AS build
COPY tsconfig.json ./
COPY scripts/build.ts ./scripts/
COPY src ./src
COPY db ./db
RUN bun run build

FROM oven/bun:${BUN_VERSION}-slim AS runtime
WORKDIR /app
# No BUN_JSC_* here: the runtime tuning, JavaScriptCore's options included, is the server's own
# (src/runtime/tuning.ts), which restarts itself with them at boot unless RUNTIME_TUNING=off. A BUN_JSC_*
# value set with `-e` wins over the server's.
ENV NODE_ENV=production \
	PORT=3000 \
	HOST=0.0.0.0 \
	DATABASE_PATH=/data/switchyard.db \
	RULES_PATH=/data/rules.json
COPY package.json ./
COPY --from=build /app/dist ./dist
COPY db/migrations ./db/migrations
COPY db/migrations-pg ./db/migrations-pg
COPY src/views/assets ./src/views/assets
# The browser scripts the dashboard serves (src/plugins/assets.ts); the bundle holds all the server code.
COPY --from=deps /app/node_modules/htmx.org/dist/htmx.min.js ./node_modules/htmx.org/dist/
COPY --from=deps /app/node_modules/alpinejs/dist/cdn.min.js ./node_modules/alpinejs/dist/
COPY --from=deps /app/node_modules/chart.js/dist/chart.umd.min.js ./node_modules/chart.js/dist/
RUN mkdir -p /data && chown bun:bun /data
USER bun
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
	CMD ["bun", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The server runs `chrt` (util-linux, part of every Debian image) to switch Bun's HTTP client thread to
# SCHED_BATCH and the log writer thread to SCHED_IDLE (src/runtime/tuning.ts). Works as the unprivileged
# `bun` user.
CMD ["bun", "dist/index.js"]
