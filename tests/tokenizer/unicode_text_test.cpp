// The Unicode operations against values from the Unicode Character Database (as Python's
// unicodedata and str.lower report them).
#include <gtest/gtest.h>

#include "tokenizer/unicode_text.h"

namespace sdw::unicode {
namespace {

TEST(UnicodeText, Utf8RoundTripsAndReplacesInvalidBytes) {
    const std::string text = "a\u00e9\u2603\U0001F600";
    EXPECT_EQ(decode_utf8(text), (std::u32string{U'a', 0xE9, 0x2603, 0x1F600}));
    EXPECT_EQ(encode_utf8(decode_utf8(text)), text);
    EXPECT_EQ(decode_utf8("a\xff" "b"), (std::u32string{U'a', 0xFFFD, U'b'}));
    EXPECT_EQ(decode_utf8("\xc0\xaf"), (std::u32string{0xFFFD, 0xFFFD}));  // overlong '/'
}

TEST(UnicodeText, Categories) {
    EXPECT_TRUE(is_letter(U'a'));
    EXPECT_TRUE(is_letter(0xE9));     // é
    EXPECT_TRUE(is_letter(0x4E2D));   // 中 (Lo)
    EXPECT_TRUE(is_letter(0x2B0));    // ʰ (Lm)
    EXPECT_FALSE(is_letter(0x1F600));  // 😀 (So)
    EXPECT_FALSE(is_letter(0x301));    // combining acute (Mn)
    EXPECT_TRUE(is_number(U'7'));
    EXPECT_TRUE(is_number(0xBD));     // ½ (No)
    EXPECT_TRUE(is_number(0x2167));   // Ⅷ (Nl)
    EXPECT_TRUE(is_number(0x664));    // Arabic-Indic four (Nd)
    EXPECT_FALSE(is_number(U'x'));
    EXPECT_TRUE(is_whitespace(U'\n'));
    EXPECT_TRUE(is_whitespace(0x3000));
    EXPECT_TRUE(is_whitespace(0xA0));
    EXPECT_FALSE(is_whitespace(0x200B));  // zero width space is not White_Space
}

TEST(UnicodeText, LowercaseIsTheFullMapping) {
    EXPECT_EQ(to_lower(U"ABC\u00C9\u0130"), (std::u32string{U'a', U'b', U'c', 0xE9, U'i', 0x307}));
    EXPECT_EQ(to_lower(U"\u0391\u03A3\u03A3\u0391"), U"\u03B1\u03C3\u03C3\u03B1");  // medial sigma
    EXPECT_EQ(to_lower(U"\u039F\u0394\u03A5\u03A3\u03A3\u0395\u03A5\u03A3"),
              U"\u03BF\u03B4\u03C5\u03C3\u03C3\u03B5\u03C5\u03C2");  // final sigma
    EXPECT_EQ(to_lower(U"\u03A3"), U"\u03C3");  // a lone capital sigma is not final
}

TEST(UnicodeText, NfcComposesAndReorders) {
    EXPECT_EQ(nfc(U"e\u0301"), U"\u00E9");
    EXPECT_EQ(nfc(U"\u1100\u1161\u11A8"), U"\uAC01");            // Hangul L V T
    EXPECT_EQ(nfc(U"a\u0323\u0302"), U"\u1EAD");                 // ậ from dot below + circumflex
    EXPECT_EQ(nfc(U"a\u0302\u0323"), U"\u1EAD");                 // same after canonical reordering
    EXPECT_EQ(nfc(U"\u212B"), U"\u00C5");                        // Angstrom sign -> Å
    EXPECT_EQ(nfc(U"\u0958"), U"\u0915\u093C");                  // composition exclusion stays apart
    EXPECT_EQ(nfc(U"\u0301e"), U"\u0301e");                      // leading combining mark
}

}  // namespace
}  // namespace sdw::unicode
