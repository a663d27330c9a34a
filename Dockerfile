# tidemark container image: docker build -t tidemark .
# The RUN steps call scripts/container-build.sh, which CI also runs (`container-build.sh check`): no Docker
# engine runs on the development machines, so CI proves the same build and install steps instead.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts/container-build.sh ./scripts/
COPY src ./src
RUN bash scripts/container-build.sh build

FROM node:24-bookworm-slim
COPY scripts/container-build.sh /usr/local/bin/container-build.sh
RUN bash /usr/local/bin/container-build.sh install-runtime
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
