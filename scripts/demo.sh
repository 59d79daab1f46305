#!/usr/bin/env bash
# `npm run demo`: the main job. Expects scripts/setup.sh to have run (the README's command does both).
set -euo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1
# grpc-js names the lab's etcd by its IP address in TLS, which Node reports as deprecated (DEP0123): noise here.
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--no-deprecation"
exec npx ts-node --transpile-only scripts/demo.ts
