// sdw-plugin-check <plugin.so | name> [--model DIR] [--options JSON]
//
// Loads a plugin the way the server does and exercises the ABI contract: versions,
// probe, init and describe (all part of loading), option refusal, then every
// component of a model folder (default: the tiny-sd test fixture) on small inputs
// of the documented shapes, its refusals and its cancellation, which operations the
// host can serve with those components, then the optional ABI 1.1 context calls
// (context_describe, context_memory). Prints one
// PASS/FAIL/NOTE/SKIP line per check and exits 1 if any check failed, 2 on usage
// errors.
#include "check_report.h"
#include "component_checks.h"

#include "model/model_folder.h"
#include "plugin/plugin_context.h"
#include "plugin/plugin_errors.h"
#include "plugin/plugin_library.h"

#include <sdw/plugin_api.hpp>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

using sdw::plugin_check::CheckReport;

struct Arguments {
    std::string plugin;
    std::string model = SDW_CHECK_DEFAULT_MODEL;
    std::string options = "{}";
};

int usage(const char *message, bool help = false) {
    std::fprintf(help ? stdout : stderr,
                 "sdw-plugin-check: %s\n"
                 "usage: sdw-plugin-check <plugin.so | name> [--model DIR] [--options JSON]\n"
                 "  --model DIR     a diffusers model folder whose components are loaded and run\n"
                 "                  (default: %s, the tiny-sd test fixture of the source tree\n"
                 "                  this was built from)\n"
                 "  --options JSON  the plugin's context options (default: {})\n"
                 "Prints PASS/FAIL/NOTE/SKIP per check and, last, which operations (txt2img,\n"
                 "img2img, inpaint) sd-worker can serve with the plugin. Exit status: 0 when\n"
                 "no check failed, 1 otherwise, 2 on usage errors.\n",
                 message, SDW_CHECK_DEFAULT_MODEL);
    return help ? 0 : 2;
}

void check_bad_options(const std::shared_ptr<sdw::PluginLibrary> &library, CheckReport &report) {
    const std::string check = "context_create refuses malformed options";
    try {
        sdw::PluginContext::create(library, "{this is not json");
        report.fail(check, "accepted '{this is not json'");
    } catch (const sdw::PluginCallError &e) {
        if (e.plugin_bug()) {
            report.fail(check, e.what());
        } else {
            report.pass(check, sdw::plugin_status_name(e.status()) + ": " + e.plugin_message());
        }
    }
}

// ABI 1.1's optional context calls: absent is fine (a NOTE), present must succeed.
void check_context_reports(sdw::PluginContext &context, CheckReport &report) {
    const sdw::PluginLibrary &library = context.library();
    if (library.context_describe_fn() == nullptr) {
        report.note("context_describe", "not implemented (optional, ABI 1.1)");
    } else {
        try {
            report.pass("context_describe", context.device());
        } catch (const sdw::PluginCallError &e) {
            report.fail("context_describe", e.what());
        }
    }
    if (library.context_memory_fn() == nullptr) {
        report.note("context_memory", "not implemented (optional, ABI 1.1)");
        return;
    }
    try {
        if (const auto memory = context.memory()) {
            report.pass("context_memory", "weights " + std::to_string(memory->weights_bytes) +
                                              " B, plans " + std::to_string(memory->plans_bytes) +
                                              " B, cache " + std::to_string(memory->cache_bytes) +
                                              " B");
        } else {
            report.note("context_memory", "UNSUPPORTED: the plugin does not report its memory");
        }
    } catch (const sdw::PluginCallError &e) {
        report.fail("context_memory", e.what());
    }
}

int run_checks(const Arguments &args) {
    CheckReport report;
    std::shared_ptr<sdw::PluginLibrary> library;
    try {
        library = sdw::PluginLibrary::load(args.plugin);
    } catch (const sdw::PluginLoadError &e) {
        report.fail("load (probe, init, versions, describe)", e.what());
        return 1;
    }
    const sdw::PluginInfo &info = library->info();
    report.pass("load (probe, init, versions, describe)", library->path().string());
    report.pass("abi", "plugin needs " + sdw::plugin::version_string(info.abi_major, info.abi_minor) +
                           ", host offers " +
                           sdw::plugin::version_string(SDW_ABI_VERSION_MAJOR, SDW_ABI_VERSION_MINOR));
    report.note("describe", info.name + " " + info.version + " on " + info.device +
                                (info.supports_f16 ? " (f16)" : ""));
    if (!library->has_prepare()) report.note("component_prepare", "not implemented (optional)");

    check_bad_options(library, report);

    std::optional<sdw::PluginContext> context;
    try {
        context.emplace(sdw::PluginContext::create(library, args.options));
        report.pass("context_create " + args.options);
    } catch (const sdw::PluginCallError &e) {
        report.fail("context_create " + args.options, e.what());
        return 1;
    }

    try {
        const sdw::ModelFolder model = sdw::ModelFolder::open(args.model);
        report.note("model", model.path().string());
        sdw::plugin_check::check_components(*context, model, report);
    } catch (const std::exception &e) {
        report.fail("model", e.what());
    }
    check_context_reports(*context, report);

    std::printf("%d passed, %d failed\n", report.passes(), report.failures());
    return report.failures() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv) {
    Arguments args;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if ((arg == "--model" || arg == "--options") && i + 1 < argc) {
            (arg == "--model" ? args.model : args.options) = argv[++i];
        } else if (arg == "--help" || arg == "-h") {
            return usage("checks a plugin against the sd-worker plugin ABI", true);
        } else if (arg.rfind("--", 0) == 0) {
            return usage(("unknown or incomplete option " + arg).c_str());
        } else if (args.plugin.empty()) {
            args.plugin = arg;
        } else {
            return usage("more than one plugin given");
        }
    }
    if (args.plugin.empty()) return usage("no plugin given");
    try {
        return run_checks(args);
    } catch (const std::exception &e) {
        std::printf("FAIL unexpected error: %s\n", e.what());
        return 1;
    }
}
