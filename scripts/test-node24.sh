#!/usr/bin/env bash
# The test suite under Node 24 (the runtime the container ships), beside the machine's own Node.
# The npm package `node@24` provides the binary; vitest and every process the tests spawn use it.
set -euo pipefail
cd "$(dirname "$0")/.."
node24="$(cd /tmp && npm exec --yes --package=node@24 -- node -p process.execPath)"
echo "tidemark test: Node $("$node24" --version) at $node24"
exec "$node24" node_modules/vitest/vitest.mjs run "$@"
