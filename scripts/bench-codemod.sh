#!/usr/bin/env bash
# Benchmarks the codemod's whole-process wall time beside ripgrep (and
# ast-grep when installed) and prints a Markdown table.
#
#   bash scripts/bench-codemod.sh
#
# Trees: the crate sources cargo downloaded (none mention the notifier),
# two generated 10,000-file trees (scripts/gen-bench-tree.py, seed 42): one
# where 1% of the files carry notifier code, one where none do; and one 7 MB
# file with about 80,000 edits.
#
# Timing: hyperfine (warmup 1, 5 runs, mean ± stddev), installed with apt
# when missing; without it, a loop of 5 runs after one warmup and the median.
# ripgrep is installed with apt when missing; ast-grep is used only when it
# is already on PATH (pip install ast-grep-cli).
#
# The table goes to stdout, progress to stderr. Environment: BENCH_RUNS
# (default 5), BENCH_FILES (default 10000), BENCH_TIMER=loop (time with the
# loop even when hyperfine is installed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

runs=${BENCH_RUNS:-5}
files=${BENCH_FILES:-10000}
registry="${CARGO_HOME:-$HOME/.cargo}/registry/src"

log() { echo "bench: $*" >&2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-codemod.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# --- 1. the binary ----------------------------------------------------------
log "building the release binary"
cargo build --release -p codemod --locked >&2
codemod="${CARGO_TARGET_DIR:-$root/target}/release/codemod"
[ -x "$codemod" ] || { log "no binary at $codemod"; exit 2; }

# --- 2. tools ---------------------------------------------------------------
apt_updated=0
# apt_install PKG: installs a Debian package as root or with sudo; fails
# (without aborting the script) when neither is possible.
apt_install() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      log "cannot install $1: not root and no passwordless sudo"
      return 1
    fi
  fi
  command -v apt-get >/dev/null 2>&1 || { log "cannot install $1: no apt-get"; return 1; }
  log "installing $1 with apt-get"
  if "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >"$tmp/apt.log" 2>&1; then
    return 0
  fi
  if [ "$apt_updated" -eq 0 ]; then
    apt_updated=1
    "${sudo[@]}" apt-get update -qq >>"$tmp/apt.log" 2>&1 || true
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >>"$tmp/apt.log" 2>&1 && return 0
  fi
  log "apt-get install $1 failed:"
  tail -n 5 "$tmp/apt.log" >&2
  return 1
}

have_rg=1
if ! command -v rg >/dev/null 2>&1; then
  apt_install ripgrep || true
  if ! command -v rg >/dev/null 2>&1; then
    have_rg=0
    echo "ripgrep (rg) is unavailable: its columns read n/a." >&2
  fi
fi

have_hyperfine=1
if [ "${BENCH_TIMER:-}" = loop ]; then
  have_hyperfine=0
  log "BENCH_TIMER=loop: timing with a loop of $runs runs (median)"
elif ! command -v hyperfine >/dev/null 2>&1; then
  apt_install hyperfine || true
  command -v hyperfine >/dev/null 2>&1 || {
    have_hyperfine=0
    log "hyperfine is unavailable: timing with a loop of $runs runs (median)"
  }
fi

# ast-grep: `ast-grep`, or `sg` when it is ast-grep (on Debian /usr/bin/sg
# is newgrp from the login package).
astgrep=""
if command -v ast-grep >/dev/null 2>&1; then
  astgrep=$(command -v ast-grep)
elif command -v sg >/dev/null 2>&1 && [ "$(basename "$(readlink -f "$(command -v sg)")")" != newgrp ] &&
  timeout 5 sg --version 2>/dev/null | grep -qi 'ast-grep'; then
  astgrep=$(command -v sg)
fi
astgrep_na="n/a (pip install ast-grep-cli)"
[ -n "$astgrep" ] || log "ast-grep not found: its column reads $astgrep_na"

# --- 3. trees ---------------------------------------------------------------
names=()
paths=()
if [ -d "$registry" ]; then
  names+=("cargo registry")
  paths+=("$registry")
else
  log "no cargo registry sources at $registry: skipping that tree"
fi
log "generating $files files (1% notifier) and $files files (none)"
python3 scripts/gen-bench-tree.py "$tmp/gen-1pct" --files "$files" --notifier-percent 1 --seed 42
python3 scripts/gen-bench-tree.py "$tmp/gen-none" --files "$files" --notifier-percent 0 --seed 42
label=$files
[ $((files % 1000)) -eq 0 ] && label="$((files / 1000))k"
names+=("generated $label (1% notifier)" "generated $label (none)")
paths+=("$tmp/gen-1pct" "$tmp/gen-none")
# One 7 MB file with about 80,000 edits (a notify call and its dead `let` in
# each of 40,000 methods): applying edits and mapping lines must be linear.
mkdir -p "$tmp/one-big"
python3 - "$tmp/one-big/big.rs" <<'PY'
import sys
parts = ["use std::sync::Arc;\n\npub struct S {\n    notifier: Arc<WorkerNotifier>,\n}\n\nimpl S {\n"]
size = i = 0
while size < 7_000_000:
    f = ("    pub fn f%d(&self, org: &str) {\n        let q = format!(\"q%d\");\n"
         "        self.notifier.notify_work_available(org, &q);\n        tracing::info!(\"step %d\");\n    }\n\n") % (i, i, i)
    parts.append(f)
    size += len(f)
    i += 1
parts.append("}\n")
open(sys.argv[1], "w").write("".join(parts))
PY
names+=("one 7 MB file, ~80k edits")
paths+=("$tmp/one-big")

# --- 4. measurements --------------------------------------------------------
# time_cmd NAME CMD...: prints "MEAN_MS SD_MS" (SD_MS is "-" with the loop).
time_cmd() {
  local name=$1
  shift
  if [ "$have_hyperfine" -eq 1 ]; then
    local json="$tmp/$name.json" quoted
    quoted=$(printf '%q ' "$@")
    hyperfine -N -i --warmup 1 --runs "$runs" --style none --export-json "$json" "$quoted" >"$tmp/$name.log" 2>&1 || {
      log "hyperfine failed for: $quoted"
      cat "$tmp/$name.log" >&2
      echo "- -"
      return
    }
    python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%.1f %.1f" % (r["mean"] * 1000, r["stddev"] * 1000))' "$json"
  else
    "$@" >/dev/null 2>&1 || true # warmup
    local times=() i start end
    for ((i = 0; i < runs; i++)); do
      start=$(date +%s%N)
      "$@" >/dev/null 2>&1 || true
      end=$(date +%s%N)
      times+=($(((end - start) / 1000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END {
      m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
      printf "%.1f -\n", m / 1000 }'
  fi
}

fmt_time() { # MEAN SD
  if [ "$1" = "-" ]; then
    echo "n/a"
  elif [ "$2" = "-" ]; then
    echo "$1"
  else
    echo "$1 ± $2"
  fi
}

ratio() { # A B -> A/B as "1.23x"
  if [ "$1" = "-" ] || [ "$2" = "-" ]; then
    echo "n/a"
  else
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'
  fi
}

rows=()
notes=()
for i in "${!names[@]}"; do
  name=${names[$i]}
  tree=${paths[$i]}
  id="t$i"
  log "measuring: $name ($tree)"

  # Counts and the codemod's findings, from its JSON report.
  rc=0
  "$codemod" --check --format json "$tree" >"$tmp/$id.report.json" 2>"$tmp/$id.report.err" || rc=$?
  read -r walked parsed changed errors < <(python3 - "$tmp/$id.report.json" "$tmp/$id.findings" <<'PY'
import json, sys
try:
    report = json.load(open(sys.argv[1]))
except ValueError:
    print("? ? ? ?")
    sys.exit()
stats = report["stats"]
errors = [f for f in report["files"] if f.get("error")]
with open(sys.argv[2], "w") as out:
    for f in errors:
        e = f["error"]
        where = "%s:%s" % (f["path"], e.get("line", "?"))
        out.write("  - %s: %s: %s\n" % (where, e["kind"], e.get("message", "")))
    for f in report["files"]:
        for e in f["edits"]:
            out.write("  - edit %s:%d: %s (%s)\n" % (f["path"], e["start_line"], e["rule"], e["cause"]))
print(stats["walked"], stats["parsed"], stats["changed"], len(errors))
PY
  )
  note="$name: codemod --check exit $rc, $changed files to change, $errors files that failed to parse or were rejected"
  if [ "$walked" = "?" ]; then
    note="$name: codemod --check exit $rc and no JSON report: $(head -c 300 "$tmp/$id.report.err")"
  fi
  notes+=("$note")
  if [ "$errors" != "0" ] && [ "$errors" != "?" ]; then
    log "WARNING: $name: $errors files failed to parse or were rejected:"
    grep -v '^  - edit ' "$tmp/$id.findings" | head -n 20 >&2
  fi
  if [ "$name" = "cargo registry" ] && [ "$changed" != "0" ] && [ "$changed" != "?" ]; then
    log "WARNING: edits proposed in the cargo registry (false positives?):"
    grep '^  - edit ' "$tmp/$id.findings" | head -n 40 >&2
    notes+=("WARNING: edits proposed in the cargo registry; first ones: $(grep '^  - edit ' "$tmp/$id.findings" | head -n 3 | tr '\n' ' ')")
  fi

  if [ "$have_rg" -eq 1 ]; then
    listed=$({ rg -l notify_work_available "$tree" 2>/dev/null || true; } | wc -l)
  else
    listed="n/a"
  fi

  read -r cm_mean cm_sd < <(time_cmd "$id-codemod" "$codemod" --check "$tree")
  if [ "$have_rg" -eq 1 ]; then
    read -r rg_mean rg_sd < <(time_cmd "$id-rg" rg -l notify_work_available "$tree")
  else
    rg_mean="-" rg_sd="-"
  fi
  if [ -n "$astgrep" ]; then
    # shellcheck disable=SC2016 # an ast-grep pattern, not a shell expansion
    read -r ag_mean ag_sd < <(time_cmd "$id-astgrep" "$astgrep" run -p '$A.notify_work_available($$$)' "$tree")
    ag_cell=$(fmt_time "$ag_mean" "$ag_sd")
    ag_ratio=$(ratio "$ag_mean" "$cm_mean")
  else
    ag_cell=$astgrep_na
    ag_ratio="n/a"
  fi
  rows+=("| $name | $walked | $parsed | $listed | $(fmt_time "$cm_mean" "$cm_sd") | $(fmt_time "$rg_mean" "$rg_sd") | $ag_cell | $(ratio "$cm_mean" "$rg_mean") | $ag_ratio |")
done

# --- 5. the table -----------------------------------------------------------
if [ "$have_hyperfine" -eq 1 ]; then
  method="hyperfine $(hyperfine --version | awk '{print $2}'), --warmup 1 --runs $runs, mean ± stddev"
else
  method="loop of $runs runs after 1 warmup (date +%s%N), median"
fi
tools="codemod $("$codemod" --version | awk '{print $2}')"
[ "$have_rg" -eq 1 ] && tools+=", ripgrep $(rg --version | head -n 1 | awk '{print $2}')"
[ -n "$astgrep" ] && tools+=", ast-grep $("$astgrep" --version 2>/dev/null | awk '{print $NF}')"
cpu=$(grep -m 1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')

echo
echo "| tree | .rs files walked | parsed by codemod | files rg lists | codemod --check (ms) | rg -l (ms) | ast-grep (ms) | codemod / rg | ast-grep / codemod |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
echo
echo "Machine: $(nproc) cores, ${cpu:-unknown CPU}. Timing: $method. Tools: $tools."
echo
for note in "${notes[@]}"; do
  echo "- $note"
done
