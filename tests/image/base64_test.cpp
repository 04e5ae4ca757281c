#include "image/base64.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace sdw {
namespace {

std::vector<uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

// RFC 4648 section 10 test vectors.
const std::pair<std::string, std::string> kRfcVectors[] = {
    {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

TEST(Base64, EncodesRfc4648Vectors) {
    for (const auto &[plain, encoded] : kRfcVectors) {
        const auto bytes = bytes_of(plain);
        EXPECT_EQ(base64_encode(bytes.data(), bytes.size()), encoded);
    }
}

TEST(Base64, DecodesRfc4648VectorsPaddedAndUnpadded) {
    for (const auto &[plain, encoded] : kRfcVectors) {
        EXPECT_EQ(base64_decode(encoded), bytes_of(plain)) << encoded;
        std::string unpadded = encoded;
        while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
        EXPECT_EQ(base64_decode(unpadded), bytes_of(plain)) << unpadded;
    }
}

TEST(Base64, RoundTripsEveryByteAndLength) {
    std::mt19937 rng(1);
    for (size_t length = 0; length < 300; ++length) {
        std::vector<uint8_t> data(length);
        for (auto &b : data) b = static_cast<uint8_t>(rng());
        EXPECT_EQ(base64_decode(base64_encode(data)), data);
    }
    std::vector<uint8_t> all(256);
    for (int i = 0; i < 256; ++i) all[size_t(i)] = uint8_t(i);
    const std::string encoded = base64_encode(all);
    EXPECT_EQ(encoded.substr(0, 8), "AAECAwQF");
    EXPECT_EQ(encoded.substr(encoded.size() - 8), "/P3+/w=="  /* Python base64.b64encode(bytes(range(256))) */);
}

TEST(Base64, StripsDataUrlPrefix) {
    EXPECT_EQ(base64_decode("data:image/png;base64,Zm9vYmFy"), bytes_of("foobar"));
    EXPECT_EQ(base64_decode("data:application/octet-stream;base64,Zg=="), bytes_of("f"));
    EXPECT_EQ(base64_decode("data:image/png,Zm9v"), std::nullopt);  // not base64-encoded
}

TEST(Base64, IgnoresWhitespace) {
    EXPECT_EQ(base64_decode("Zm9v\r\nYmFy\n"), bytes_of("foobar"));
    EXPECT_EQ(base64_decode(" Zm 9v\tYg = = "), bytes_of("foob"));
}

TEST(Base64, RejectsInvalidInput) {
    for (const std::string_view bad : {
             "Zm9v!mFy",   // not in the alphabet
             "Zm9v-_Fy",   // URL-safe alphabet
             "Z",          // 6 bits, not a byte
             "Zm9vY",      // same after a whole group
             "Zg=",        // short padding
             "Zg===",      // long padding
             "Zm9=v",      // data after padding
             "Zg==Zg==",   // concatenated padded groups
             "=",          // padding alone
             "Z===",       // padding completing a 1-character group
             "Zm9v\x80",   // non-ASCII
         })
        EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
    EXPECT_EQ(base64_decode(std::string_view("Zm\0v", 4)), std::nullopt);
}

}  // namespace
}  // namespace sdw
