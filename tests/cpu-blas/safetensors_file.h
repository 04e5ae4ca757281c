// A minimal safetensors reader for the plugin tests (8-byte header length, JSON
// header, raw little-endian data), so they depend on nothing but the plugin ABI.
#pragma once

#include <sdw/plugin_api.h>
#include <sdw/tensor_views.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace sdw::test {

struct StoredTensor {
    sdw_dtype dtype;
    std::vector<int64_t> shape;
    std::vector<unsigned char> bytes;

    int64_t numel() const {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        return n;
    }
    std::vector<float> as_f32() const {
        if (dtype != SDW_DTYPE_F32) throw std::runtime_error("not F32");
        std::vector<float> out(static_cast<size_t>(numel()));
        std::memcpy(out.data(), bytes.data(), bytes.size());
        return out;
    }
    std::vector<int64_t> as_i64() const {
        if (dtype != SDW_DTYPE_I64) throw std::runtime_error("not I64");
        std::vector<int64_t> out(static_cast<size_t>(numel()));
        std::memcpy(out.data(), bytes.data(), bytes.size());
        return out;
    }
};

inline std::map<std::string, StoredTensor> read_safetensors(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    uint64_t header_len = 0;
    in.read(reinterpret_cast<char *>(&header_len), 8);
    std::string header(header_len, '\0');
    in.read(header.data(), static_cast<std::streamsize>(header_len));
    const auto meta = nlohmann::json::parse(header);
    const std::streamoff data_start = 8 + static_cast<std::streamoff>(header_len);
    const std::map<std::string, sdw_dtype> dtypes = {{"F32", SDW_DTYPE_F32}, {"F16", SDW_DTYPE_F16},
                                                     {"BF16", SDW_DTYPE_BF16}, {"I32", SDW_DTYPE_I32},
                                                     {"I64", SDW_DTYPE_I64}, {"U8", SDW_DTYPE_U8}};
    std::map<std::string, StoredTensor> out;
    for (const auto &[name, info] : meta.items()) {
        if (name == "__metadata__") continue;
        StoredTensor t;
        t.dtype = dtypes.at(info.at("dtype").get<std::string>());
        t.shape = info.at("shape").get<std::vector<int64_t>>();
        const auto offsets = info.at("data_offsets").get<std::vector<int64_t>>();
        t.bytes.resize(static_cast<size_t>(offsets[1] - offsets[0]));
        in.seekg(data_start + offsets[0]);
        in.read(reinterpret_cast<char *>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
        if (!in) throw std::runtime_error("short read of " + name + " in " + path);
        out.emplace(name, std::move(t));
    }
    return out;
}

// A view of `t` named `name` (the string must outlive the view).
inline sdw_tensor_view view_of(const std::string &name, const StoredTensor &t) {
    return sdw::plugin::make_view(name.c_str(), t.dtype, t.shape, t.bytes.data());
}

}  // namespace sdw::test
