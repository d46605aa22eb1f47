#!/usr/bin/env bash
# The flakiness check: builds once, then runs the whole test suite (the main
# workspace, tests/legacy, and the server's suites on a throwaway PostgreSQL
# cluster, as scripts/test.sh does) N times, never stopping at a failure, and
# prints which tests failed, in how many runs, and how they failed first.
#
#   bash scripts/run-tests-loop.sh 10
#
# Each run's output is kept in a log file under a temporary folder (its path
# is printed first). Exit 0 only when all N runs passed, 1 otherwise, 2 on a
# usage error.
#
# `--parse LOG...` (not in the usage) prints the summary of existing logs,
# one per run, without running anything: how the parsing is tested.
set -euo pipefail

readonly MARK='### run-tests-loop:'
# Lines shown of a failure message, or of a log's tail.
readonly TRIM=20

usage() {
  echo "usage: $0 N" >&2
  echo "Builds once, runs the whole test suite N times (N a positive integer)" >&2
  echo "and reports every test that failed, with how often and its first failure." >&2
  exit 2
}

# parse_log LOG OUT: reads a run's log and writes into the folder OUT
#   failed    one line per failing test: "<index>\t<test> (<binary>)"
#   <index>   that test's failure output (its `---- <test> stdout ----` section)
#   segments  one line per workspace run: "<n>\t<workspace>\t<exit>\t<failing
#             tests>\t<failed 0|1>\t<unexplained 0|1>\t<why unexplained>"
#   tail-<n>  when segment n's failure is unexplained (no failing test line, a
#             test binary killed by a signal, a build error): its last lines, or
#             the lines up to the first crash
# A log written by this script has marker lines around each workspace's
# output and its exit status; any other log is one segment whose status is
# inferred from its content.
parse_log() {
  local log=$1 out=$2
  rm -rf "$out"
  mkdir -p "$out"
  : >"$out/failed"
  : >"$out/segments"
  awk -v out="$out" -v mark="$MARK" -v trim="$TRIM" '
    function label(name) { return (ws bin == "") ? name : name " (" ws bin ")" }
    function stop() { if (file != "") close(file); file = "" }
    function begin_segment(name) {
      # "." is the main workspace; "-" a log without markers (never empty:
      # the shell reading the fields would merge two tabs).
      seg++; segws = (name == "") ? "-" : name; ws = (segws == "-" || segws == ".") ? "" : name ": "
      bin = ""; nfail = 0; bad = 0; sawerr = 0; nbuf = 0; crashed = 0; broken = 0; open = 1; stop()
    }
    function write_tail(   i, t) {
      t = out "/tail-" seg
      for (i = (nbuf > trim ? nbuf - trim : 0); i < nbuf; i++) print buf[i % trim] > t
      close(t)
    }
    function end_segment(code,   failed, unexplained, why) {
      stop()
      if (code == "?") failed = (nfail > 0 || bad || sawerr) ? 1 : 0
      else failed = (code != 0) ? 1 : 0
      unexplained = (failed && (nfail == 0 || bad)) ? 1 : 0
      why = crashed ? "a test binary was killed by a signal" : broken ? "a build error" : "no failing test line"
      printf "%d\t%s\t%s\t%d\t%d\t%d\t%s\n", seg, segws, code, nfail, failed, unexplained, why > (out "/segments")
      if (unexplained && !crashed) write_tail()
      open = 0
    }
    index($0, mark " workspace ") == 1 {
      if (open) end_segment("?")
      begin_segment(substr($0, length(mark " workspace ") + 1))
      next
    }
    index($0, mark " exit ") == 1 {
      if (!open) begin_segment("")
      end_segment(substr($0, length(mark " exit ") + 1) + 0)
      next
    }
    !open { begin_segment("") }
    { buf[nbuf % trim] = $0; nbuf++ }
    # "     Running unittests src/lib.rs (target/debug/deps/codemod-0123abcd)"
    /^ *Running .*\)$/ {
      stop(); b = $0
      sub(/\)$/, "", b); sub(/.*[(\/]/, "", b); sub(/-[0-9a-f]+$/, "", b)
      bin = b; next
    }
    /^ *Doc-tests / { stop(); b = $0; sub(/^ *Doc-tests /, "", b); bin = b " doctests"; next }
    /^test .* \.\.\. FAILED$/ {
      name = $0; sub(/^test /, "", name); sub(/ \.\.\. FAILED$/, "", name)
      key = label(name)
      if (!(key in idx)) {
        idx[key] = ++n; nfail++
        printf "%d\t%s\n", n, key > (out "/failed")
      }
      next
    }
    /^---- .* std(out|err) ----$/ {
      stop(); name = $0
      sub(/^---- /, "", name); sub(/ std(out|err) ----$/, "", name)
      key = label(name)
      if (key in idx) file = out "/" idx[key]
      next
    }
    /^(failures|successes):$/ || /^test result: / { stop() }
    /^test result: FAILED/ { sawerr = 1 }
    /^error(\[E[0-9]+\])?: / { sawerr = 1 }
    /^error\[E[0-9]+\]: / || /^error: could not compile/ { bad = 1; broken = 1 }
    # A test binary killed by a signal: the tail is what led to it.
    /process didn.t exit successfully: .*\(signal: / { bad = 1; if (!crashed) write_tail(); crashed = 1 }
    file != "" { print >> file }
    END { if (open) end_segment("?") }
  ' "$log"
}

# show_trimmed FILE: FILE without its leading and trailing blank lines and
# without stack backtrace frames (RUST_BACKTRACE=1), at most TRIM lines,
# indented.
show_trimmed() {
  awk -v trim="$TRIM" '
    /^stack backtrace:$/ { frames = 1; $0 = "[stack backtrace: see the log]" }
    frames && (/^ +[0-9]+: / || /^ +at / || /^note: Some details are omitted/) { next }
    frames && !/^\[stack backtrace/ { frames = 0 }
    NF { while (blank > 0 && seen) { lines[++n] = ""; blank-- } lines[++n] = $0; seen = 1; blank = 0; next }
    { blank++ }
    END {
      for (i = 1; i <= n && i <= trim; i++) print "      " lines[i]
      if (n > trim) printf "      [... %d more lines]\n", n - trim
    }
  ' "$1"
}

# summarize LOG...: parses each log as one run and prints the summary table.
# Returns 0 when every run passed.
summarize() {
  local work k=0 run passed=0 idx key i seg ws code failed unexplained why status
  local -a order=() unexplained_runs=()
  local -A count=() runs=() first=() firstrun=()
  work=$(mktemp -d)
  for log in "$@"; do
    k=$((k + 1))
    parse_log "$log" "$work/$k"
    status=passed
    while IFS=$'\t' read -r seg ws code _ failed unexplained why; do
      if [ "$failed" = 1 ]; then status=failed; fi
      if [ "$unexplained" = 1 ]; then unexplained_runs+=("$k:$seg:$ws:$code:$why"); fi
    done <"$work/$k/segments"
    if [ "$status" = passed ]; then passed=$((passed + 1)); fi
    while IFS=$'\t' read -r idx key; do
      if [ -z "${count[$key]+set}" ]; then
        order+=("$key")
        count[$key]=0
        first[$key]="$work/$k/$idx"
        firstrun[$key]=$k
      fi
      count[$key]=$((count[$key] + 1))
      runs[$key]="${runs[$key]:+${runs[$key]}, }$k"
    done <"$work/$k/failed"
  done

  echo
  echo "Runs: $k, passed: $passed, failed: $((k - passed))."
  if [ "${#order[@]}" -gt 0 ]; then
    echo
    echo "Tests that failed (${#order[@]}):"
    printf '  %-6s  %-16s  %s\n' failed "in runs" test
    for key in "${order[@]}"; do
      printf '  %-6s  %-16s  %s\n' "${count[$key]}/$k" "${runs[$key]}" "$key"
    done
    for key in "${order[@]}"; do
      echo
      echo "  First failure of $key (run ${firstrun[$key]}, log $(log_of "${firstrun[$key]}" "$@")):"
      if [ -s "${first[$key]}" ]; then
        show_trimmed "${first[$key]}"
      else
        echo "      (no '---- ... stdout ----' section in the log)"
      fi
    done
  fi
  for i in "${unexplained_runs[@]}"; do
    IFS=: read -r run seg ws code why <<<"$i"
    if [ "$ws" = . ] || [ "$ws" = - ]; then ws=; fi
    if [ "$code" = "?" ]; then code="status not in the log"; else code="exit $code"; fi
    echo
    echo "  Run $run${ws:+ ($ws)} failed ($code): $why. Last lines (log $(log_of "$run" "$@")):"
    if [ -s "$work/$run/tail-$seg" ]; then
      sed 's/^/      /' "$work/$run/tail-$seg"
    else
      echo "      (empty)"
    fi
  done
  rm -rf "$work"
  [ "$passed" -eq "$#" ]
}

# log_of K LOG...: the K-th log.
log_of() {
  local k=$1
  shift
  echo "${!k}"
}

# run_suite LOG: one run of both workspaces, output and exit statuses in LOG.
run_suite() {
  local log=$1 code
  {
    echo "$MARK workspace ."
    code=0
    INSTA_UPDATE=no cargo test --workspace --locked --no-fail-fast || code=$?
    echo "$MARK exit $code"
    if [ -f tests/legacy/Cargo.toml ]; then
      echo "$MARK workspace tests/legacy"
      code=0
      (cd tests/legacy && INSTA_UPDATE=no CARGO_TARGET_DIR="$root/target" \
        cargo test --workspace --locked --no-fail-fast) || code=$?
      echo "$MARK exit $code"
    fi
    if [ -n "${FLOVYN_TEST_POSTGRES_URL:-}" ]; then
      echo "$MARK workspace . (PostgreSQL)"
      code=0
      INSTA_UPDATE=no FLOVYN_TEST_BACKEND=postgres cargo test --workspace --locked --no-fail-fast \
        || code=$?
      FLOVYN_TEST_BACKEND=postgres cargo test --workspace --locked --no-fail-fast --test replicas \
        || code=$?
      echo "$MARK exit $code"
    fi
  } >"$log" 2>&1 </dev/null
}

# build: compiles every test binary once, so that the runs only run.
build() {
  local log=$1 code=0
  {
    cargo test --workspace --locked --no-run || code=$?
    [ "$code" -ne 0 ] || cargo test --workspace --locked --no-run --test replicas || code=$?
    if [ "$code" -eq 0 ] && [ -f tests/legacy/Cargo.toml ]; then
      (cd tests/legacy && CARGO_TARGET_DIR="$root/target" cargo test --workspace --locked --no-run) || code=$?
    fi
  } >"$log" 2>&1 </dev/null
  return "$code"
}

main() {
  [ "$#" -eq 1 ] || usage
  [[ $1 =~ ^[1-9][0-9]{0,5}$ ]] || usage
  local n=$1 k start tests logdir
  local -a logs=()
  cd "$(dirname "$0")/.."
  root=$(pwd)
  logdir=$(mktemp -d "${TMPDIR:-/tmp}/run-tests-loop.XXXXXX")
  echo "Logs: $logdir"

  # The PostgreSQL phase of scripts/test.sh, on one cluster for all runs.
  # shellcheck source=scripts/postgres.sh
  source scripts/postgres.sh
  trap stop_postgres EXIT
  start_postgres

  echo "Building the test binaries (log: $logdir/build.log) ..."
  if ! build "$logdir/build.log"; then
    echo "The build failed; nothing was run. Last 40 lines of $logdir/build.log:" >&2
    tail -n 40 "$logdir/build.log" >&2
    exit 1
  fi

  for ((k = 1; k <= n; k++)); do
    logs+=("$logdir/run-$k.log")
    start=$SECONDS
    printf 'run %d/%d ... ' "$k" "$n"
    run_suite "$logdir/run-$k.log"
    parse_log "$logdir/run-$k.log" "$logdir/.parsed"
    tests=$(awk -F'\t' '{ printf "%s%s", (NR > 1 ? ", " : ""), $2 }' "$logdir/.parsed/failed")
    if awk -F'\t' '$5 == 1 { bad = 1 } END { exit !bad }' "$logdir/.parsed/segments"; then
      printf 'FAILED in %d s%s\n' "$((SECONDS - start))" "${tests:+: $tests}"
    else
      printf 'passed in %d s\n' "$((SECONDS - start))"
    fi
  done
  rm -rf "$logdir/.parsed"

  if summarize "${logs[@]}"; then
    echo "All $n runs passed. Logs: $logdir"
  else
    echo
    echo "Logs: $logdir"
    exit 1
  fi
}

if [ "${1:-}" = --parse ]; then
  shift
  [ "$#" -ge 1 ] || usage
  summarize "$@"
else
  main "$@"
fi
