# syntax=docker/dockerfile:1

# Node 20 reached end of life in April 2026; 22 is LTS and satisfies package.json "engines".
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: install everything, compile, then drop devDependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# @scarf/scarf (pulled in by swagger-ui-dist) phones home from its install script. npm 11 runs
# no script package.json's allowScripts does not allow; the image's npm may be older.
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.js ./scripts/
COPY src ./src
COPY web ./web
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8443
WORKDIR /app
# Application files stay root-owned: the node user can read them but not modify them.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# DATA_DIR holds the generated self-signed certificate and, without DATABASE_URL, the embedded database.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 8443
# Slim images have no curl: probe with node. The certificate is self-signed, hence rejectUnauthorized:false.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const c=process.env.TLS==='off'?require('node:http'):require('node:https');c.get({host:'127.0.0.1',port:process.env.PORT||8443,path:'/health/live',rejectUnauthorized:false,timeout:4000},r=>process.exit(r.statusCode===200?0:1)).on('timeout',()=>process.exit(1)).on('error',()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
