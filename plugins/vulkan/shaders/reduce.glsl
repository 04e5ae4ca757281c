// Workgroup sums: subgroupAdd within each subgroup, then the subgroups' partial sums
// through shared memory. Every invocation of the workgroup must call it (it has
// barriers); all get the total.
#extension GL_KHR_shader_subgroup_arithmetic : require

shared float reduce_partials[64];  // one per subgroup: 1024 invocations / 16 at least

float workgroup_sum(float v) {
    const float s = subgroupAdd(v);
    if (subgroupElect()) reduce_partials[gl_SubgroupID] = s;
    barrier();
    float total = 0.0;
    for (uint i = 0; i < gl_NumSubgroups; ++i) total += reduce_partials[i];
    barrier();  // the partials are reused by the next call
    return total;
}
