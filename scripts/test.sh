#!/usr/bin/env bash
# The whole test suite: type-check, lint and format check, unit tests, local-process tests, lab tests (real sshd/QEMU/etcd in network
# namespaces), provider tests (real terraform). Ends with the lab torn down, the failed tests
# with the start of their messages, and a closing "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1
results=$(mktemp -d)
# The unit tests' temporary files (cdktf's Testing.app and fullSynth leave a directory per call) go here.
unit_tmp=$(mktemp -d)
trap 'rm -rf "$results" "$unit_tmp"' EXIT
status=0

echo "== type-check, lint, format"
npx tsc --noEmit -p . || status=1
npx eslint --max-warnings 0 . || status=1
npx prettier --check . >/dev/null || { npx prettier --list-different .; echo "Prettier: the files above are not formatted (npm run format)"; status=1; }

# The provider (and the monitor agent's bundle) as terraform, cdktf and the constructs' terraform validate use it.
echo "== provider install"
npx ts-node --transpile-only scripts/provider-install.ts >/dev/null || status=1

for project in unit local lab provider; do
  echo "== jest: $project"
  extra=()
  # Lab and provider tests run one file at a time (one lab). --forceExit: a test that fails
  # half-way can leave a provider process or client open; the run must still end and report.
  case $project in lab | provider) extra=(--runInBand --forceExit) ;; esac
  run=()
  case $project in unit | local) run=(env TMPDIR="$unit_tmp") ;; esac
  "${run[@]}" npx jest --selectProjects "$project" "${extra[@]}" --json --outputFile="$results/$project.json" "$@" || status=1
done

echo "== lab down (must leave nothing behind)"
npx ts-node --transpile-only scripts/lab/cli.ts down || status=1

npx ts-node --transpile-only scripts/test-summary.ts "$results" "$status"
exit $status
