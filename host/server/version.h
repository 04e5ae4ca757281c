// The sd-worker version (the CMake project version), for the Server header and /v1/info.
#pragma once

#include <string_view>

namespace sdw {

std::string_view server_version();

}  // namespace sdw
