#include "tokenizer/unicode_text.h"

#include <algorithm>
#include <cstdint>

#include "tokenizer/unicode_tables.h"

namespace sdw::unicode {
namespace {

namespace tables = sdw::unicode_tables;

constexpr char32_t kReplacement = 0xFFFD;

bool in_ranges(const tables::CodepointRange* table, size_t size, char32_t cp) {
    const auto* end = table + size;
    const auto* it = std::upper_bound(table, end, cp, [](char32_t value, const auto& range) {
        return value < range.first;
    });
    return it != table && cp <= (it - 1)->last;
}

uint8_t combining_class(char32_t cp) {
    const auto* table = tables::combining_classes;
    const auto* end = table + tables::combining_classes_size;
    const auto* it = std::upper_bound(table, end, cp, [](char32_t value, const auto& range) {
        return value < range.first;
    });
    if (it == table || cp > (it - 1)->last) return 0;
    return (it - 1)->combining_class;
}

// Hangul syllables decompose and compose arithmetically (Unicode 3.12).
constexpr char32_t kHangulBase = 0xAC00;
constexpr char32_t kLeadBase = 0x1100;
constexpr char32_t kVowelBase = 0x1161;
constexpr char32_t kTrailBase = 0x11A7;
constexpr char32_t kVowelCount = 21;
constexpr char32_t kTrailCount = 28;
constexpr char32_t kLeadCount = 19;
constexpr char32_t kSyllablesPerLead = kVowelCount * kTrailCount;
constexpr char32_t kSyllableCount = kLeadCount * kSyllablesPerLead;

void decompose_into(std::u32string& out, char32_t cp) {
    if (cp >= kHangulBase && cp < kHangulBase + kSyllableCount) {
        const char32_t index = cp - kHangulBase;
        out.push_back(kLeadBase + index / kSyllablesPerLead);
        out.push_back(kVowelBase + (index % kSyllablesPerLead) / kTrailCount);
        if (index % kTrailCount != 0) out.push_back(kTrailBase + index % kTrailCount);
        return;
    }
    const auto* table = tables::decompositions;
    const auto* end = table + tables::decompositions_size;
    const auto* it = std::lower_bound(table, end, cp, [](const auto& entry, char32_t value) {
        return entry.from < value;
    });
    if (it == end || it->from != cp) {
        out.push_back(cp);
        return;
    }
    decompose_into(out, it->first);
    if (it->second != 0) decompose_into(out, it->second);
}

// The primary composite of a starter and a following character, or 0.
char32_t compose_pair(char32_t first, char32_t second) {
    if (first >= kLeadBase && first < kLeadBase + kLeadCount && second >= kVowelBase &&
        second < kVowelBase + kVowelCount) {
        return kHangulBase + ((first - kLeadBase) * kVowelCount + (second - kVowelBase)) * kTrailCount;
    }
    if (first >= kHangulBase && first < kHangulBase + kSyllableCount &&
        (first - kHangulBase) % kTrailCount == 0 && second > kTrailBase &&
        second < kTrailBase + kTrailCount) {
        return first + (second - kTrailBase);
    }
    const auto* table = tables::compositions;
    const auto* end = table + tables::compositions_size;
    const auto* it = std::lower_bound(table, end, std::pair{first, second},
                                      [](const auto& entry, const std::pair<char32_t, char32_t>& key) {
                                          return std::pair{entry.first, entry.second} < key;
                                      });
    if (it == end || it->first != first || it->second != second) return 0;
    return it->composite;
}

bool is_cased(char32_t cp) {
    return in_ranges(tables::cased, tables::cased_size, cp);
}

bool is_case_ignorable(char32_t cp) {
    return in_ranges(tables::case_ignorable, tables::case_ignorable_size, cp);
}

// Final_Sigma (Unicode 3.13): preceded by a cased letter and not followed by one, skipping
// case-ignorable characters on both sides.
bool is_final_sigma(std::u32string_view text, size_t at) {
    size_t before = at;
    bool cased_before = false;
    while (before > 0) {
        const char32_t cp = text[--before];
        if (is_case_ignorable(cp)) continue;
        cased_before = is_cased(cp);
        break;
    }
    if (!cased_before) return false;
    for (size_t after = at + 1; after < text.size(); ++after) {
        if (is_case_ignorable(text[after])) continue;
        return !is_cased(text[after]);
    }
    return true;
}

}  // namespace

std::u32string decode_utf8(std::string_view text) {
    std::u32string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        size_t length = 0;
        char32_t cp = 0;
        char32_t minimum = 0;
        if (lead < 0x80) {
            out.push_back(lead);
            ++i;
            continue;
        } else if ((lead & 0xE0) == 0xC0) {
            length = 2, cp = lead & 0x1F, minimum = 0x80;
        } else if ((lead & 0xF0) == 0xE0) {
            length = 3, cp = lead & 0x0F, minimum = 0x800;
        } else if ((lead & 0xF8) == 0xF0) {
            length = 4, cp = lead & 0x07, minimum = 0x10000;
        }
        bool valid = length != 0 && i + length <= text.size();
        for (size_t k = 1; valid && k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            valid = (next & 0xC0) == 0x80;
            cp = (cp << 6) | (next & 0x3F);
        }
        valid = valid && cp >= minimum && cp <= 0x10FFFF && !(cp >= 0xD800 && cp < 0xE000);
        if (!valid) {
            out.push_back(kReplacement);
            ++i;
            continue;
        }
        out.push_back(cp);
        i += length;
    }
    return out;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::string encode_utf8(std::u32string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char32_t cp : text) append_utf8(out, cp);
    return out;
}

bool is_letter(char32_t cp) {
    return in_ranges(tables::letters, tables::letters_size, cp);
}

bool is_number(char32_t cp) {
    return in_ranges(tables::numbers, tables::numbers_size, cp);
}

bool is_whitespace(char32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

std::u32string to_lower(std::u32string_view text) {
    constexpr char32_t kCapitalSigma = 0x03A3;
    constexpr char32_t kFinalSigma = 0x03C2;
    std::u32string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char32_t cp = text[i];
        if (cp < 0x80) {
            out.push_back(cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp);
            continue;
        }
        if (cp == kCapitalSigma && is_final_sigma(text, i)) {
            out.push_back(kFinalSigma);
            continue;
        }
        const auto* multi_end = tables::lowercase_multi + tables::lowercase_multi_size;
        const auto* multi = std::find_if(tables::lowercase_multi, multi_end,
                                         [cp](const auto& entry) { return entry.from == cp; });
        if (multi != multi_end) {
            for (char32_t part : multi->to) {
                if (part != 0) out.push_back(part);
            }
            continue;
        }
        const auto* end = tables::lowercase + tables::lowercase_size;
        const auto* it = std::lower_bound(tables::lowercase, end, cp,
                                          [](const auto& entry, char32_t value) {
                                              return entry.from < value;
                                          });
        out.push_back(it != end && it->from == cp ? it->to : cp);
    }
    return out;
}

std::u32string nfc(std::u32string_view text) {
    // Fast path: ASCII is always in NFC.
    if (std::all_of(text.begin(), text.end(), [](char32_t cp) { return cp < 0x80; })) {
        return std::u32string(text);
    }

    std::u32string decomposed;
    decomposed.reserve(text.size());
    for (char32_t cp : text) decompose_into(decomposed, cp);

    // Canonical ordering: stable sort of each run of non-starters by combining class.
    for (size_t i = 0; i < decomposed.size();) {
        if (combining_class(decomposed[i]) == 0) {
            ++i;
            continue;
        }
        size_t end = i;
        while (end < decomposed.size() && combining_class(decomposed[end]) != 0) ++end;
        std::stable_sort(decomposed.begin() + static_cast<std::ptrdiff_t>(i),
                         decomposed.begin() + static_cast<std::ptrdiff_t>(end),
                         [](char32_t a, char32_t b) { return combining_class(a) < combining_class(b); });
        i = end;
    }

    // Canonical composition: each character joins the last starter unless blocked by a
    // character of the same or higher combining class in between.
    std::u32string out;
    out.reserve(decomposed.size());
    size_t starter = std::u32string::npos;
    int last_class = -1;
    for (char32_t cp : decomposed) {
        const int cls = combining_class(cp);
        if (starter != std::u32string::npos) {
            const bool blocked = !out.empty() && out.size() - 1 != starter &&
                                 (last_class == 0 || last_class >= cls);
            if (!blocked) {
                const char32_t composite = compose_pair(out[starter], cp);
                if (composite != 0) {
                    out[starter] = composite;
                    continue;
                }
            }
        }
        if (cls == 0) starter = out.size();
        last_class = cls;
        out.push_back(cp);
    }
    return out;
}

}  // namespace sdw::unicode
