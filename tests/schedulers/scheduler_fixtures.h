// Test helpers: the tiny-sd scheduler config, its golden cases, and tensors of the golden files.
#pragma once

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/safetensors.h"

namespace sdw::test {

inline std::string fixture(const std::string& relative) {
    return std::string(SDW_TEST_FIXTURES) + "/" + relative;
}

inline nlohmann::json read_json(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    return nlohmann::json::parse(in);
}

inline const nlohmann::json& tiny_sd_scheduler_config() {
    static const nlohmann::json config = read_json(fixture("models/tiny-sd/scheduler/scheduler_config.json"));
    return config;
}

inline const nlohmann::json& tiny_sd_cases() {
    static const nlohmann::json cases = read_json(fixture("golden/tiny-sd/cases.json"));
    return cases;
}

inline const nlohmann::json& tiny_sd_case(const std::string& name) {
    for (const auto& c : tiny_sd_cases().at("cases"))
        if (c.at("name") == name) return c;
    throw std::runtime_error("no golden case " + name);
}

inline const SafetensorsFile& tiny_sd_pipelines() {
    static const SafetensorsFile file = SafetensorsFile::open(fixture("golden/tiny-sd/pipelines.safetensors"));
    return file;
}

inline const SafetensorsFile& torch_rng_golden() {
    static const SafetensorsFile file = SafetensorsFile::open(fixture("golden/torch_rng.safetensors"));
    return file;
}

inline std::vector<double> read_f64(const TensorInfo& t) {
    if (t.dtype != DType::F64) throw std::runtime_error(t.name + " is not F64");
    std::vector<double> out(t.numel());
    std::memcpy(out.data(), t.data, out.size() * sizeof(double));
    return out;
}

inline std::vector<float> read_f32(const TensorInfo& t) {
    if (t.dtype != DType::F32) throw std::runtime_error(t.name + " is not F32");
    std::vector<float> out(t.numel());
    std::memcpy(out.data(), t.data, out.size() * sizeof(float));
    return out;
}

// Independent float64 reference of the SD noise schedule (scaled_linear 0.00085 .. 0.012 over
// 1000 steps): betas = linspace(sqrt(b0), sqrt(b1))**2, alphas_cumprod = cumprod(1 - betas).
// It differs from diffusers' float32 tables by ~1e-7 relative, far below what the tests resolve.
inline std::vector<double> sd_alphas_cumprod_f64() {
    const int n = 1000;
    const double a = std::sqrt(0.00085), b = std::sqrt(0.012);
    std::vector<double> out(n);
    double acc = 1.0;
    for (int i = 0; i < n; ++i) {
        const double s = a + (b - a) * i / (n - 1);
        acc *= 1.0 - s * s;
        out[i] = acc;
    }
    return out;
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    double m = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
        m = std::max(m, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
    return m;
}

}  // namespace sdw::test
