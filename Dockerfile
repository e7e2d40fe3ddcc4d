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
# The runtime defaults of `bun start` (package.json), read from there by the tests:
# BUN_JSC_forceRAMSize: JavaScriptCore sizes its heap growth as for a 512 MiB machine, so under load the
# server peaks near 100 MiB instead of 140-180; it bounds no allocation. BUN_JSC_useFTLJIT=false: the
# optimising tier's compilations cost 4 MiB at peak and no throughput here. BUN_JSC_smallHeapGrowthFactor
# =1.7: the heap may grow to 1.7 times what survived the last collection instead of 2, about 9 MiB less at
# peak for 1-2 % of the throughput (docs/performance.md). Set your own values with `-e` to change them.
ENV NODE_ENV=production \
	BUN_JSC_forceRAMSize=536870912 \
	BUN_JSC_useFTLJIT=false \
	BUN_JSC_smallHeapGrowthFactor=1.7 \
	PORT=3000 \
	HOST=0.0.0.0 \
	DATABASE_PATH=/data/switchyard.db \
	RULES_PATH=/data/rules.json
COPY package.json ./
COPY --from=build /app/dist ./dist
COPY db/migrations ./db/migrations
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
# SCHED_BATCH and the log writer thread to SCHED_IDLE: README, "Performance". Works as the unprivileged
# `bun` user.
CMD ["bun", "dist/index.js"]
