#include "conformance_backends.h"

#ifdef SDW_CONFORMANCE_CPU_BLAS
#include <sdw/cpu/cpu_ops.h>
#endif

namespace sdw::conformance {

using sdw::nn::DType;

const std::vector<Backend> &backends() {
    static const std::vector<Backend> all = [] {
        std::vector<Backend> list;
#ifdef SDW_CONFORMANCE_CPU_BLAS
        list.push_back({"cpu-blas", [] { return sdw::cpu::make_cpu_ops(2); }, [] { return std::string(); },
                        {DType::F32}, {DType::F16, DType::BF16}});
#endif
        return list;
    }();
    return all;
}

}  // namespace sdw::conformance
