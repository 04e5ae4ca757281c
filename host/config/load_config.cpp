#include "config/load_config.h"

#include "config/config_error.h"
#include "config/config_json.h"

#include <boost/program_options.hpp>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sdw {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;
using nlohmann::json;

constexpr const char *kDefaultConfigFile = "config/default.json";

// How a flag's text becomes the JSON value the config reader validates, so that a flag
// and a file key share one set of rules and messages.
enum class FlagKind { string, integer, number, string_list, json_object };

struct Flag {
    const char *name;
    const char *key_path;  // dotted
    FlagKind kind;
    const char *value_name;
    const char *help;
};

const Flag kFlags[] = {
    {"host", "listen.host", FlagKind::string, "ADDRESS", "address to listen on (listen.host)"},
    {"port", "listen.port", FlagKind::integer, "PORT", "TCP port to listen on, 0 = any free port (listen.port)"},
    {"plugin", "plugin.name", FlagKind::string, "NAME|PATH", "backend plugin name (e.g. cpu-blas) or .so path (plugin.name)"},
    {"plugin-options", "plugin.options", FlagKind::json_object, "JSON", "JSON object passed to the plugin (plugin.options)"},
    {"plugin-search-path", "plugin.search_paths", FlagKind::string_list, "DIR",
     "directory searched for plugins by name; repeatable (plugin.search_paths)"},
    {"model", "model.path", FlagKind::string, "PATH",
     "model: a diffusers folder or a single-file .safetensors checkpoint (model.path)"},
    {"prediction-type", "model.prediction_type", FlagKind::string, "TYPE",
     "epsilon or v_prediction, for a single-file checkpoint that does not say (model.prediction_type)"},
    {"worker-id", "worker.id", FlagKind::string, "ID", "worker id reported to the orchestrator (worker.id)"},
    {"callback-url", "orchestrator.callback_url", FlagKind::string, "URL",
     "orchestrator heartbeat URL, http://host[:port]/path (orchestrator.callback_url)"},
    {"heartbeat-interval", "orchestrator.heartbeat_interval_s", FlagKind::number, "SECONDS",
     "seconds between heartbeats (orchestrator.heartbeat_interval_s)"},
    {"queue-capacity", "queue.capacity", FlagKind::integer, "N", "jobs that may wait in the queue (queue.capacity)"},
    {"queue-workers", "queue.workers", FlagKind::integer, "N", "jobs generated concurrently (queue.workers)"},
    {"api-key", "auth.api_keys", FlagKind::string_list, "KEY",
     "accepted API key; repeatable, replaces the file's list (auth.api_keys)"},
    {"cors-origin", "http.cors_origins", FlagKind::string_list, "ORIGIN",
     "origin whose pages may call the API (CORS), or \"*\"; repeatable (http.cors_origins)"},
    {"allowed-host", "http.allowed_hosts", FlagKind::string_list, "HOST",
     "host name the Host header may carry; repeatable (http.allowed_hosts)"},
    {"output-dir", "output.dir", FlagKind::string, "DIR", "also save result PNGs here (output.dir)"},
    {"log-level", "log.level", FlagKind::string, "LEVEL", "debug, info, warn or error (log.level)"},
};

// `{"a": {"b": value}}` for key path "a.b".
json nest(const std::string &key_path, json value) {
    const size_t dot = key_path.find('.');
    return json{{key_path.substr(0, dot), dot == std::string::npos ? std::move(value) : nest(key_path.substr(dot + 1), std::move(value))}};
}

// Text that does not parse as the expected kind is passed on as a JSON string, so the
// reader rejects it with the usual "expected ..., got "abc"" message.
json flag_value(const Flag &flag, const po::variable_value &raw) {
    if (flag.kind == FlagKind::string_list) return raw.as<std::vector<std::string>>();
    const std::string &text = raw.as<std::string>();
    switch (flag.kind) {
    case FlagKind::integer: {
        int64_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec == std::errc() && end == text.data() + text.size()) return value;
        return text;
    }
    case FlagKind::number: {
        char *end = nullptr;
        errno = 0;
        const double value = std::strtod(text.c_str(), &end);
        if (!text.empty() && end == text.c_str() + text.size() && errno == 0) return value;
        return text;
    }
    case FlagKind::json_object: {
        json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
        return parsed.is_discarded() ? json(text) : parsed;
    }
    default: return text;
    }
}

std::string read_text_file(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path.string(), "", std::string("cannot read the file: ") + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw ConfigError(path.string(), "", "error while reading the file");
    return text.str();
}

std::string absolute_path(const std::string &text) {
    if (text.empty()) return text;
    std::error_code ec;
    const fs::path absolute = fs::absolute(fs::path(text), ec);
    return ec ? text : absolute.lexically_normal().string();
}

bool looks_like_path(const std::string &text) {
    return text.find('/') != std::string::npos ||
           (text.size() > 3 && text.compare(text.size() - 3, 3, ".so") == 0);
}

// Built-in defaults and flags are relative to the current directory; make every path
// absolute so the effective config is unambiguous wherever it is printed or used.
void make_paths_absolute(Config &config) {
    config.model.path = absolute_path(config.model.path);
    config.model.tokenizers = absolute_path(config.model.tokenizers);
    if (looks_like_path(config.plugin.name)) config.plugin.name = absolute_path(config.plugin.name);
    for (auto &dir : config.plugin.search_paths) dir = absolute_path(dir);
    config.output.dir = absolute_path(config.output.dir);
}

std::string host_name() {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "sd-worker";
    return name;
}

po::options_description describe_options() {
    po::options_description general("Options");
    general.add_options()
        ("help,h", "print this help and exit")
        ("config,c", po::value<std::string>()->value_name("FILE"),
         "JSON config file (default: config/default.json if it exists, else built-in defaults)")
        ("print-config", "print the effective configuration as JSON and exit");
    po::options_description overrides("Overrides (each replaces the config key in parentheses)");
    for (const Flag &flag : kFlags) {
        if (flag.kind == FlagKind::string_list)
            overrides.add_options()(flag.name, po::value<std::vector<std::string>>()->value_name(flag.value_name), flag.help);
        else
            overrides.add_options()(flag.name, po::value<std::string>()->value_name(flag.value_name), flag.help);
    }
    po::options_description all;
    all.add(general).add(overrides);
    return all;
}

std::string help_text(const po::options_description &options) {
    std::ostringstream out;
    out << "Usage: sd-worker [--config FILE] [options]\n\n"
           "Stable Diffusion inference worker: an HTTP API in front of a backend plugin.\n"
           "Settings come from the config file, then from the flags below. Relative paths\n"
           "in a config file are relative to that file's directory; on the command line,\n"
           "to the current directory. See config/README.md for every key.\n\n"
        << options;
    return out.str();
}

LoadedConfig exit_with(int code, std::string message) {
    LoadedConfig result;
    result.exit_code = code;
    result.message = std::move(message);
    if (!result.message.empty() && result.message.back() != '\n') result.message += '\n';
    return result;
}

}  // namespace

LoadedConfig load_config(const std::vector<std::string> &args) {
    const po::options_description options = describe_options();
    po::variables_map flags;
    try {
        // No abbreviations: "--mod" must not silently mean "--model".
        const auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
        // Stray words are collected into a hidden option, to be named in the error.
        po::options_description with_stray = options;
        with_stray.add_options()("stray-argument", po::value<std::vector<std::string>>());
        po::positional_options_description positionals;
        positionals.add("stray-argument", -1);
        po::store(po::command_line_parser(args).options(with_stray).positional(positionals).style(style).run(),
                  flags);
        po::notify(flags);
        if (flags.count("stray-argument"))
            return exit_with(kConfigExitCode, "sd-worker: unexpected argument '" +
                                                  flags["stray-argument"].as<std::vector<std::string>>().front() +
                                                  "'\nTry 'sd-worker --help'.");
    } catch (const po::error &e) {
        return exit_with(kConfigExitCode, std::string("sd-worker: ") + e.what() + "\nTry 'sd-worker --help'.");
    }
    if (flags.count("help")) return exit_with(0, help_text(options));

    Config config;
    try {
        std::optional<fs::path> file;
        if (flags.count("config")) {
            file = flags["config"].as<std::string>();
            std::error_code ec;
            if (!fs::is_regular_file(*file, ec))
                throw ConfigError("--config", "", "no such config file: " + file->string());
        } else if (std::error_code ec; fs::is_regular_file(kDefaultConfigFile, ec)) {
            file = kDefaultConfigFile;
        }
        if (file) merge_config_text(config, read_text_file(*file), file->string(), file->parent_path().empty() ? fs::path(".") : file->parent_path());

        for (const Flag &flag : kFlags) {
            if (!flags.count(flag.name)) continue;
            merge_config_json(config, nest(flag.key_path, flag_value(flag, flags[flag.name])),
                              std::string("--") + flag.name, fs::path());
        }
    } catch (const ConfigError &e) {
        return exit_with(kConfigExitCode, e.what());
    }

    make_paths_absolute(config);
    if (config.worker.id.empty()) config.worker.id = host_name() + ":" + std::to_string(config.listen.port);

    if (flags.count("print-config")) return exit_with(0, config_to_json(config).dump(2));
    LoadedConfig result;
    result.config = std::move(config);
    return result;
}

LoadedConfig load_config(int argc, const char *const *argv) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
    return load_config(args);
}

}  // namespace sdw
