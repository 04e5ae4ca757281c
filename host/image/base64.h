// Base64 (RFC 4648 section 4, standard alphabet "A-Za-z0-9+/") for images in JSON.
//
// Decoding is lenient where clients legitimately differ and strict otherwise:
// - an optional data URL prefix `data:<mediatype>;base64,` (e.g. "data:image/png;base64,")
//   is stripped; the media type itself is not checked (the PNG decoder judges the bytes);
// - ASCII whitespace (space, \t, \r, \n) anywhere is ignored (MIME-wrapped input);
// - padding is optional, but where present it must be correct ("QQ==" or "QQ", never
//   "QQ=" or "QQ===") and nothing may follow it;
// - any other character, including the URL-safe '-' and '_', makes the input invalid;
// - a final group of a single character (6 bits, not a whole byte) is invalid;
// - non-zero unused bits in the last group are tolerated (as Python's base64 does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sdw {

// Always padded.
std::string base64_encode(const uint8_t *data, size_t size);
std::string base64_encode(const std::vector<uint8_t> &bytes);

// std::nullopt for invalid input (see the rules above).
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);

}  // namespace sdw
