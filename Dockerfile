#
# One image for every process of the gateway; the command picks the role:
#   node apps/gateway/dist/main.js                  data plane (/v1/*, scale it out)
#   node apps/admin/dist/main.js                    control plane (/api/*)
#   node apps/billing/dist/main.js                  BullMQ workers
#   node scripts/prisma-wasm-migrate.mjs deploy     one-shot: apply prisma/migrations
#
#   docker build -t llm-gateway .
#   docker run --rm -e DATABASE_URL=... llm-gateway node scripts/prisma-wasm-migrate.mjs deploy

ARG NODE_IMAGE=node:22-bookworm-slim

# ---------------------------------------------------------------- base
FROM ${NODE_IMAGE} AS base
WORKDIR /app
# PRISMA_SCHEMA_ENGINE_BINARY: Prisma 7's CLI would otherwise try to download a native schema
# engine before `prisma generate`, which does not need it.
ENV NX_DAEMON=false \
    NX_NO_CLOUD=true \
    NX_TUI=false \
    npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false \
    PRISMA_SCHEMA_ENGINE_BINARY=/bin/false \
    PRISMA_HIDE_UPDATE_MESSAGE=1

# ---------------------------------------------------------------- manifests
# Only the package manifests (root + every workspace), so the `npm install` layer below is
# reused until a dependency changes, not whenever any source file does.
FROM base AS manifests
COPY . /src
RUN mkdir -p /manifests \
 && cd /src \
 && find . -name node_modules -prune -o \( -name package.json -o -name package-lock.json -o -name .npmrc \) -print \
    | xargs -r cp --parents -t /manifests

# ---------------------------------------------------------------- build
FROM base AS build
COPY --from=manifests /manifests/ ./
# `npm install`, not `npm ci`: the lockfile lacks some other-platform optional packages and
# `npm ci` refuses it (see shared notes); with the same lockfile `npm install` leaves it unchanged.
# No install scripts: none is needed to build or run (native packages ship prebuilt binaries).
# (No BuildKit-only syntax anywhere: docker-compose v1 may build with the classic builder.)
RUN npm install --ignore-scripts --no-save \
 && npm cache clean --force
COPY . .
RUN npx prisma generate && npm run build
# Production dependencies only, plus the wasm schema engine the one-shot migrate needs
# (@prisma/schema-engine-wasm is a devDependency; @prisma/driver-adapter-utils comes with @prisma/adapter-pg).
RUN cp -a node_modules/@prisma/schema-engine-wasm /tmp/schema-engine-wasm \
 && npm prune --omit=dev --ignore-scripts \
 && rm -rf node_modules/@prisma/schema-engine-wasm \
 && cp -a /tmp/schema-engine-wasm node_modules/@prisma/schema-engine-wasm \
 && rm -rf node_modules/.cache .nx \
 && node -e "require.resolve('@prisma/schema-engine-wasm/schema_engine_bg'); require.resolve('@prisma/adapter-pg'); require.resolve('@prisma/driver-adapter-utils')"

# ---------------------------------------------------------------- runtime
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
# Owned by root and read-only for the app user: the processes never write their own code.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/apps ./apps
COPY --from=build /app/libs ./libs
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/scripts ./scripts
USER node
EXPOSE 8080
# Exec form: node is PID 1 and gets SIGTERM directly (the apps drain streams on SIGTERM).
# Compose adds `init: true` for zombie reaping.
CMD ["node", "apps/gateway/dist/main.js"]
