# syntax=docker/dockerfile:1
# Switchyard: multi-stage build on the official Bun image; runs as the image's non-root `bun` user
# with its data (SQLite database, rules, nothing else) on the /data volume.

ARG BUN_VERSION=1.4.5

FROM oven/bun:${BUN_VERSION} AS deps
WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production

FROM oven/bun:${BUN_VERSION}-slim AS runtime
WORKDIR /app
# BUN_JSC_forceRAMSize: JavaScriptCore sizes its heap growth as for a 512 MiB machine, the same as
# `bun start` (package.json): under load the server peaks near 105 MiB instead of 140-180
# (docs/performance.md). It bounds no allocation; set your own value with `-e` to change it.
ENV NODE_ENV=production \
	BUN_JSC_forceRAMSize=536870912 \
	PORT=3000 \
	HOST=0.0.0.0 \
	DATABASE_PATH=/data/switchyard.db \
	RULES_PATH=/data/rules.json
COPY --from=deps /app/node_modules ./node_modules
COPY package.json bun.lock tsconfig.json ./
COPY src ./src
COPY db ./db
RUN mkdir -p /data && chown bun:bun /data
USER bun
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
	CMD ["bun", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["bun", "src/index.ts"]
