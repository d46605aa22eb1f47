#!/usr/bin/env bash
# Runs every test of both workspaces (the main one and the before-state
# pair in tests/legacy), then the server's tests on PostgreSQL, on a fresh
# machine too: cargo builds everything it needs into the one target folder,
# and PostgreSQL is installed and started when needed. Snapshot mismatches
# fail (insta never writes here), and a .snap file that no test references
# fails the run as well. Arguments go to every `cargo test` run (e.g. a
# test name filter).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

refs=$(mktemp)
trap 'rm -f "$refs"' EXIT

INSTA_UPDATE=no INSTA_SNAPSHOT_REFERENCES_FILE="$refs" cargo test --workspace --locked "$@"
(cd tests/legacy && CARGO_TARGET_DIR="$root/target" cargo test --workspace --locked "$@")

# The suites again on PostgreSQL (the same feature set as above, so nothing
# recompiles; the server-independent tests just run twice): a
# throwaway cluster (installed from the distribution's packages when
# missing), one schema per test.
source scripts/postgres.sh
trap 'stop_postgres; rm -f "$refs"' EXIT
start_postgres
INSTA_UPDATE=no FLOVYN_TEST_BACKEND=postgres cargo test --workspace --locked "$@"
# Two server processes on one database (PostgreSQL only).
FLOVYN_TEST_BACKEND=postgres cargo test --workspace --locked --test replicas "$@"

# Only meaningful for a full run (no test filter given).
if [ "$#" -eq 0 ]; then
  unreferenced=$(comm -23 \
    <(find snapshots -name '*.snap' -exec realpath {} + | sort) \
    <(xargs -r realpath < "$refs" | sort -u))
  if [ -n "$unreferenced" ]; then
    echo "Snapshots that no test references (delete them or restore their test):" >&2
    echo "$unreferenced" >&2
    exit 1
  fi
  pending=$(find . -path ./target -prune -o \( -name '*.snap.new' -o -name '*.pending-snap' \) -print)
  if [ -n "$pending" ]; then
    echo "Pending snapshots left in the tree: $pending" >&2
    exit 1
  fi
fi
echo "All tests passed."
