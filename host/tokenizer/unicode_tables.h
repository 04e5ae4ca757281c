// Unicode character data for the tokenizer's text pipeline, generated into unicode_tables.cpp
// by generate_unicode_tables.py. Every table is sorted by its first code point.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sdw::unicode_tables {

struct CodepointRange {
    char32_t first;
    char32_t last;  // inclusive
};

struct CodepointMapping {
    char32_t from;
    char32_t to;
};

// Lowercase mappings that produce more than one code point (unused slots are 0).
struct MultiLowercase {
    char32_t from;
    char32_t to[3];
};

struct CombiningClassRange {
    char32_t first;
    char32_t last;
    uint8_t combining_class;
};

// Canonical decomposition into one or two code points (second = 0 for a singleton).
struct Decomposition {
    char32_t from;
    char32_t first;
    char32_t second;
};

// Primary composites: sorted by (first, second).
struct Composition {
    char32_t first;
    char32_t second;
    char32_t composite;
};

extern const CodepointRange letters[];          // general category L*
extern const size_t letters_size;
extern const CodepointRange numbers[];          // general category N*
extern const size_t numbers_size;
extern const CodepointRange cased[];            // Cased (for final sigma)
extern const size_t cased_size;
extern const CodepointRange case_ignorable[];   // Case_Ignorable (for final sigma)
extern const size_t case_ignorable_size;
extern const CodepointMapping lowercase[];
extern const size_t lowercase_size;
extern const MultiLowercase lowercase_multi[];
extern const size_t lowercase_multi_size;
extern const CombiningClassRange combining_classes[];
extern const size_t combining_classes_size;
extern const Decomposition decompositions[];
extern const size_t decompositions_size;
extern const Composition compositions[];
extern const size_t compositions_size;

}  // namespace sdw::unicode_tables
