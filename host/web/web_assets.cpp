#include "web/web_assets.h"

#include "web/web_assets_table.h"

#include <algorithm>
#include <vector>

namespace sdw {

namespace {

struct Entry {
    std::string_view name;
    WebAsset asset;
};

// Built once from the generated table (already sorted by name); never freed.
const std::vector<Entry> &entries() {
    static const std::vector<Entry> *table = [] {
        auto *list = new std::vector<Entry>;
        list->reserve(web_detail::kAssetCount);
        for (std::size_t i = 0; i < web_detail::kAssetCount; ++i) {
            const auto &file = web_detail::kAssets[i];
            list->push_back({file.name,
                             {file.content_type,
                              std::string_view(reinterpret_cast<const char *>(file.data), file.size)}});
        }
        std::sort(list->begin(), list->end(),
                  [](const Entry &a, const Entry &b) { return a.name < b.name; });
        return list;
    }();
    return *table;
}

}  // namespace

const WebAsset *find_web_asset(std::string_view name) {
    const auto &list = entries();
    auto it = std::lower_bound(list.begin(), list.end(), name,
                               [](const Entry &e, std::string_view n) { return e.name < n; });
    if (it == list.end() || it->name != name) return nullptr;
    return &it->asset;
}

}  // namespace sdw
