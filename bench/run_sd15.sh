#!/usr/bin/env bash
# Builds sdw-make-model, sdw-bench, sdw-op-bench and the plugins (Release), writes a
# full-size SD 1.5 model with random f16 weights once, and runs the benchmark.
#
#   bench/run_sd15.sh [sdw-bench options...]     e.g. --sizes 256 --vae-size 0
#
# Environment: BUILD_DIR (default build-bench next to the source tree),
#              MODEL_DIR (default $BUILD_DIR/sd15-random-f16), JOBS (default 2).
set -euo pipefail
source_dir=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$source_dir/build-bench}
model_dir=${MODEL_DIR:-$build_dir/sd15-random-f16}

cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DSDW_BUILD_BENCH=ON >/dev/null
# The backend plugins that are found (torch and vulkan only where their SDKs are).
targets=(sdw-make-model sdw-bench sdw-op-bench sdw_cpu_blas)
for t in sdw_torch sdw_vulkan; do
  if cmake --build "$build_dir" --target help | grep -q "^\.\.\. $t$"; then targets+=("$t"); fi
done
cmake --build "$build_dir" --target "${targets[@]}" -j "${JOBS:-2}"
if [[ ! -f "$model_dir/model_index.json" ]]; then
  "$build_dir/sdw-make-model" --family sd15 --dtype f16 --out "$model_dir"
fi
exec "$build_dir/sdw-bench" --model "$model_dir" "$@"
