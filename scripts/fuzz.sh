#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, in ./build-fuzz: clang, ASan + UBSan, host libraries
# instrumented) and runs each for SECONDS seconds, then prints one table. Exits non-zero if
# any target crashed, leaked, timed out or ran out of memory; the input that did it is kept
# under build-fuzz/artifacts/<target>/ (add it to fuzz/corpus/<target>/ with the fix).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 60 png http_request
#
# Each run starts from the committed seeds, fuzz/corpus/<target>/, read only: what the
# fuzzer finds goes to a temporary corpus that is thrown away (set SDW_FUZZ_KEEP=1 to keep
# it, printed at the end), so a run never changes the repository. SDW_FUZZ_JOBS: build
# parallelism (default: nproc). SDW_FUZZ_SEED: libFuzzer's -seed (default 0: a new random
# seed each run); a fixed seed replays the same mutations in the same order, so a short run
# explores the same inputs every time.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
build=build-fuzz
jobs="${SDW_FUZZ_JOBS:-$(nproc)}"

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in fuzz/fuzz_*.cpp; do
    name="$(basename "$f" .cpp)"
    targets+=("${name#fuzz_}")
  done
fi

if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (scripts/install-deps.sh installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi

# Only what the fuzzers need: no plugins, tests or benchmarks. -O1 as ASan advises.
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-O1 -DCMAKE_CXX_FLAGS=-O1 \
      -DSDW_BUILD_FUZZERS=ON -DSDW_BUILD_TESTS=OFF -DSDW_BUILD_BENCH=OFF \
      -DSDW_PLUGIN_CPU_BLAS=OFF -DSDW_PLUGIN_VULKAN=OFF -DSDW_PLUGIN_TORCH=OFF >/dev/null
build_targets=()
for t in "${targets[@]}"; do build_targets+=(--target "fuzz_$t"); done
cmake --build "$build" -j"$jobs" "${build_targets[@]}"

work="$(mktemp -d "${TMPDIR:-/tmp}/sdw-fuzz.XXXXXX")"
if [ "${SDW_FUZZ_KEEP:-0}" != "1" ]; then trap 'rm -rf "$work"' EXIT; fi

# Every input must finish within 10 s (ASan build) and allocate at most 256 MB at once:
# nothing the server accepts needs more. The PNG target decodes under small limits, so any
# allocation above 64 MB there was sized by a header rather than by the limits.
malloc_limit() { if [ "$1" = png ]; then echo 64; else echo 256; fi; }

rows=()
failed=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  log="$work/$t/log.txt"
  echo "== fuzz_$t: ${seconds}s =="
  set +e
  ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0" UBSAN_OPTIONS="print_stacktrace=1" \
    "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -seed="${SDW_FUZZ_SEED:-0}" -timeout=10 -rss_limit_mb=2048 \
      -malloc_limit_mb="$(malloc_limit "$t")" -print_final_stats=1 \
      -artifact_prefix="$work/$t/artifacts/" "$work/$t/corpus" "fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  # A target that dies on its first input prints no statistics: the fields stay "?".
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  cov="$( (grep -o 'cov: [0-9]*' "$log" || true) | tail -1 | cut -d' ' -f2)"
  found="$(ls "$work/$t/corpus" | wc -l)"
  if [ "$rc" -eq 0 ]; then
    result=ok
  else
    failed=1
    result="FAIL"
    for kind in crash leak timeout oom slow-unit; do
      if ls "$work/$t/artifacts/$kind-"* >/dev/null 2>&1; then result="FAIL ($kind)"; break; fi
    done
    mkdir -p "$build/artifacts/$t"
    cp "$work/$t/artifacts/"* "$build/artifacts/$t/" 2>/dev/null || true
    cp "$log" "$build/artifacts/$t/log.txt"
    echo "fuzz_$t failed (rc $rc); input and log in $build/artifacts/$t/:"
    if grep -q -E '^==[0-9]+==.*ERROR|runtime error|deadly signal' "$log"; then
      grep -m1 -B2 -A25 -E '^==[0-9]+==.*ERROR|runtime error|deadly signal' "$log" | head -60 || true
    else
      tail -40 "$log"
    fi
  fi
  rows+=("$(printf '%-14s %12s %8s %8s %8s  %s' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$found" "$result")")
done

echo
printf '%-14s %12s %8s %8s %8s  %s\n' target executions exec/s coverage new result
for r in "${rows[@]}"; do echo "$r"; done
echo "(coverage: edges reached; new: inputs added to the temporary corpus; ${seconds}s each)"
if [ "${SDW_FUZZ_KEEP:-0}" = "1" ]; then echo "work dir kept: $work"; fi
exit "$failed"
