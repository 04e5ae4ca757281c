/* One deliberately broken plugin per BROKEN_* definition, each breaking the
 * contract in exactly one way so a loader test can check that refusal. Written
 * in C against plugin_api.h alone, as a careless third party might. Without any
 * BROKEN_* it is a working no-op plugin whose only component ("noop") writes
 * zeros. */
#include <sdw/plugin_api.h>

#include <string.h>

static const sdw_host_api *g_host;
static int g_context_storage;
static int g_component_storage;

static sdw_status describe(sdw_plugin_info *info, sdw_error *err) {
    (void)err;
    info->name = "broken";
    info->version = "0.0.1";
    info->device = "nothing";
    info->supports_f16 = 0;
    return SDW_STATUS_OK;
}

static sdw_status context_create(const char *options_json, sdw_context **out, sdw_error *err) {
    (void)options_json;
    (void)err;
    *out = (sdw_context *)&g_context_storage;
    return SDW_STATUS_OK;
}

static void context_destroy(sdw_context *ctx) { (void)ctx; }

static sdw_status component_load(sdw_context *ctx, const sdw_component_desc *desc,
                                 sdw_component **out, sdw_error *err) {
    (void)ctx;
    (void)desc;
    (void)err;
    *out = (sdw_component *)&g_component_storage;
    return SDW_STATUS_OK;
}

static void component_destroy(sdw_component *component) { (void)component; }

static sdw_status component_run(sdw_component *component, const sdw_run_args *args,
                                sdw_error *err) {
    (void)component;
#if defined(BROKEN_RUN_SILENT)
    (void)args;
    (void)err;
    return SDW_STATUS_INTERNAL; /* the bug: no host->error_set before failing */
#else
    for (uint64_t i = 0; i < args->output_count; ++i) {
        memset(args->outputs[i].data, 0, (size_t)args->outputs[i].byte_size);
    }
    (void)err;
    return SDW_STATUS_OK;
#endif
}

static sdw_plugin_api g_api = {
    sizeof(sdw_plugin_api), SDW_ABI_VERSION_MAJOR, SDW_ABI_VERSION_MINOR,
    describe, context_create, context_destroy, component_load, component_destroy,
    NULL, component_run, NULL, NULL};

#if defined(BROKEN_PROBE_REFUSES)
SDW_PLUGIN_EXPORT sdw_status sdw_plugin_probe(const sdw_host_api *host, sdw_error *err) {
    host->error_set(err, "no frobnicator device found (/dev/frob0 missing)");
    return SDW_STATUS_UNSUPPORTED;
}
#endif

#if defined(BROKEN_NO_ENTRY)
/* Exports a misspelt entry point instead of sdw_plugin_init. */
SDW_PLUGIN_EXPORT sdw_status sdw_plugin_initialize(const sdw_host_api *host,
                                                   const sdw_plugin_api **out, sdw_error *err) {
#else
SDW_PLUGIN_EXPORT sdw_status sdw_plugin_init(const sdw_host_api *host,
                                             const sdw_plugin_api **out, sdw_error *err) {
#endif
    g_host = host;
    (void)err;
#if defined(BROKEN_INIT_MESSAGE) || defined(BROKEN_INIT_SILENT)
    (void)out;
    (void)g_api;
#endif
#if defined(BROKEN_INIT_MESSAGE)
    g_host->error_set(err, "license file /etc/frob.lic is missing");
    return SDW_STATUS_DEVICE_ERROR;
#elif defined(BROKEN_INIT_SILENT)
    return SDW_STATUS_INTERNAL; /* the bug: no host->error_set before failing */
#else
#if defined(BROKEN_WRONG_MAJOR)
    g_api.abi_major = SDW_ABI_VERSION_MAJOR + 1;
    g_api.abi_minor = 0;
#elif defined(BROKEN_MINOR_TOO_NEW)
    g_api.abi_minor = SDW_ABI_VERSION_MINOR + 5;
#elif defined(BROKEN_SMALL_TABLE)
    g_api.struct_size = (uint32_t)(sizeof(uint32_t) * 3 + sizeof(void *));
#elif defined(BROKEN_NULL_FUNCTION)
    g_api.component_run = NULL;
    g_api.describe = NULL;
#endif
    *out = &g_api;
    return SDW_STATUS_OK;
#endif
}
