#!/usr/bin/env bash
# Compiles and links the torch plugin against a CUDA-enabled libtorch 2.x (PyPI's torch
# wheel, pinned in tools/torch-cuda/requirements.txt), so that the CUDA path (CUDA graphs,
# the CUDA caching allocator, scaled_dot_product_attention) builds on every change even
# where no GPU can run it. Needs the CUDA toolkit (nvcc); skips with the reason without.
#
# Environment: TORCH_CUDA_BUILD_DIR (default build-torch-cuda), JOBS (default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvcc >/dev/null 2>&1; then
  echo "check-torch-cuda-build: skipped: no CUDA toolkit (nvcc) on this machine"
  exit 0
fi
build_dir=${TORCH_CUDA_BUILD_DIR:-build-torch-cuda}
version=$(sed -n 's/^torch==//p' tools/torch-cuda/requirements.txt)
prefix=.whl/torch-$version
if [[ ! -f $prefix/torch/share/cmake/Torch/TorchConfig.cmake ]]; then
  mkdir -p .whl
  for attempt in 1 2; do
    pip download --quiet --no-deps --only-binary=:all: -d .whl -r tools/torch-cuda/requirements.txt && break
    [[ $attempt == 2 ]] && { echo "check-torch-cuda-build: cannot download torch==$version" >&2; exit 1; }
  done
  wheel=$(ls .whl/torch-"$version"-*.whl | head -1)
  python3 -m zipfile -e "$wheel" "$prefix.partial" >/dev/null
  rm -rf "$prefix" && mkdir -p "$prefix/torch"
  for part in include lib share; do mv "$prefix.partial/torch/$part" "$prefix/torch/"; done
  rm -rf "$prefix.partial" "$wheel"
fi
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DSDW_BUILD_TESTS=OFF -DSDW_BUILD_BENCH=OFF \
      -DSDW_PLUGIN_CPU_BLAS=OFF -DTorch_DIR="$PWD/$prefix/torch/share/cmake/Torch" >/dev/null
grep -q "SDW_TORCH_CUDA=1" "$build_dir/plugins/torch/CMakeFiles/sdw_torch_ops.dir/flags.make" ||
  { echo "check-torch-cuda-build: libtorch $version was not configured with CUDA" >&2; exit 1; }
cmake --build "$build_dir" --target sdw_torch -j"${JOBS:-$(nproc)}"
echo "check-torch-cuda-build: libsdw_torch.so built against CUDA libtorch $version"
