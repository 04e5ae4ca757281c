# SDW_BUILD_FUZZERS: the libFuzzer build (fuzz/, scripts/fuzz.sh).
#
# libFuzzer ships with clang only, so any other compiler is refused at configure time rather
# than failing at the first link. Every target of the build (the host libraries above all) is
# compiled with coverage instrumentation (fuzzer-no-link) and ASan + UBSan: the fuzzer can
# only steer by, and only catches bugs in, code that is instrumented. The fuzz executables
# add -fsanitize=fuzzer (libFuzzer's main) at link time, in fuzz/CMakeLists.txt.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR
    "SDW_BUILD_FUZZERS needs clang (libFuzzer comes with it), not ${CMAKE_CXX_COMPILER_ID}: "
    "configure with -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ "
    "(Debian: apt-get install clang libclang-rt-14-dev, see scripts/install-deps.sh)")
endif()
if(SDW_SANITIZE)
  message(FATAL_ERROR "SDW_BUILD_FUZZERS brings its own sanitizers; leave SDW_SANITIZE empty")
endif()
# UBSan findings abort (-fno-sanitize-recover) so that libFuzzer reports them as crashes
# and saves the input, instead of printing a line and going on.
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                    -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)
