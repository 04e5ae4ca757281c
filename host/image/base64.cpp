#include "image/base64.h"

#include <array>

namespace sdw {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int8_t kInvalid = -1;
constexpr int8_t kWhitespace = -2;
constexpr int8_t kPad = -3;

constexpr std::array<int8_t, 256> make_decode_table() {
    std::array<int8_t, 256> table{};
    for (auto &entry : table) entry = kInvalid;
    for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
    for (char c : {' ', '\t', '\r', '\n'}) table[static_cast<uint8_t>(c)] = kWhitespace;
    table[static_cast<uint8_t>('=')] = kPad;
    return table;
}

constexpr std::array<int8_t, 256> kDecode = make_decode_table();

std::string_view strip_data_url(std::string_view text) {
    constexpr std::string_view kScheme = "data:";
    constexpr std::string_view kMarker = ";base64,";
    if (text.substr(0, kScheme.size()) != kScheme) return text;
    const size_t marker = text.find(kMarker);
    if (marker == std::string_view::npos) return text;  // not base64: left to fail decoding
    return text.substr(marker + kMarker.size());
}

}  // namespace

std::string base64_encode(const uint8_t *data, size_t size) {
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        const uint32_t group = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
        out.push_back(kAlphabet[(group >> 18) & 63]);
        out.push_back(kAlphabet[(group >> 12) & 63]);
        out.push_back(kAlphabet[(group >> 6) & 63]);
        out.push_back(kAlphabet[group & 63]);
    }
    const size_t rest = size - i;
    if (rest > 0) {
        uint32_t group = uint32_t{data[i]} << 16;
        if (rest == 2) group |= uint32_t{data[i + 1]} << 8;
        out.push_back(kAlphabet[(group >> 18) & 63]);
        out.push_back(kAlphabet[(group >> 12) & 63]);
        out.push_back(rest == 2 ? kAlphabet[(group >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

std::string base64_encode(const std::vector<uint8_t> &bytes) {
    return base64_encode(bytes.data(), bytes.size());
}

std::optional<std::vector<uint8_t>> base64_decode(std::string_view text) {
    text = strip_data_url(text);
    std::vector<uint8_t> out;
    out.reserve(text.size() / 4 * 3 + 3);

    uint32_t group = 0;
    int group_chars = 0;  // alphabet characters in the current group of 4
    int pad_chars = 0;    // '=' seen; once non-zero only whitespace and '=' may follow
    for (const char c : text) {
        const int8_t value = kDecode[static_cast<uint8_t>(c)];
        if (value == kWhitespace) continue;
        if (value == kInvalid) return std::nullopt;
        if (value == kPad) {
            // Padding only completes a group of 2 or 3 characters.
            if (group_chars < 2) return std::nullopt;
            ++pad_chars;
            if (group_chars + pad_chars > 4) return std::nullopt;
            continue;
        }
        if (pad_chars > 0) return std::nullopt;  // data after padding
        group = (group << 6) | static_cast<uint32_t>(value);
        if (++group_chars == 4) {
            out.push_back(static_cast<uint8_t>(group >> 16));
            out.push_back(static_cast<uint8_t>(group >> 8));
            out.push_back(static_cast<uint8_t>(group));
            group = 0;
            group_chars = 0;
        }
    }
    if (pad_chars > 0 && group_chars + pad_chars != 4) return std::nullopt;
    switch (group_chars) {
    case 0: break;
    case 1: return std::nullopt;
    case 2: out.push_back(static_cast<uint8_t>(group >> 4)); break;
    case 3:
        out.push_back(static_cast<uint8_t>(group >> 10));
        out.push_back(static_cast<uint8_t>(group >> 2));
        break;
    }
    return out;
}

}  // namespace sdw
