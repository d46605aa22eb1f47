#!/usr/bin/env bash
# The reference server's benchmark on SQLite, and beside it on a throwaway
# PostgreSQL cluster (scripts/postgres.sh): builds the release binary and
# prints both tables (docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p reference-server --example bench
source scripts/postgres.sh
trap stop_postgres EXIT
start_postgres
BENCH_POSTGRES_URL="$FLOVYN_TEST_POSTGRES_URL" target/release/examples/bench
