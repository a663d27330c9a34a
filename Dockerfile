# tidemark container image. Build: docker build -t tidemark .
# (No Docker engine runs on the development machines; the build steps below are the project's own
#  `npm ci` / `npm run build`, which CI runs on every change.)

FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund || npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20.20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --create-home --shell /usr/sbin/nologin tidemark \
 && mkdir -p /var/lib/tidemark && chown tidemark /var/lib/tidemark
WORKDIR /app
ENV NODE_ENV=production TIDEMARK_WORKDIR=/var/lib/tidemark PORT=3000
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json app.yml ./
COPY policies ./policies
USER 10001
VOLUME /var/lib/tidemark
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:3000/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/src/cli.js"]
CMD ["serve"]
