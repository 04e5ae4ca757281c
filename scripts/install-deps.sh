#!/usr/bin/env bash
# Installs every Debian package sd-worker needs to build, test and run.
# Safe to run again: apt-get skips what is already there.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libboost-dev libboost-program-options-dev   # Boost.Beast/Asio (header-only) and Program_options
  nlohmann-json3-dev
  libpng-dev
  libopenblas-dev                             # cpu-blas plugin
  libtorch-dev                                # torch plugin (libtorch 1.13, CPU)
  libvulkan-dev glslc                         # vulkan plugin: loader and headers, GLSL -> SPIR-V
  mesa-vulkan-drivers vulkan-validationlayers # lavapipe (Vulkan on the CPU) and the validation layer the tests use
  libgtest-dev libgmock-dev                   # tests
  clang libclang-rt-14-dev                    # fuzzing (scripts/fuzz.sh): clang and its libFuzzer/sanitizer runtimes
  python3 python3-venv chromium               # client tests: the Python clients' venv (scripts/setup-test-venv.sh), the web UI's browser
  curl                                        # README examples
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
