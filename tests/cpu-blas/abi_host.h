// The host side of the plugin ABI for tests that dlopen a plugin and call its table
// directly: an error object the plugin fills through error_set, the host table, fixture
// paths, and run arguments over view vectors.
#pragma once

#include <sdw/plugin_api.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sdw::test {

// What the host's sdw_error holds in these tests: the last message and how many came.
struct RecordedError {
    std::string message;
    int calls = 0;
};

inline void record_error(sdw_error *err, const char *message) {
    auto *e = reinterpret_cast<RecordedError *>(err);
    e->message = message;
    ++e->calls;
}
inline void ignore_log(sdw_log_level, const char *) {}

inline sdw_host_api host_api(uint32_t major = SDW_ABI_VERSION_MAJOR, uint32_t minor = SDW_ABI_VERSION_MINOR) {
    return {sizeof(sdw_host_api), major, minor, &record_error, &ignore_log};
}

inline std::string fixture(const std::string &rel) { return std::string(SDW_TEST_FIXTURES) + "/" + rel; }

inline std::string read_text(const std::string &path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

inline sdw_run_args run_args(const std::vector<sdw_tensor_view> &in, std::vector<sdw_tensor_view> &out) {
    sdw_run_args args{};
    args.struct_size = sizeof args;
    args.inputs = in.data();
    args.input_count = in.size();
    args.outputs = out.data();
    args.output_count = out.size();
    return args;
}

}  // namespace sdw::test
