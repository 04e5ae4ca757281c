// Safetensors reader: valid files read back exactly; every kind of corrupt header is a clear
// error naming the file, never a crash (run under ASan/UBSan to make "never a crash" count).
#include "model/safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "temp_dir.h"

namespace {

using sdw::DType;
using sdw::SafetensorsFile;

std::string le_u64(uint64_t value) {
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
    return bytes;
}

std::string write_raw(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path.string();
}

// A file with the given header text (length prefix computed) followed by `data`.
std::string write_file(const std::filesystem::path& path, const std::string& header,
                       const std::string& data) {
    return write_raw(path, le_u64(header.size()) + header + data);
}

// Expects open() to throw with a message that names the file and contains `reason`.
void expect_open_error(const std::string& path, const std::string& reason) {
    try {
        SafetensorsFile::open(path);
        FAIL() << "expected an error containing '" << reason << "' for " << path;
    } catch (const std::runtime_error& error) {
        const std::string message = error.what();
        EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
        EXPECT_NE(message.find(reason), std::string::npos) << message;
    }
}

template <typename T>
std::string bytes_of(std::initializer_list<T> values) {
    std::string bytes;
    for (T value : values) bytes.append(reinterpret_cast<const char*>(&value), sizeof(T));
    return bytes;
}

class SafetensorsTest : public ::testing::Test {
protected:
    sdw_test::TempDir dir_;
    std::string file(const std::string& name) const { return (dir_.path() / name).string(); }
};

TEST_F(SafetensorsTest, ReadsEveryDtypeAndMetadata) {
    const std::string data = bytes_of<float>({1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -8.0f}) +  // 24
                             bytes_of<uint16_t>({0x3c00, 0xc000}) +                      // 4
                             bytes_of<uint16_t>({0x3f80, 0xc040}) +                      // 4
                             bytes_of<int32_t>({-3, 40}) +                               // 8
                             bytes_of<int64_t>({5, -6}) +                                // 16
                             bytes_of<double>({0.25}) +                                  // 8
                             bytes_of<uint8_t>({200, 1});                                // 2
    const std::string header =
        R"({"__metadata__":{"format":"pt"},)"
        R"("f32":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
        R"("f16":{"dtype":"F16","shape":[2],"data_offsets":[24,28]},)"
        R"("bf16":{"dtype":"BF16","shape":[2],"data_offsets":[28,32]},)"
        R"("i32":{"dtype":"I32","shape":[2],"data_offsets":[32,40]},)"
        R"("i64":{"dtype":"I64","shape":[2],"data_offsets":[40,56]},)"
        R"("f64":{"dtype":"F64","shape":[],"data_offsets":[56,64]},)"
        R"("u8":{"dtype":"U8","shape":[2,1],"data_offsets":[64,66]},)"
        R"("empty":{"dtype":"F32","shape":[0,4],"data_offsets":[66,66]}})";
    // Odd header length on purpose: tensors end up unaligned and must still read correctly.
    SafetensorsFile st = SafetensorsFile::open(write_file(file("ok.safetensors"), header, data));

    ASSERT_EQ(st.tensors().size(), 8u);
    EXPECT_EQ(st.metadata().at("format"), "pt");
    EXPECT_EQ(st.find("missing"), nullptr);

    const auto& f32 = st.at("f32");
    EXPECT_EQ(f32.dtype, DType::F32);
    EXPECT_EQ(f32.shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(f32.byte_size, 24u);
    EXPECT_EQ(sdw::to_f32(f32), (std::vector<float>{1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -8.0f}));
    EXPECT_EQ(sdw::to_f32(st.at("f16")), (std::vector<float>{1.0f, -2.0f}));
    EXPECT_EQ(sdw::to_f32(st.at("bf16")), (std::vector<float>{1.0f, -3.0f}));
    EXPECT_EQ(sdw::to_f32(st.at("i32")), (std::vector<float>{-3.0f, 40.0f}));
    EXPECT_EQ(sdw::to_f32(st.at("i64")), (std::vector<float>{5.0f, -6.0f}));
    EXPECT_EQ(st.at("f64").shape.size(), 0u);
    EXPECT_EQ(sdw::to_f32(st.at("f64")), (std::vector<float>{0.25f}));
    EXPECT_EQ(sdw::to_f32(st.at("u8")), (std::vector<float>{200.0f, 1.0f}));
    EXPECT_TRUE(sdw::to_f32(st.at("empty")).empty());
    EXPECT_EQ(st.at("empty").numel(), 0u);

    // Moving keeps the tensor pointers valid (the mapping moves with the object).
    const void* before = st.at("f32").data;
    SafetensorsFile moved = std::move(st);
    EXPECT_EQ(moved.at("f32").data, before);
    EXPECT_EQ(sdw::to_f32(moved.at("f32"))[2], 3.25f);
}

TEST_F(SafetensorsTest, FileWithoutMetadataHasEmptyMetadataObject) {
    const SafetensorsFile st = SafetensorsFile::open(write_file(
        file("a.safetensors"), R"({"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "A"));
    EXPECT_TRUE(st.metadata().is_object());
    EXPECT_TRUE(st.metadata().empty());
}

TEST_F(SafetensorsTest, AtNamesTensorAndFile) {
    const std::string path = write_file(file("a.safetensors"), "{}", "");
    const SafetensorsFile st = SafetensorsFile::open(path);
    try {
        st.at("unet.conv_in.weight");
        FAIL();
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find(path), std::string::npos);
        EXPECT_NE(std::string(error.what()).find("unet.conv_in.weight"), std::string::npos);
    }
}

TEST_F(SafetensorsTest, HalfConversionIsExact) {
    EXPECT_EQ(sdw::f16_to_f32(0x3c00), 1.0f);
    EXPECT_EQ(sdw::f16_to_f32(0x7bff), 65504.0f);            // largest finite half
    EXPECT_EQ(sdw::f16_to_f32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
    EXPECT_EQ(sdw::f16_to_f32(0x03ff), std::ldexp(1023.0f, -24));  // largest subnormal
    EXPECT_EQ(sdw::f16_to_f32(0x0400), std::ldexp(1.0f, -14));     // smallest normal
    EXPECT_EQ(sdw::f16_to_f32(0x3555), 0.333251953125f);
    EXPECT_TRUE(std::signbit(sdw::f16_to_f32(0x8000)));
    EXPECT_EQ(sdw::f16_to_f32(0xfc00), -std::numeric_limits<float>::infinity());
    EXPECT_TRUE(std::isnan(sdw::f16_to_f32(0x7e00)));
    EXPECT_EQ(sdw::bf16_to_f32(0x4049), 3.140625f);
}

TEST_F(SafetensorsTest, MissingFile) {
    expect_open_error(file("does-not-exist.safetensors"), "cannot open");
}

TEST_F(SafetensorsTest, ShorterThanEightBytes) {
    expect_open_error(write_raw(file("short.safetensors"), std::string("\x02\0\0", 3)), "too short");
}

TEST_F(SafetensorsTest, EmptyFile) {
    expect_open_error(write_raw(file("empty.safetensors"), ""), "too short");
}

TEST_F(SafetensorsTest, AbsurdHeaderLength) {
    expect_open_error(write_raw(file("absurd.safetensors"), le_u64(uint64_t{1} << 62) + "{}"),
                      "absurd");
}

TEST_F(SafetensorsTest, HeaderPastEndOfFile) {
    expect_open_error(write_raw(file("past.safetensors"), le_u64(100) + "{\"a\":"),
                      "past the end");
}

TEST_F(SafetensorsTest, HeaderNotJson) {
    expect_open_error(write_file(file("bad.safetensors"), "{not json", ""), "not valid JSON");
}

TEST_F(SafetensorsTest, HeaderNotAnObject) {
    expect_open_error(write_file(file("arr.safetensors"), "[1,2]", ""), "not an object");
}

TEST_F(SafetensorsTest, EntryNotAnObject) {
    expect_open_error(write_file(file("e.safetensors"), R"({"x":3})", ""),
                      "tensor 'x': entry is not an object");
}

TEST_F(SafetensorsTest, MetadataNotAnObject) {
    expect_open_error(write_file(file("m.safetensors"), R"({"__metadata__":"x"})", ""),
                      "__metadata__");
}

TEST_F(SafetensorsTest, UnknownDtype) {
    expect_open_error(
        write_file(file("dt.safetensors"),
                   R"({"x":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", "A"),
        "unsupported dtype \"F8_E4M3\"");
}

TEST_F(SafetensorsTest, MissingDtype) {
    expect_open_error(
        write_file(file("dt.safetensors"), R"({"x":{"shape":[1],"data_offsets":[0,1]}})", "A"),
        "\"dtype\"");
}

TEST_F(SafetensorsTest, NegativeShape) {
    expect_open_error(
        write_file(file("neg.safetensors"),
                   R"({"x":{"dtype":"U8","shape":[-1,2],"data_offsets":[0,2]}})", "AB"),
        "negative");
}

TEST_F(SafetensorsTest, FractionalShape) {
    expect_open_error(
        write_file(file("frac.safetensors"),
                   R"({"x":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}})", "A"),
        "non-integer");
}

TEST_F(SafetensorsTest, SizeMismatch) {
    expect_open_error(
        write_file(file("size.safetensors"),
                   R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "ABCD"),
        "needs 8 bytes but data_offsets span 4");
}

TEST_F(SafetensorsTest, OffsetsOutsideDataSection) {
    expect_open_error(
        write_file(file("oob.safetensors"),
                   R"({"x":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})", "ABCD"),
        "outside the data section");
}

TEST_F(SafetensorsTest, OffsetsReversed) {
    expect_open_error(
        write_file(file("rev.safetensors"),
                   R"({"x":{"dtype":"U8","shape":[0],"data_offsets":[3,1]}})", "ABCD"),
        "outside the data section");
}

TEST_F(SafetensorsTest, OffsetsMalformed) {
    expect_open_error(
        write_file(file("mal.safetensors"),
                   R"({"x":{"dtype":"U8","shape":[1],"data_offsets":[0]}})", "A"),
        "data_offsets");
}

TEST_F(SafetensorsTest, OverlappingTensors) {
    expect_open_error(
        write_file(file("overlap.safetensors"),
                   R"({"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},)"
                   R"("b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
                   "ABCD"),
        "'a' and 'b' overlap");
}

TEST_F(SafetensorsTest, ElementCountOverflow) {
    expect_open_error(write_file(file("ovf.safetensors"),
                                 R"({"x":{"dtype":"U8","shape":[4294967296,4294967296],)"
                                 R"("data_offsets":[0,0]}})",
                                 ""),
                      "overflows the element count");
}

TEST_F(SafetensorsTest, ByteSizeOverflow) {
    expect_open_error(write_file(file("ovf.safetensors"),
                                 R"({"x":{"dtype":"F64","shape":[4611686018427387904],)"
                                 R"("data_offsets":[0,0]}})",
                                 ""),
                      "overflows the byte size");
}

TEST_F(SafetensorsTest, TruncatedRealFile) {
    // The first 64 KB of a real fixture: the header is intact, the data is cut short.
    const std::string source = std::string(SDW_TEST_FIXTURES) +
                               "/models/tiny-sd/vae/diffusion_pytorch_model.safetensors";
    std::ifstream in(source, std::ios::binary);
    std::string bytes(65536, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_EQ(in.gcount(), 65536);
    expect_open_error(write_raw(file("cut.safetensors"), bytes), "outside the data section");
}

TEST(SafetensorsFixture, OpensTinySdUnet) {
    const SafetensorsFile st = SafetensorsFile::open(
        std::string(SDW_TEST_FIXTURES) + "/models/tiny-sd/unet/diffusion_pytorch_model.safetensors");
    // Shape implied by its config.json: block_out_channels[0] = 32, in_channels = 4.
    const auto& conv_in = st.at("conv_in.weight");
    EXPECT_EQ(conv_in.dtype, DType::F32);
    EXPECT_EQ(conv_in.shape, (std::vector<int64_t>{32, 4, 3, 3}));
    for (float value : sdw::to_f32(conv_in)) EXPECT_TRUE(std::isfinite(value));
}

TEST(SafetensorsFixture, EveryReferenceFileOpens) {
    // All files written by the reference safetensors library (models and goldens, every dtype
    // they use) pass validation and convert.
    size_t files = 0;
    for (const char* root : {SDW_TEST_FIXTURES, SDW_DEFAULT_MODEL}) {
        for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
            if (entry.path().extension() != ".safetensors") continue;
            const SafetensorsFile st = SafetensorsFile::open(entry.path().string());
            for (const sdw::TensorInfo& tensor : st.tensors())
                EXPECT_EQ(sdw::to_f32(tensor).size(), tensor.numel()) << tensor.name;
            ++files;
        }
    }
    EXPECT_GE(files, 10u);
}

TEST(SafetensorsFixture, OpensSdShapesHalfWeights) {
    const SafetensorsFile st =
        SafetensorsFile::open(std::string(SDW_DEFAULT_MODEL) + "/vae/diffusion_pytorch_model.safetensors");
    EXPECT_EQ(st.at("decoder.conv_out.weight").dtype, DType::F16);
}

}  // namespace
