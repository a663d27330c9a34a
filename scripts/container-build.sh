#!/usr/bin/env bash
# The container's build and install steps, used by the Dockerfile's RUN lines and by CI (no Docker engine
# runs on the development machines), so the two cannot drift.
#   container-build.sh build            npm ci + TypeScript build, then drop dev dependencies (in $PWD)
#   container-build.sh install-runtime  Debian packages the runtime needs (git, ca-certificates), non-root user
#   container-build.sh check            CI: run `build` in a staging copy of the repo and start the built CLI
set -euo pipefail

build() {
  npm ci --no-audit --no-fund
  npm run build
  npm prune --omit=dev --no-audit --no-fund
}

install_runtime() {
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git ca-certificates
  rm -rf /var/lib/apt/lists/*
  useradd --uid 10001 --create-home --shell /usr/sbin/nologin tidemark
  mkdir -p /var/lib/tidemark
  chown tidemark /var/lib/tidemark
}

check() {
  local root stage
  root="$(cd "$(dirname "$0")/.." && pwd)"
  stage="$root/.tmp/container-root/app"
  rm -rf "$stage" && mkdir -p "$stage"
  # What the Dockerfile's build stage COPYs.
  cp "$root/package.json" "$root/package-lock.json" "$root/tsconfig.json" "$root/tsconfig.build.json" "$stage/"
  cp -r "$root/src" "$stage/src"
  (cd "$stage" && build >/dev/null)
  test ! -e "$stage/node_modules/vitest" || { echo "container-build: dev dependencies left in the image" >&2; exit 1; }
  (cd "$stage" && NODE_ENV=production node dist/src/cli.js --help >/dev/null)
  echo "container-build: build and runtime install steps OK ($(du -sh "$stage" | cut -f1) staged)"
}

case "${1:-}" in
  build) build ;;
  install-runtime) install_runtime ;;
  check) check ;;
  *) echo "usage: $0 build|install-runtime|check" >&2; exit 2 ;;
esac
