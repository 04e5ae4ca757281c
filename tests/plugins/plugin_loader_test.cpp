// Each refusal of the plugin loader, against a plugin broken in exactly that way.
#include "log/log.h"
#include "plugin/host_api.h"
#include "plugin/host_error.h"
#include "plugin/plugin_context.h"
#include "plugin/plugin_errors.h"
#include "plugin/plugin_library.h"

#include <gtest/gtest.h>
#include <sdw/tensor_views.hpp>

#include <string>

namespace sdw {
namespace {

const std::string kBrokenDir = SDW_BROKEN_PLUGIN_DIR;

std::string broken(const std::string &name) {
    return kBrokenDir + "/libsdw_broken_" + name + ".so";
}

PluginLoadError load_failure(const std::string &path_or_name,
                             const std::vector<std::filesystem::path> &dirs = {}) {
    try {
        PluginLibrary::load(path_or_name, dirs);
    } catch (const PluginLoadError &e) {
        return e;
    }
    ADD_FAILURE() << "loading " << path_or_name << " did not fail";
    return PluginLoadError(PluginLoadFailure::not_found, "");
}

TEST(PluginLoader, MissingFileIsRefusedWithItsPath) {
    const PluginLoadError e = load_failure(kBrokenDir + "/libdoes_not_exist.so");
    EXPECT_EQ(e.failure(), PluginLoadFailure::not_found);
    EXPECT_STREQ(e.what(), ("plugin file not found: " + kBrokenDir + "/libdoes_not_exist.so").c_str());
}

TEST(PluginLoader, UnknownNameListsFileNamesAndDirectories) {
    const PluginLoadError e = load_failure("no-such", {"/nonexistent/a", "/nonexistent/b"});
    EXPECT_EQ(e.failure(), PluginLoadFailure::not_found);
    EXPECT_STREQ(e.what(),
                 "plugin 'no-such' not found (looked for libno-such.so, libsdw_no_such.so, "
                 "libno_such.so in /nonexistent/a, /nonexistent/b)");
}

TEST(PluginLoader, TextFileIsNotASharedObject) {
    const std::string path = kBrokenDir + "/libsdw_broken_not_elf.so";
    const PluginLoadError e = load_failure(path);
    EXPECT_EQ(e.failure(), PluginLoadFailure::not_loadable);
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("not a loadable shared object (", 0), 0u) << message;
    EXPECT_NE(message.find("invalid ELF header"), std::string::npos) << message;  // dlerror's text
    EXPECT_TRUE(message.ends_with("): " + path)) << message;
}

TEST(PluginLoader, MissingEntrySymbol) {
    const PluginLoadError e = load_failure(broken("no_entry"));
    EXPECT_EQ(e.failure(), PluginLoadFailure::no_entry_symbol);
    EXPECT_EQ(std::string(e.what()),
              "missing entry symbol sdw_plugin_init (not an sd-worker plugin?): " + broken("no_entry"));
}

TEST(PluginLoader, WrongMajorNamesBothVersions) {
    const PluginLoadError e = load_failure(broken("wrong_major"));
    EXPECT_EQ(e.failure(), PluginLoadFailure::abi_major_mismatch);
    EXPECT_EQ(std::string(e.what()),
              "built for plugin ABI v2.0, this host loads v1.x: " + broken("wrong_major"));
}

TEST(PluginLoader, MinorTooNewNamesBothVersions) {
    const PluginLoadError e = load_failure(broken("minor_too_new"));
    EXPECT_EQ(e.failure(), PluginLoadFailure::abi_minor_too_new);
    EXPECT_EQ(std::string(e.what()),
              "built for plugin ABI v1.6, this host loads up to v1.1: " + broken("minor_too_new"));
}

TEST(PluginLoader, ProbeRefusalCarriesThePluginsReason) {
    const PluginLoadError e = load_failure(broken("probe_refuses"));
    EXPECT_EQ(e.failure(), PluginLoadFailure::probe_refused);
    EXPECT_EQ(std::string(e.what()),
              "plugin unusable here (UNSUPPORTED): no frobnicator device found (/dev/frob0 "
              "missing): " + broken("probe_refuses"));
}

TEST(PluginLoader, InitFailureCarriesThePluginsMessage) {
    const PluginLoadError e = load_failure(broken("init_message"));
    EXPECT_EQ(e.failure(), PluginLoadFailure::init_failed);
    EXPECT_EQ(std::string(e.what()),
              "plugin init failed (DEVICE_ERROR): license file /etc/frob.lic is missing: " +
                  broken("init_message"));
}

TEST(PluginLoader, InitFailureWithoutMessageIsAPluginBug) {
    const PluginLoadError e = load_failure(broken("init_silent"));
    EXPECT_EQ(e.failure(), PluginLoadFailure::plugin_bug);
    EXPECT_EQ(std::string(e.what()),
              "plugin bug: sdw_plugin_init returned INTERNAL without a message: " +
                  broken("init_silent"));
}

TEST(PluginLoader, TableTooSmall) {
    const PluginLoadError e = load_failure(broken("small_table"));
    EXPECT_EQ(e.failure(), PluginLoadFailure::table_too_small);
    const std::string needed = std::to_string(offsetof(sdw_plugin_api, component_run) + sizeof(void *));
    const std::string given = std::to_string(3 * sizeof(uint32_t) + sizeof(void *));
    EXPECT_EQ(std::string(e.what()), "plugin function table too small (struct_size " + given +
                                         ", ABI v1.0 needs at least " + needed + "): " +
                                         broken("small_table"));
}

TEST(PluginLoader, NullRequiredFunctionsAreNamed) {
    const PluginLoadError e = load_failure(broken("null_function"));
    EXPECT_EQ(e.failure(), PluginLoadFailure::function_missing);
    EXPECT_EQ(std::string(e.what()),
              "plugin function table lacks required function(s) describe, component_run: " +
                  broken("null_function"));
}

TEST(PluginLoader, RunFailureWithoutMessageIsAPluginBug) {
    auto library = PluginLibrary::load(broken("run_silent"));
    PluginContext context = PluginContext::create(library);
    LoadedComponent component = context.load_component("noop", "{}", {});
    plugin::OwnedTensor out("out", SDW_DTYPE_F32, {2});
    sdw_tensor_view out_view = out.view();
    try {
        component.run({}, {&out_view, 1});
        FAIL() << "run did not fail";
    } catch (const PluginCallError &e) {
        EXPECT_TRUE(e.plugin_bug());
        EXPECT_EQ(e.status(), SDW_STATUS_INTERNAL);
        EXPECT_EQ(e.plugin_message(), "");
        EXPECT_EQ(std::string(e.what()),
                  "plugin bug: component_run(noop) returned INTERNAL without a message: " +
                      broken("run_silent"));
    }
}

TEST(PluginLoader, FindsPluginByNameAndDescribesIt) {
    auto library = PluginLibrary::load("test-arith", {"/nonexistent", SDW_PLUGIN_DIR});
    EXPECT_EQ(library->path(), std::filesystem::path(SDW_PLUGIN_DIR) / "libsdw_test_arith.so");
    EXPECT_EQ(library->info().name, "test-arith");
    EXPECT_EQ(library->info().version, "1.0.0");
    EXPECT_EQ(library->info().abi_major, SDW_ABI_VERSION_MAJOR);
    EXPECT_TRUE(library->has_prepare());
    // The target name works too.
    EXPECT_EQ(PluginLibrary::load("sdw_test_arith", {SDW_PLUGIN_DIR}).get(), library.get());
}

TEST(PluginLoader, SameFileIsInitialisedOnce) {
    const std::string path = std::string(SDW_PLUGIN_DIR) + "/libsdw_test_arith.so";
    auto first = PluginLibrary::load(path);
    auto second = PluginLibrary::load(std::string(SDW_PLUGIN_DIR) + "/../plugins/libsdw_test_arith.so");
    EXPECT_EQ(first.get(), second.get());
}

TEST(PluginLoader, ContextCreateRefusalCarriesStatusAndMessage) {
    auto library = PluginLibrary::load(std::string(SDW_PLUGIN_DIR) + "/libsdw_test_arith.so");
    try {
        PluginContext::create(library, "{\"delay_ms\": 1, \"bogus\": true}");
        FAIL() << "context_create accepted an unknown option";
    } catch (const PluginCallError &e) {
        EXPECT_EQ(e.status(), SDW_STATUS_INVALID_ARGUMENT);
        EXPECT_FALSE(e.plugin_bug());
        EXPECT_EQ(std::string(e.what()),
                  "context_create failed (INVALID_ARGUMENT): test-arith: unknown option 'bogus' "
                  "(known: delay_ms, fail_on_step, max_decode_batch, device, without)");
    }
}

TEST(HostApi, LogGoesToTheSettableLogger) {
    std::vector<std::string> lines;
    set_plugin_logger([&](sdw_log_level level, std::string_view message) {
        lines.push_back(std::string(log_level_name(level)) + " " + std::string(message));
    });
    host_api()->log(SDW_LOG_WARN, "device is slow");
    set_plugin_logger({});
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "WARN device is slow");
}

TEST(HostApi, LogByDefaultGoesToTheWorkersLogAtItsLevel) {
    const LogLevel configured = log_level();
    set_log_level(LogLevel::warn);
    ::testing::internal::CaptureStderr();
    host_api()->log(SDW_LOG_INFO, "below the level");
    host_api()->log(SDW_LOG_ERROR, "device lost");
    const std::string written = ::testing::internal::GetCapturedStderr();
    set_log_level(configured);
    EXPECT_EQ(written.find("below the level"), std::string::npos) << written;
    // The worker's own format: "<UTC time>Z [error] plugin: device lost".
    EXPECT_NE(written.find("Z [error] plugin: device lost\n"), std::string::npos) << written;
}

TEST(HostApi, ErrorSetCopiesTheMessage) {
    sdw_error err;
    {
        std::string transient = "temporary text";
        host_api()->error_set(&err, transient.c_str());
        transient.assign("overwritten!!!");
    }
    EXPECT_EQ(err.take(), "temporary text");
    EXPECT_EQ(host_api()->abi_major, static_cast<uint32_t>(SDW_ABI_VERSION_MAJOR));
    EXPECT_EQ(host_api()->struct_size, sizeof(sdw_host_api));
}

}  // namespace
}  // namespace sdw
