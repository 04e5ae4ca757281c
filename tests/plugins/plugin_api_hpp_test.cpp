// plugin_api.hpp in isolation: exception-to-status conversion at the boundary,
// the version check in the generated sdw_plugin_init, and the tensor helpers.
#include "plugin/host_api.h"
#include "plugin/host_error.h"

#include <sdw/plugin_api.hpp>

#include <gtest/gtest.h>

#include <new>

namespace sp = sdw::plugin;

namespace {

struct NeedsMinorThree {
    static constexpr uint32_t min_host_abi_minor = 3;
    static sp::Info describe() { return {"needs-3", "1", "none", false}; }
    static std::unique_ptr<sp::Context> create_context(const std::string &) { throw std::bad_alloc(); }
};

struct Refusing {
    static void probe() { throw sp::Error(SDW_STATUS_UNSUPPORTED, "no device"); }
    static sp::Info describe() { return {"refusing", "1", "none", false}; }
    static std::unique_ptr<sp::Context> create_context(const std::string &) { throw 42; }
};

// A context that overrides neither describe() nor memory().
class PlainContext final : public sp::Context {
public:
    std::unique_ptr<sp::Component> load_component(const sp::ComponentDesc &) override {
        throw sp::Error(SDW_STATUS_UNSUPPORTED, "no components");
    }
};

class ReportingContext final : public sp::Context {
public:
    std::unique_ptr<sp::Component> load_component(const sp::ComponentDesc &) override {
        throw sp::Error(SDW_STATUS_UNSUPPORTED, "no components");
    }
    std::string describe() const override { return "GPU " + std::to_string(++calls_); }
    sp::MemoryReport memory() const override { return {1, 2, 3}; }

private:
    mutable int calls_ = 0;
};

template <typename ContextType>
struct WithContext {
    static constexpr uint32_t min_host_abi_minor = 0;
    static sp::Info describe() { return {"with-context", "1", "plugin-wide", false}; }
    static std::unique_ptr<sp::Context> create_context(const std::string &) {
        return std::make_unique<ContextType>();
    }
};

sdw_host_api host_with(uint32_t major, uint32_t minor) {
    sdw_host_api host = *sdw::host_api();
    host.abi_major = major;
    host.abi_minor = minor;
    return host;
}

TEST(PluginApiHpp, GuardMapsExceptionsToStatuses) {
    const sdw_host_api host = host_with(SDW_ABI_VERSION_MAJOR, SDW_ABI_VERSION_MINOR);
    const sdw_plugin_api *api = nullptr;
    sdw_error init_err;
    ASSERT_EQ(sp::Adapter<Refusing>::init(&host, &api, &init_err), SDW_STATUS_OK);

    sdw_error a, b, c, d;
    EXPECT_EQ(sp::guard(&a, [] { throw sp::Error(SDW_STATUS_UNSUPPORTED, "nope"); }),
              SDW_STATUS_UNSUPPORTED);
    EXPECT_EQ(a.take(), "nope");
    EXPECT_EQ(sp::guard(&b, [] { throw std::bad_alloc(); }), SDW_STATUS_OUT_OF_MEMORY);
    EXPECT_EQ(b.take(), "out of memory");
    EXPECT_EQ(sp::guard(&c, [] { throw std::logic_error("broken invariant"); }), SDW_STATUS_INTERNAL);
    EXPECT_EQ(c.take(), "broken invariant");
    EXPECT_EQ(sp::guard(&d, [] { throw 7; }), SDW_STATUS_INTERNAL);
    EXPECT_EQ(d.take(), "unknown exception in plugin");

    sdw_context *ctx = nullptr;
    sdw_error e;
    EXPECT_EQ(api->context_create("{}", &ctx, &e), SDW_STATUS_INTERNAL);
    EXPECT_EQ(ctx, nullptr);
    sdw_error p;
    EXPECT_EQ(sp::Adapter<Refusing>::probe(&host, &p), SDW_STATUS_UNSUPPORTED);
    EXPECT_EQ(p.take(), "no device");
}

TEST(PluginApiHpp, InitRefusesOtherMajorAndOlderMinorNamingBoth) {
    const sdw_plugin_api *api = nullptr;
    sdw_host_api host = host_with(SDW_ABI_VERSION_MAJOR + 1, 9);
    sdw_error major_err;
    EXPECT_EQ(sp::Adapter<NeedsMinorThree>::init(&host, &api, &major_err), SDW_STATUS_VERSION_MISMATCH);
    EXPECT_EQ(major_err.take(), "plugin was built for plugin ABI v1.1 and needs a host with v1.3 or "
                                "a later minor of the same major; this host offers v2.9");
    host = host_with(SDW_ABI_VERSION_MAJOR, 2);
    sdw_error minor_err;
    EXPECT_EQ(sp::Adapter<NeedsMinorThree>::init(&host, &api, &minor_err), SDW_STATUS_VERSION_MISMATCH);
    EXPECT_NE(minor_err.take().find("this host offers v1.2"), std::string::npos);
    host = host_with(SDW_ABI_VERSION_MAJOR, 3);
    sdw_error ok_err;
    ASSERT_EQ(sp::Adapter<NeedsMinorThree>::init(&host, &api, &ok_err), SDW_STATUS_OK);
    EXPECT_EQ(api->abi_minor, 3u);  // the table states what the plugin needs
    EXPECT_EQ(api->struct_size, sizeof(sdw_plugin_api));

    sdw_context *ctx = nullptr;
    sdw_error oom;
    EXPECT_EQ(api->context_create("{}", &ctx, &oom), SDW_STATUS_OUT_OF_MEMORY);
    sdw_plugin_info info{};
    info.struct_size = sizeof(info);
    sdw_error describe_err;
    ASSERT_EQ(api->describe(&info, &describe_err), SDW_STATUS_OK);
    EXPECT_STREQ(info.name, "needs-3");
}

TEST(PluginApiHpp, ContextDescribeAndMemoryDefaultToPluginWideAndUnsupported) {
    // min_host_abi_minor 0: loads on a 1.0 host, and its table still carries the 1.1 functions.
    const sdw_host_api host = host_with(SDW_ABI_VERSION_MAJOR, 0);
    const sdw_plugin_api *api = nullptr;
    sdw_error init_err;
    ASSERT_EQ(sp::Adapter<WithContext<PlainContext>>::init(&host, &api, &init_err), SDW_STATUS_OK);
    EXPECT_EQ(api->abi_minor, 0u);
    EXPECT_EQ(api->struct_size, sizeof(sdw_plugin_api));
    ASSERT_NE(api->context_describe, nullptr);
    ASSERT_NE(api->context_memory, nullptr);

    sdw_context *ctx = nullptr;
    sdw_error create_err;
    ASSERT_EQ(api->context_create("{}", &ctx, &create_err), SDW_STATUS_OK);
    sdw_context_info info{};
    info.struct_size = sizeof(info);
    info.device = "stale";
    sdw_error describe_err;
    EXPECT_EQ(api->context_describe(ctx, &info, &describe_err), SDW_STATUS_OK);
    EXPECT_EQ(info.device, nullptr);  // the plugin-wide device applies

    sdw_memory_report report{};
    report.struct_size = sizeof(report);
    sdw_error memory_err;
    EXPECT_EQ(api->context_memory(ctx, &report, &memory_err), SDW_STATUS_UNSUPPORTED);
    EXPECT_EQ(memory_err.take(), "this plugin does not report its context's memory");

    report.struct_size = offsetof(sdw_memory_report, cache_bytes);  // a writer that knew less
    sdw_error small_err;
    EXPECT_EQ(api->context_memory(ctx, &report, &small_err), SDW_STATUS_INVALID_ARGUMENT);
    EXPECT_EQ(small_err.take(), "context_memory: sdw_memory_report too small");
    sdw_error null_err;
    EXPECT_EQ(api->context_describe(ctx, nullptr, &null_err), SDW_STATUS_INVALID_ARGUMENT);
    EXPECT_EQ(null_err.take(), "context_describe: NULL argument");
    api->context_destroy(ctx);
}

TEST(PluginApiHpp, ContextDescribeKeepsItsStringUntilTheNextCall) {
    const sdw_host_api host = host_with(SDW_ABI_VERSION_MAJOR, SDW_ABI_VERSION_MINOR);
    const sdw_plugin_api *api = nullptr;
    sdw_error init_err;
    ASSERT_EQ(sp::Adapter<WithContext<ReportingContext>>::init(&host, &api, &init_err),
              SDW_STATUS_OK);
    sdw_context *ctx = nullptr;
    sdw_error create_err;
    ASSERT_EQ(api->context_create("{}", &ctx, &create_err), SDW_STATUS_OK);
    sdw_context_info info{};
    info.struct_size = sizeof(info);
    sdw_error err;
    ASSERT_EQ(api->context_describe(ctx, &info, &err), SDW_STATUS_OK);
    EXPECT_STREQ(info.device, "GPU 1");
    sdw_memory_report report{};
    report.struct_size = sizeof(report);
    ASSERT_EQ(api->context_memory(ctx, &report, &err), SDW_STATUS_OK);
    EXPECT_STREQ(info.device, "GPU 1");  // still valid after another kind of call
    EXPECT_EQ(report.weights_bytes, 1u);
    EXPECT_EQ(report.plans_bytes, 2u);
    EXPECT_EQ(report.cache_bytes, 3u);
    ASSERT_EQ(api->context_describe(ctx, &info, &err), SDW_STATUS_OK);
    EXPECT_STREQ(info.device, "GPU 2");
    api->context_destroy(ctx);
}

TEST(PluginApiHpp, EnumFieldsAreThirtyTwoBits) {
    EXPECT_EQ(sizeof(sdw_status), 4u);
    EXPECT_EQ(sizeof(sdw_dtype), 4u);
    EXPECT_EQ(sizeof(sdw_log_level), 4u);
    EXPECT_STREQ(sp::status_name(SDW_STATUS_FORCE_32BIT), "UNKNOWN_STATUS");
    EXPECT_STREQ(sp::dtype_name(SDW_DTYPE_FORCE_32BIT), "UNKNOWN_DTYPE");
    EXPECT_EQ(sdw_dtype_size(SDW_DTYPE_FORCE_32BIT), 0u);
}

TEST(PluginApiHpp, ShapeAndDtypeChecksExplainThemselves) {
    float data[6] = {};
    sdw_tensor_view view{};
    view.struct_size = sizeof(view);
    view.name = "sample";
    view.dtype = SDW_DTYPE_F32;
    view.ndim = 2;
    view.shape[0] = 2;
    view.shape[1] = 3;
    view.data = data;
    view.byte_size = sizeof(data);
    EXPECT_NO_THROW(sp::expect_shape(view, {sp::any_dim, 3}));
    try {
        sp::expect_shape(view, {2, 4});
        FAIL();
    } catch (const sp::Error &e) {
        EXPECT_EQ(e.status(), SDW_STATUS_INVALID_ARGUMENT);
        EXPECT_STREQ(e.what(), "tensor 'sample' has shape [2, 3], expected [2, 4]");
    }
    try {
        sp::expect_dtype(view, SDW_DTYPE_I32);
        FAIL();
    } catch (const sp::Error &e) {
        EXPECT_STREQ(e.what(), "tensor 'sample' has dtype F32, expected I32");
    }
    view.byte_size = 8;
    try {
        sp::expect_shape(view, {2, 3});
        FAIL();
    } catch (const sp::Error &e) {
        EXPECT_STREQ(e.what(), "tensor 'sample' has byte_size 8 but shape [2, 3] of F32 needs 24");
    }
}

}  // namespace
