// The config file (JSON with comments, strict keys: config_json.h) as load_config reads it,
// without the file: merge_config_text is what load_config calls on the file's text. What
// merges must also survive the --print-config round trip: config_to_json, read back, gives
// the same JSON (once relative defaults are absolute). Refusals are ConfigError (a std::runtime_error).
#include "config/config_error.h"
#include "config/config_json.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    sdw::Config config;
    try {
        sdw::merge_config_text(config, text, "fuzz.json", "/fuzz");
    } catch (const sdw::ConfigError &) {
        return 0;
    }
    // Built-in defaults may be relative (load_config makes them absolute afterwards), and
    // reading them back rebases them on the base directory: the first print is not yet a
    // fixed point, the second must be.
    const auto reprint = [](const nlohmann::json &printed) {
        sdw::Config again;
        try {
            sdw::merge_config_json(again, printed, "printed", "/fuzz");
        } catch (const sdw::ConfigError &e) {
            // --print-config wrote something its own reader refuses.
            std::fprintf(stderr, "printed config refused: %s\n%s\n", e.what(), printed.dump(2).c_str());
            std::abort();
        }
        return sdw::config_to_json(again);
    };
    const nlohmann::json printed = reprint(sdw::config_to_json(config));
    const nlohmann::json again = reprint(printed);
    if (again != printed) {
        std::fprintf(stderr, "printed config reads back as another:\n%s\n%s\n", printed.dump(2).c_str(),
                     again.dump(2).c_str());
        std::abort();
    }
    return 0;
}
