// out[i, c] = table[ids[i], c]: token and position embeddings, CLIP's EOS pooling. The
// networks check the ids on the host (Network::stage); a row outside the table reads
// as zeros rather than out of bounds.
#version 460
#include "common.glsl"

layout(local_size_x = 256) in;

#ifdef SDW_F16
#define RowBuf U16Buf
#define ZERO uint16_t(0)
#else
#define RowBuf U32Buf
#define ZERO 0u
#endif

layout(push_constant, scalar) uniform Push {
    PUSH_HEADER;
    RowBuf table;
    I32Buf ids;
    RowBuf y;
    uint rows;     // table rows (V)
    uint columns;  // C
    uint n;        // ids
} pc;

void main() {
    const uint i = GROUP_ID.x * 256 + gl_LocalInvocationID.x;
    if (i >= pc.n * pc.columns) return;
    const uint r = i / pc.columns, c = i - r * pc.columns;
    const int id = pc.ids.v[r];
    pc.y.v[i] = (id >= 0 && uint(id) < pc.rows) ? pc.table.v[uint(id) * pc.columns + c] : ZERO;
}
