// sdw_plugin_smoke <plugin.so>: loads a plugin with the host loader, creates a
// context with "{}" and prints what it says about itself. Used by the kit test
// when sdw-plugin-check is not part of the build.
#include "plugin/plugin_context.h"
#include "plugin/plugin_library.h"

#include <cstdio>
#include <exception>

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: sdw_plugin_smoke <plugin.so>\n");
        return 2;
    }
    try {
        auto library = sdw::PluginLibrary::load(argv[1]);
        sdw::PluginContext context = sdw::PluginContext::create(library);
        const sdw::PluginInfo &info = library->info();
        std::printf("loaded %s %s on %s (ABI v%u.%u)\n", info.name.c_str(), info.version.c_str(),
                    info.device.c_str(), info.abi_major, info.abi_minor);
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
