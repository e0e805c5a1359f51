#!/usr/bin/env bash
# `npm test`: set up what the tests need, type-check, then run unit and integration
# tests with node's runner (integration tests start their own berthd on temp roots).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npx tsc --noEmit -p .
shopt -s nullglob
files=(test/unit/*.test.ts test/integration/*.test.ts)
exec node --import tsx --test --test-concurrency=2 "${files[@]}"
