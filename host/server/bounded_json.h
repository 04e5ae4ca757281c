// Untrusted request bodies to JSON, bounded. nlohmann's DOM parser recurses and
// allocates per value, so 16 MiB of "[" or a flat array of millions of numbers would
// hold an I/O thread for seconds and take a gigabyte. A SAX pass first (no allocation
// beyond one key, stopping at the first excess) checks the nesting depth and the number
// of values, and remembers which top-level field a malformed value belongs to, so that
// refusals can name it (a number beyond a double, "1e309", included). Only a body within
// the bounds is then parsed into a DOM. Thread-safe, no shared state, never throws
// (std::bad_alloc aside).
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace sdw {

struct JsonBounds {
    int max_depth = 32;          // nested arrays/objects; requests need 3 or 4
    size_t max_values = 100000;  // scalars, arrays and objects together (a base64 image is one)
};

struct JsonRefusal {
    std::string field;    // the top-level key whose value is at fault; empty: the body
    std::string message;  // one sentence, for a 400
};

std::variant<nlohmann::json, JsonRefusal> parse_bounded_json(std::string_view text,
                                                             const JsonBounds &bounds = {});

}  // namespace sdw
