// The Unicode text operations of the CLIP tokenizer's normalizer and pre-tokenizer, with the
// semantics of the Rust `tokenizers` library that transformers uses: NFC, White_Space,
// general categories L and N, and full lowercasing (str::to_lowercase, final sigma included).
#pragma once

#include <string>
#include <string_view>

namespace sdw::unicode {

// Invalid UTF-8 sequences become U+FFFD, one per maximal invalid subsequence start byte.
std::u32string decode_utf8(std::string_view text);
std::string encode_utf8(std::u32string_view text);
void append_utf8(std::string& out, char32_t cp);

bool is_letter(char32_t cp);      // general category L*
bool is_number(char32_t cp);      // general category N*
bool is_whitespace(char32_t cp);  // White_Space property (regex \s)

// Full lowercase mapping of a whole string.
std::u32string to_lower(std::u32string_view text);

// Canonical composition (Unicode normalization form C).
std::u32string nfc(std::u32string_view text);

}  // namespace sdw::unicode
