// Internal to sdw_web: the table the generated web_assets_data.cpp defines
// (embed_web_assets.cmake), sorted by name. Tests read it to compare the embedded bytes
// with host/web/ui; everyone else uses find_web_asset().
#pragma once

#include <cstddef>

namespace sdw::web_detail {

struct EmbeddedFile {
    const char *name;          // relative to host/web/ui, '/'-separated
    const char *content_type;
    const unsigned char *data;  // `size` bytes (then a 0 that is not part of the file)
    std::size_t size;
};

extern const EmbeddedFile kAssets[];
extern const std::size_t kAssetCount;

}  // namespace sdw::web_detail
