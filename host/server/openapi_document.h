// The native API's OpenAPI 3 description, docs/openapi.json, embedded at build time
// (host/server/embed_openapi.cmake checks that it is JSON). `GET /openapi.json`
// answers it as it is.
#pragma once

#include <string_view>

namespace sdw {

std::string_view openapi_document();

}  // namespace sdw
