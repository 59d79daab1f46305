#!/usr/bin/env bash
# `npm run demo`: the main job. Expects scripts/setup.sh to have run (the README's command does both).
set -euo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1
exec npx ts-node --transpile-only scripts/demo.ts
