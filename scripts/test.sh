#!/usr/bin/env bash
# The README's test command (`npm test`): installs what the tests need on a fresh machine, then runs them.
# System packages: redis-server, docker-registry (CNCF Distribution), skopeo, git, chromium. npm packages: `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v git >/dev/null 2>&1 || need+=(git)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
# The browser tests drive Debian's headless Chromium with playwright-core.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The deploy/ render tests run `kubectl kustomize` (Debian: kubernetes-client).
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "tidemark test: installing Debian packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "tidemark test: missing system packages: ${need[*]}" >&2
    echo "  install them first, e.g.: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

# Install npm packages, exactly as locked, when missing or older than the lockfile. package-lock.json lists
# every platform's optional binaries (biome's), so `npm ci` works on Linux, macOS and Windows alike.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

exec npx vitest run "$@"
