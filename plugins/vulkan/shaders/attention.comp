// Multi-head scaled dot-product attention, flash style: a workgroup takes BR query rows
// of one (image, head) and streams the keys and values through shared memory BC rows
// at a time, keeping each row's running maximum, softmax denominator and weighted sum
// (the online softmax); no Nq x Nk score matrix exists anywhere. TPR invocations share
// a query row: each scores BC / TPR keys and owns D / TPR of the output's dims.
// q [B, Nq, C], k and v [B, Nk, C], y [B, Nq, C]; head h is columns [h*D, (h+1)*D).
//
// Long key sequences are split over several dispatches (keys [key_begin, key_end) each),
// passing each row's running state on in state_acc (the unnormalised output, F32
// [B, Nq, C]) and state_ml (maximum and denominator, F32 [B, heads, Nq, 2]): lavapipe
// stops every loop of an invocation after 65535 iterations in all, which a single
// dispatch over 16384 keys (a 1024x1024 VAE decode's mid-block) passes.
#version 460
#include "common.glsl"

layout(constant_id = 0) const uint D = 64;   // head dim
layout(constant_id = 1) const uint BR = 16;  // query rows per workgroup
layout(constant_id = 2) const uint BC = 16;  // keys per tile
layout(constant_id = 3) const uint TPR = 8;  // invocations per query row
layout(local_size_x_id = 4) in;              // BR * TPR

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
    uint channels;  // C = heads * D
    uint causal;
    float scale;
    uint key_begin;
    uint key_end;
    uint flags;  // 1: continue from the state; 2: the last part, write y (else the state)
} pc;

shared float Qs[BR * D];
shared float Ks[BC * D];
shared float Vs[BC * D];
shared float Ps[BR * BC];

const uint DPT = (D + TPR - 1) / TPR;  // output dims per invocation
const float NEG_INF = -1.0 / 0.0;

void main() {
    const uvec3 group = GROUP_ID;
    const uint q0 = group.x * BR, head = group.y, b = group.z;
    const uint tid = gl_LocalInvocationID.x;
    const uint threads = BR * TPR;
    const uint r = tid / TPR, t = tid - r * TPR;
    const uint query = q0 + r;
    const uint C = pc.channels, col0 = head * D;

    for (uint e = tid; e < BR * D; e += threads) {
        const uint rr = e / D, d = e - rr * D;
        Qs[e] = q0 + rr < pc.nq ? float(pc.q.v[(b * pc.nq + q0 + rr) * C + col0 + d]) * pc.scale : 0.0;
    }

    float acc[DPT];
    for (uint j = 0; j < DPT; ++j) acc[j] = 0.0;
    float m = NEG_INF, l = 0.0;
    const uint state_row = ((b * (C / D) + head) * pc.nq + min(query, pc.nq - 1)) * 2;
    const uint out_row = (b * pc.nq + min(query, pc.nq - 1)) * C + col0;
    if ((pc.flags & 1u) != 0u) {
        m = pc.state_ml.v[state_row];
        l = pc.state_ml.v[state_row + 1];
        for (uint j = 0; j < DPT; ++j)
            if (t + j * TPR < D) acc[j] = pc.state_acc.v[out_row + t + j * TPR];
    }

    const uint key_end = pc.causal != 0u ? min(pc.key_end, q0 + BR) : pc.key_end;
    for (uint k0 = pc.key_begin; k0 < key_end; k0 += BC) {
        barrier();  // the previous tile's Ks, Vs and Ps are read by everyone
        for (uint e = tid; e < BC * D; e += threads) {
            const uint c = e / D, d = e - c * D;
            const bool inside = k0 + c < pc.nk;
            const uint at = (b * pc.nk + k0 + c) * C + col0 + d;
            Ks[e] = inside ? float(pc.k.v[at]) : 0.0;
            Vs[e] = inside ? float(pc.v.v[at]) : 0.0;
        }
        barrier();
        for (uint c = t; c < BC; c += TPR) {
            const uint key = k0 + c;
            float s = NEG_INF;
            if (key < pc.nk && (pc.causal == 0u || key <= query)) {
                s = 0.0;
                for (uint d = 0; d < D; ++d) s = fma(Qs[r * D + d], Ks[c * D + d], s);
            }
            Ps[r * BC + c] = s;
        }
        barrier();
        float tile_max = NEG_INF;
        for (uint c = 0; c < BC; ++c) tile_max = max(tile_max, Ps[r * BC + c]);
        const float m_new = max(m, tile_max);
        if (m_new == NEG_INF) continue;  // every key so far masked (causal padding rows)
        const float alpha = exp(m - m_new);  // 0 on the first tile (m = -inf)
        l *= alpha;
        for (uint j = 0; j < DPT; ++j) acc[j] *= alpha;
        for (uint c = 0; c < BC; ++c) {
            const float p = exp(Ps[r * BC + c] - m_new);
            l += p;
            for (uint j = 0; j < DPT; ++j) {
                const uint d = t + j * TPR;
                if (d < D) acc[j] = fma(p, Vs[c * D + d], acc[j]);
            }
        }
        m = m_new;
    }

    if (query >= pc.nq) return;
    if ((pc.flags & 2u) == 0u) {
        if (t == 0u) {
            pc.state_ml.v[state_row] = m;
            pc.state_ml.v[state_row + 1] = l;
        }
        for (uint j = 0; j < DPT; ++j)
            if (t + j * TPR < D) pc.state_acc.v[out_row + t + j * TPR] = acc[j];
        return;
    }
    const float inv = 1.0 / l;
    for (uint j = 0; j < DPT; ++j) {
        const uint d = t + j * TPR;
        if (d < D) pc.y.v[out_row + d] = T_STORE(acc[j] * inv);
    }
}
