#!/usr/bin/env bash
# The whole test suite: installs what it needs when missing, then lint, types, build, tests
# (unit tests, and integration tests against real supervisord instances and PHP workers).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "==> format check (prettier)" >&2
npx prettier --check .
echo "==> typecheck" >&2
npx tsc --noEmit -p .
echo "==> build" >&2
npm run build --silent
echo "==> tests" >&2
npx vitest run "$@"
