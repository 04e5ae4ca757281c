// How a request parser (native, A1111) leaves a check nested deep inside it: refuse()
// throws a FieldRefusal, which the parser's entry point catches and returns as its
// FieldError. It never leaves the parser.
#pragma once

#include "server/generation_request_parser.h"

#include <string>
#include <utility>

namespace sdw {

struct FieldRefusal {
    FieldError error;
};

[[noreturn]] inline void refuse(std::string field, std::string message) {
    throw FieldRefusal{FieldError{std::move(field), std::move(message)}};
}

}  // namespace sdw
