#!/usr/bin/env bash
# `npm test`: set up what the tests need, type-check, then run unit and integration
# tests with node's runner (integration tests start their own berthd on temp roots).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npx tsc --noEmit -p .
shopt -s nullglob
files=(test/unit/*.test.ts test/integration/*.test.ts)
status=0
node --import tsx --test --test-concurrency=2 "${files[@]}" || status=$?
# The test daemons share berth's global iptables chains and leave them (empty) behind.
bash scripts/remove-berth-chains.sh
exit "$status"
