// The layout ops as one strided 4-d copy: narrow, concat (one copy per operand into its
// part of the output), the NCHW <-> NLC transposes, nearest 2x upsampling, zero padding
// and dtype casts. For each output coordinate o (in dims, row-major):
//   s[k] = (o[k] >> shift[k]) - pad[k]
//   dst[sum o[k] * dst_stride[k]] = all 0 <= s[k] < src_dims[k] ? src[sum s[k] * src_stride[k]] : 0
// Variants: SDW_COPY_B32 / SDW_COPY_B16 move 32- or 16-bit words unchanged (any dtype);
// SDW_COPY_F32_TO_F16 rounds to nearest even (overflow to infinity, gradual underflow,
// as torch's .half()) in integer arithmetic, independent of the device's conversion
// rounding; SDW_COPY_F16_TO_F32 widens exactly.
#version 460
#include "common.glsl"

layout(local_size_x = 256) in;

#if defined(SDW_COPY_B32)
#define SrcBuf U32Buf
#define DstBuf U32Buf
#elif defined(SDW_COPY_B16)
#define SrcBuf U16Buf
#define DstBuf U16Buf
#elif defined(SDW_COPY_F32_TO_F16)
#define SrcBuf U32Buf
#define DstBuf U16Buf
#else
#define SrcBuf F16Buf
#define DstBuf F32Buf
#endif

layout(push_constant, scalar) uniform Push {
    PUSH_HEADER;
    SrcBuf src;
    DstBuf dst;
    uvec4 dims;
    uvec4 dst_stride;
    uvec4 src_stride;
    ivec4 pad;
    uvec4 src_dims;
    uint shift;  // 4 bits per dim, dim 0 lowest
} pc;

uint f32_to_f16_bits(uint bits) {
    const uint sign = (bits >> 16) & 0x8000u;
    const uint magnitude = bits & 0x7fffffffu;
    if (magnitude > 0x7f800000u) return sign | 0x7e00u;   // NaN
    if (magnitude >= 0x477ff000u) return sign | 0x7c00u;  // rounds past 65504: infinity
    if (magnitude < 0x38800000u) {
        // Subnormal half: shift the mantissa (with its implicit bit) right, rounding to
        // nearest even on the bits shifted out.
        const uint e = magnitude >> 23;
        if (e < 102u) return sign;  // below half the smallest subnormal
        const uint mantissa = (magnitude & 0x7fffffu) | 0x800000u;
        const uint s = 126u - e;  // 14..24
        const uint half_ulp = 1u << (s - 1u);
        const uint rest = mantissa & ((1u << s) - 1u);
        uint r = mantissa >> s;
        if (rest > half_ulp || (rest == half_ulp && (r & 1u) != 0u)) r += 1u;
        return sign | r;
    }
    const uint rounded = magnitude + 0xfffu + ((magnitude >> 13) & 1u);
    return sign | ((rounded - 0x38000000u) >> 13);
}

void main() {
    const uint i = GROUP_ID.x * 256 + gl_LocalInvocationID.x;
    const uint n = pc.dims.x * pc.dims.y * pc.dims.z * pc.dims.w;
    if (i >= n) return;
    uvec4 o;
    o.w = i % pc.dims.w;
    uint rest = i / pc.dims.w;
    o.z = rest % pc.dims.z;
    rest /= pc.dims.z;
    o.y = rest % pc.dims.y;
    o.x = rest / pc.dims.y;
    const uvec4 shifts = uvec4(pc.shift & 15u, (pc.shift >> 4) & 15u, (pc.shift >> 8) & 15u, (pc.shift >> 12) & 15u);
    const ivec4 s = ivec4(o >> shifts) - pc.pad;
    const bool inside = all(greaterThanEqual(s, ivec4(0))) && all(lessThan(uvec4(max(s, ivec4(0))), pc.src_dims));
    const uint d = o.x * pc.dst_stride.x + o.y * pc.dst_stride.y + o.z * pc.dst_stride.z + o.w * pc.dst_stride.w;
    const uvec4 su = uvec4(max(s, ivec4(0)));
    const uint j = su.x * pc.src_stride.x + su.y * pc.src_stride.y + su.z * pc.src_stride.z + su.w * pc.src_stride.w;
#if defined(SDW_COPY_B32)
    pc.dst.v[d] = inside ? pc.src.v[j] : 0u;
#elif defined(SDW_COPY_B16)
    pc.dst.v[d] = inside ? pc.src.v[j] : uint16_t(0);
#elif defined(SDW_COPY_F32_TO_F16)
    pc.dst.v[d] = inside ? uint16_t(f32_to_f16_bits(pc.src.v[j])) : uint16_t(0);
#else
    pc.dst.v[d] = inside ? float(pc.src.v[j]) : 0.0;
#endif
}
