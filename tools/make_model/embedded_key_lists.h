// The golden key lists (tests/fixtures/golden/keys/*.json), compiled in at build time.
#pragma once

#include <string_view>

namespace sdw::make_model {

// The JSON text of the key file with that name (e.g. "sd15-unet-diffusers.json"): an object
// mapping each diffusers tensor name to its shape. Empty when no such file was embedded.
std::string_view embedded_key_list(std::string_view name);

}  // namespace sdw::make_model
