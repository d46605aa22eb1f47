#!/usr/bin/env bash
# The migration's performance baseline: the same scenarios on the legacy
# pair (work notifications, tests/legacy), on the reference pair with polls
# answered at once (as the design planned), and on the reference pair with
# held polls (the server's default), on this machine in one run.
#
#   bash scripts/bench-baseline.sh [--samples N] [--out DIR]
#
# Builds both server binaries and the bench in release mode into the one
# target folder, then runs the bench. It prints a Markdown table (scenario |
# before | after as planned | after, held polls), the machine line and the paths of
# the two PNG charts it draws (docs/baseline-latency.png and
# docs/baseline-idle.png by default). About 3 minutes after the builds.
# docs/baseline.md explains the scenarios and the numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TARGET_DIR="$root/target"

log() { echo "bench-baseline: $*" >&2; }

log "building reference-server"
cargo build --release --locked -p reference-server >&2
log "building legacy-server and the bench (tests/legacy)"
(cd tests/legacy && cargo build --release --locked -p legacy-server -p baseline) >&2

# 1,000 idle workers hold 1,000 connections on each end of loopback.
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 4096 ]; then
  ulimit -n 4096 || log "could not raise the open-file limit to 4096; 1,000 workers may fail"
fi

log "running (about 3 minutes)"
exec "$CARGO_TARGET_DIR/release/baseline" "$@"
