// OpenBLAS, loaded at run time rather than linked.
//
// Why: OpenBLAS 0.3.21 (Debian 12) does not recognise recent Xeons (family 6 model
// 207 here) and falls back to its generic "Prescott" SSE3 kernels, 4x slower than
// its AVX-512 ones on the same machine. OpenBLAS reads OPENBLAS_CORETYPE only while
// it is being loaded, so the plugin picks the kernel set from the CPU's features
// before loading it. A user's own OPENBLAS_CORETYPE is left alone.
#pragma once

#include <cblas.h>

#include <string>

namespace sdw::cpu {

struct Blas {
    void (*sgemm)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, blasint m,
                  blasint n, blasint k, float alpha, const float *a, blasint lda, const float *b,
                  blasint ldb, float beta, float *c, blasint ldc);
    void (*set_num_threads)(int);
    char *(*get_config)();
    char *(*get_corename)();
};

// The loaded library; throws sdw::nn::Error(DEVICE_ERROR) when it cannot be loaded.
const Blas &blas();

// "OpenBLAS 0.3.21 ... SkylakeX ... (core SkylakeX)" for the plugin's device string.
std::string blas_description();

}  // namespace sdw::cpu
