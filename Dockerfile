# Evently: an image for every role (`serve`, `api`, `worker`, `migrate`, `payments-sim`, ...).
#   docker build -t evently .
#   docker run --rm -e DATABASE_URL=... -e JWT_SECRET=... evently api
# The compose file (docker-compose.yml) runs the whole system; see docs/operations.md.

# ---- build: compile TypeScript with the dev dependencies ----
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci runs `prepare` (scripts/build-web.mjs): without web/ yet, it skips the web build.
COPY scripts/build-web.mjs ./scripts/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsc keeps the repository layout under dist/ (rootDir is "."), so the CLI is dist/src/cli.js.
RUN npm run build
# The web front end, into dist/web (the runtime serves it from there).
COPY web ./web
RUN npm run build:web

# ---- runtime: production dependencies and the compiled code only ----
# Debian slim (glibc): @node-rs/bcrypt loads its prebuilt linux-x64-gnu / linux-arm64-gnu binary.
FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
# prepare finds neither Vite nor web/ here and skips: the build comes from the build stage.
COPY scripts/build-web.mjs ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# dist/ and migrations/ sit side by side as src/ and migrations/ do in the repository: the
# migrator finds ../../../migrations and the version reads ../package.json from there.
COPY --from=build /app/dist/src ./dist
# src/platform/web-app.ts finds it at ../../dist/web: /app/dist/platform → /app/dist/web.
COPY --from=build /app/dist/web ./dist/web
COPY migrations ./migrations
# `evently <command>` inside the container (e.g. docker compose exec api evently create-admin).
RUN printf '#!/bin/sh\nexec node /app/dist/cli.js "$@"\n' > /usr/local/bin/evently \
    && chmod 0755 /usr/local/bin/evently \
    && mkdir -p /app/data && chown node:node /app/data

# The unprivileged user of the official Node images.
USER node
EXPOSE 3000
# Ready = the required dependencies answer (503 otherwise). Slim images have no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself: it stops accepting, drains, then closes connections.
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve"]
