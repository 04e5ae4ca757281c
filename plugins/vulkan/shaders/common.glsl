// What every compute shader of the vulkan plugin shares. Tensors are reached through
// buffer device addresses (GL_EXT_buffer_reference), so no descriptor set and no
// maxStorageBufferRange limit a tensor's size; the host puts each tensor's address in
// the push constants. Every push block starts with PUSH_HEADER: the workgroup offset
// of a dispatch the host split to stay within maxComputeWorkGroupCount.
//
// SDW_F16: tensors of type T are stored as float16_t (16-bit storage); all arithmetic
// and every accumulation is in float32.
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_scalar_block_layout : require

layout(buffer_reference, scalar, buffer_reference_align = 4) buffer F32Buf { float v[]; };
layout(buffer_reference, scalar, buffer_reference_align = 2) buffer F16Buf { float16_t v[]; };
layout(buffer_reference, scalar, buffer_reference_align = 4) buffer U32Buf { uint v[]; };
layout(buffer_reference, scalar, buffer_reference_align = 2) buffer U16Buf { uint16_t v[]; };
layout(buffer_reference, scalar, buffer_reference_align = 4) buffer I32Buf { int v[]; };

#ifdef SDW_F16
#define TBuf F16Buf
#define T_STORE(x) float16_t(x)
#else
#define TBuf F32Buf
#define T_STORE(x) (x)
#endif

#define PUSH_HEADER uvec4 group_base

// The workgroup this invocation belongs to, in the whole (unsplit) dispatch.
#define GROUP_ID (gl_WorkGroupID + pc.group_base.xyz)
