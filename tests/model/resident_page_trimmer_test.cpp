// Dropping the resident pages of a mapped weight file: the process's file-backed RSS
// falls by the file's size, and the views keep reading the same bytes, also while a
// ResidentPageTrimmer drops pages under a concurrent reader (as during a plugin load).
#include "model/resident_page_trimmer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "model/model_folder.h"
#include "model/safetensors.h"
#include "temp_dir.h"

namespace {

// RssFile of /proc/self/status in bytes, or -1 where the kernel does not report it.
int64_t resident_file_bytes() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("RssFile:", 0) == 0) return std::stoll(line.substr(8)) * 1024;
    return -1;
}

// One F32 tensor of `count` floats whose value i is i.
std::string write_tensor_file(const std::filesystem::path& path, int64_t count) {
    const std::string header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[" + std::to_string(count) +
                               "],\"data_offsets\":[0," + std::to_string(count * 4) + "]}}";
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
    bytes += header;
    std::vector<float> values(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) values[i] = static_cast<float>(i);
    bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path.string();
}

double checksum(const sdw::TensorInfo& t) {
    const auto* bytes = static_cast<const unsigned char*>(t.data);
    double sum = 0;
    for (uint64_t i = 0; i < t.byte_size; i += 4) {
        float v;
        std::memcpy(&v, bytes + i, sizeof v);
        sum += v;
    }
    return sum;
}

TEST(ResidentPages, DroppingLowersResidentMemoryAndKeepsTheData) {
    sdw_test::TempDir dir;
    constexpr int64_t kCount = int64_t{8} << 20;  // 32 MiB
    const auto file = sdw::SafetensorsFile::open(write_tensor_file(dir.path() / "w.safetensors", kCount));
    const sdw::TensorInfo& w = file.at("w");
    const double want = double(kCount) * double(kCount - 1) / 2;

    const int64_t before = resident_file_bytes();
    if (before < 0) GTEST_SKIP() << "no RssFile in /proc/self/status";
    EXPECT_EQ(checksum(w), want);  // faults every page in
    const int64_t read = resident_file_bytes();
    file.drop_resident_pages();
    const int64_t dropped = resident_file_bytes();
    EXPECT_GT(read - before, kCount * 4 * 9 / 10);
    EXPECT_GT(read - dropped, kCount * 4 * 9 / 10);
    EXPECT_EQ(checksum(w), want);  // faults them in again, same bytes
}

TEST(ResidentPages, TrimmerKeepsViewsReadingTheSameBytes) {
    const sdw::ModelFolder folder = sdw::ModelFolder::open(std::filesystem::path(SDW_TEST_FIXTURES) / "models" / "tiny-sd");
    const sdw::ModelComponent& unet = folder.unet();
    std::vector<std::string> want;
    for (const sdw_tensor_view& v : unet.weights())
        want.emplace_back(static_cast<const char*>(v.data), v.byte_size);
    {
        const sdw::ResidentPageTrimmer trimmer(unet, std::chrono::milliseconds(1));
        for (int round = 0; round < 20; ++round)
            for (size_t i = 0; i < want.size(); ++i) {
                const sdw_tensor_view& v = unet.weights()[i];
                ASSERT_EQ(std::string(static_cast<const char*>(v.data), v.byte_size), want[i]) << v.name;
            }
    }
    for (size_t i = 0; i < want.size(); ++i) {
        const sdw_tensor_view& v = unet.weights()[i];
        EXPECT_EQ(std::string(static_cast<const char*>(v.data), v.byte_size), want[i]) << v.name;
    }
}

}  // namespace
