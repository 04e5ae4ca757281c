#include "server/version.h"

namespace sdw {

std::string_view server_version() { return SDW_VERSION; }

}  // namespace sdw
