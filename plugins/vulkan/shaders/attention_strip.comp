// attention.comp for CPU-like devices (see matmul_strip.comp): each invocation owns QPL
// query rows 64 apart (their scaled queries and running outputs in registers), the
// keys and values streamed with loads shared by its QPL rows (every lane reads the
// same key), 16 keys per online-softmax update. Keys come in parts of one dispatch each
// that carry the rows' state on (see attention.comp): the host sizes the parts so that
// an invocation's loop iterations stay under lavapipe's 65535.
// Same push block as attention.comp.
#version 460
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"

layout(constant_id = 0) const uint D = 64;  // head dim
layout(local_size_x = 64) in;
#define KEYS 16
#define QPL 4

layout(push_constant, scalar) uniform Push {
    PUSH_HEADER;
    TBuf q;
    TBuf k;
    TBuf v;
    TBuf y;
    F32Buf state_acc;
    F32Buf state_ml;
    uint nq;
    uint nk;
    uint channels;
    uint causal;
    float scale;
    uint key_begin;
    uint key_end;
    uint flags;  // 1: continue from the state; 2: the last part, write y (else the state)
} pc;

const float NEG_INF = -1.0 / 0.0;

void main() {
    const uvec3 group = GROUP_ID;
    const uint first = group.x * 64 * QPL + gl_LocalInvocationID.x;
    const uint head = group.y, b = group.z;
    const uint C = pc.channels, col0 = head * D;
    uint qq[QPL];
    [[unroll]] for (uint r = 0; r < QPL; ++r) qq[r] = min(first + r * 64, pc.nq - 1);
    float qv[QPL][D], acc[QPL][D];
    float m[QPL], l[QPL];
    const bool resume = (pc.flags & 1u) != 0u;
    [[unroll]] for (uint r = 0; r < QPL; ++r) {
        const uint row = (b * pc.nq + qq[r]) * C + col0;
        const uint state = ((b * (C / D) + head) * pc.nq + qq[r]) * 2;
        for (uint d = 0; d < D; ++d) {
            qv[r][d] = float(pc.q.v[row + d]) * pc.scale;
            acc[r][d] = resume ? pc.state_acc.v[row + d] : 0.0;
        }
        m[r] = resume ? pc.state_ml.v[state] : NEG_INF;
        l[r] = resume ? pc.state_ml.v[state + 1] : 0.0;
    }
    // Keys up to the workgroup's last query when causal; rows mask their own.
    const uint key_end = pc.causal != 0u ? min(pc.key_end, group.x * 64 * QPL + 64 * QPL) : pc.key_end;
    for (uint k0 = pc.key_begin; k0 < key_end; k0 += KEYS) {
        float s[QPL][KEYS];
        [[unroll]] for (uint c = 0; c < KEYS; ++c) {
            const uint row = (b * pc.nk + min(k0 + c, pc.nk - 1)) * C + col0;
            float dot[QPL];
            [[unroll]] for (uint r = 0; r < QPL; ++r) dot[r] = 0.0;
            for (uint d = 0; d < D; ++d) {
                const float kd = float(pc.k.v[row + d]);
                [[unroll]] for (uint r = 0; r < QPL; ++r) dot[r] = fma(qv[r][d], kd, dot[r]);
            }
            [[unroll]] for (uint r = 0; r < QPL; ++r) {
                const bool valid = k0 + c < key_end && (pc.causal == 0u || k0 + c <= qq[r]);
                s[r][c] = valid ? dot[r] : NEG_INF;
            }
        }
        float alpha[QPL], m_new[QPL];
        [[unroll]] for (uint r = 0; r < QPL; ++r) {
            float tile_max = NEG_INF;
            [[unroll]] for (uint c = 0; c < KEYS; ++c) tile_max = max(tile_max, s[r][c]);
            m_new[r] = max(m[r], tile_max);
            // A row with every key so far masked (causal) keeps its zeros.
            alpha[r] = m_new[r] == NEG_INF ? 1.0 : exp(m[r] - m_new[r]);
            l[r] *= alpha[r];
            [[unroll]] for (uint c = 0; c < KEYS; ++c) {
                s[r][c] = m_new[r] == NEG_INF ? 0.0 : exp(s[r][c] - m_new[r]);
                l[r] += s[r][c];
            }
            m[r] = m_new[r];
        }
        for (uint d = 0; d < D; ++d)
            [[unroll]] for (uint r = 0; r < QPL; ++r) acc[r][d] *= alpha[r];
        [[unroll]] for (uint c = 0; c < KEYS; ++c) {
            const uint row = (b * pc.nk + min(k0 + c, pc.nk - 1)) * C + col0;
            for (uint d = 0; d < D; ++d) {
                const float vd = float(pc.v.v[row + d]);
                [[unroll]] for (uint r = 0; r < QPL; ++r) acc[r][d] = fma(s[r][c], vd, acc[r][d]);
            }
        }
    }
    [[unroll]] for (uint r = 0; r < QPL; ++r) {
        const uint query = first + r * 64;
        if (query >= pc.nq) break;
        const uint row = (b * pc.nq + query) * C + col0;
        if ((pc.flags & 2u) == 0u) {
            const uint state = ((b * (C / D) + head) * pc.nq + query) * 2;
            pc.state_ml.v[state] = m[r];
            pc.state_ml.v[state + 1] = l[r];
            for (uint d = 0; d < D; ++d) pc.state_acc.v[row + d] = acc[r][d];
            continue;
        }
        const float inv = 1.0 / l[r];
        for (uint d = 0; d < D; ++d) pc.y.v[row + d] = T_STORE(acc[r][d] * inv);
    }
}
