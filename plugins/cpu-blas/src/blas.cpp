#include "blas.h"

#include <sdw/nn/component.h>

#include <dlfcn.h>

#include <cstdlib>

namespace sdw::cpu {
namespace {

// The kernel set for this CPU when OpenBLAS might not know it, or null to let
// OpenBLAS decide (non-Intel CPUs, whose detection is not the problem here).
const char *coretype_for_this_cpu() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!__builtin_cpu_is("intel")) return nullptr;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return nullptr;
}

template <typename F>
F symbol(void *lib, const char *name) {
    void *p = dlsym(lib, name);
    if (!p)
        throw sdw::nn::Error(SDW_STATUS_DEVICE_ERROR,
                                      std::string("OpenBLAS lacks ") + name);
    return reinterpret_cast<F>(p);
}

Blas load() {
    if (const char *core = coretype_for_this_cpu(); core && !std::getenv("OPENBLAS_CORETYPE"))
        setenv("OPENBLAS_CORETYPE", core, 0);
    void *lib = nullptr;
    std::string tried;
    for (const char *path : {SDW_OPENBLAS_LIBRARY, "libopenblas.so.0", "libopenblas.so"}) {
        lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (lib) break;
        tried += std::string(" ") + path + " (" + dlerror() + ")";
    }
    if (!lib)
        throw sdw::nn::Error(SDW_STATUS_DEVICE_ERROR, "cannot load OpenBLAS:" + tried);
    // Never dlclose: OpenBLAS keeps threads and buffers for the life of the process.
    return {symbol<decltype(Blas::sgemm)>(lib, "cblas_sgemm"),
            symbol<decltype(Blas::set_num_threads)>(lib, "openblas_set_num_threads"),
            symbol<decltype(Blas::get_config)>(lib, "openblas_get_config"),
            symbol<decltype(Blas::get_corename)>(lib, "openblas_get_corename")};
}

}  // namespace

const Blas &blas() {
    static const Blas loaded = load();  // a failed load throws and is retried next time
    return loaded;
}

std::string blas_description() {
    const Blas &b = blas();
    return std::string(b.get_config()) + " (core " + b.get_corename() + ")";
}

}  // namespace sdw::cpu
