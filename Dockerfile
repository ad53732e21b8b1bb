# One image for the gateway and every subgraph; docker-compose.yml and the
# Kubernetes manifests pick the entry point. Node 24 LTS.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -p . && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# V8's young generation as Node 20 sizes it (foundation/service/process.ts, YOUNG_GENERATION_FLAG): Node 24 would let
# it grow to 128 MB per process. A flag V8 reads only at start, hence NODE_OPTIONS.
ENV NODE_OPTIONS=--max-semi-space-size=16
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/schema ./schema
# The node user may write only .data (development keys, .eml mail when no SMTP is set).
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
CMD ["node", "dist/gateway/main.js"]
