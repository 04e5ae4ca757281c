// The fused (online softmax) attention kernel for AVX-512 machines; attention()
// in attention.cpp picks it when fused_attention_available().
#pragma once

#include "kernels.h"
#include "thread_pool.h"

namespace sdw::cpu {

// Whether this CPU runs fused_attention (AVX-512 F and DQ).
bool fused_attention_available();

// out [B, Nq, C] = softmax(q k^T / sqrt(C / heads)) v per head, as attention().
void fused_attention(ThreadPool &pool, const AttentionShape &shape, const float *q,
                     const float *k, const float *v, float *out);

}  // namespace sdw::cpu
