#include "config/config_json.h"

#include "config/config_error.h"
#include "config/http_url.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace sdw {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string describe(const json &value) {
    if (value.is_object()) return "an object";
    if (value.is_array()) return "an array";
    std::string text = value.dump();
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    return text;
}

std::string join(const std::vector<std::string> &items) {
    std::string out;
    for (const auto &item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

// Same rule as the plugin loader: a '/' or a ".so" suffix makes it a file, not a name.
bool looks_like_path(const std::string &text) {
    return text.find('/') != std::string::npos ||
           (text.size() > 3 && text.compare(text.size() - 3, 3, ".so") == 0);
}

class Reader {
public:
    Reader(const std::string &source, const fs::path &base_dir) : source_(source), base_dir_(base_dir) {}

    [[noreturn]] void fail(const std::string &key, const std::string &problem) const {
        throw ConfigError(source_, key, problem);
    }

    // Checks that `value` is an object whose keys are all in `known`.
    void expect_object(const json &value, const std::string &key, const std::vector<std::string> &known) const {
        if (!value.is_object()) fail(key, "expected an object, got " + describe(value));
        for (const auto &[name, _] : value.items()) {
            if (std::find(known.begin(), known.end(), name) == known.end())
                fail(key.empty() ? name : key + "." + name, "unknown key (known keys here: " + join(known) + ")");
        }
    }

    int64_t integer(const json &value, const std::string &key, int64_t min, int64_t max,
                    const std::string &expectation) const {
        bool ok = value.is_number_integer();
        int64_t result = 0;
        if (ok && value.is_number_unsigned()) {
            const auto u = value.get<uint64_t>();
            ok = u <= uint64_t(std::numeric_limits<int64_t>::max());
            result = ok ? int64_t(u) : 0;
        } else if (ok) {
            result = value.get<int64_t>();
        }
        if (!ok || result < min || result > max) fail(key, "expected " + expectation + ", got " + describe(value));
        return result;
    }

    int positive_int(const json &value, const std::string &key, int max = std::numeric_limits<int>::max()) const {
        return int(integer(value, key, 1, max,
                           max == std::numeric_limits<int>::max()
                               ? std::string("a positive integer")
                               : "an integer in 1.." + std::to_string(max)));
    }

    double number(const json &value, const std::string &key, bool allow_zero, double max) const {
        const std::string expectation = allow_zero ? "a number >= 0" : "a number > 0";
        if (!value.is_number()) fail(key, "expected " + expectation + ", got " + describe(value));
        const double result = value.get<double>();
        if (!(allow_zero ? result >= 0 : result > 0)) fail(key, "expected " + expectation + ", got " + describe(value));
        if (result > max) fail(key, "expected at most " + json(max).dump() + ", got " + describe(value));
        return result;
    }

    std::string string(const json &value, const std::string &key, bool allow_empty) const {
        if (!value.is_string() || (!allow_empty && value.get_ref<const std::string &>().empty()))
            fail(key, std::string("expected ") + (allow_empty ? "a string" : "a non-empty string") + ", got " +
                          describe(value));
        return value.get<std::string>();
    }

    std::vector<std::string> string_list(const json &value, const std::string &key) const {
        if (!value.is_array()) fail(key, "expected an array of strings, got " + describe(value));
        std::vector<std::string> out;
        for (size_t i = 0; i < value.size(); ++i)
            out.push_back(string(value[i], key + "[" + std::to_string(i) + "]", false));
        return out;
    }

    // Relative to the config file's directory; left relative (to the CWD) without one.
    std::string path(const std::string &text) const {
        fs::path p(text);
        if (text.empty() || p.is_absolute() || base_dir_.empty()) return text;
        return (base_dir_ / p).lexically_normal().string();
    }

private:
    const std::string &source_;
    const fs::path &base_dir_;
};

constexpr double kDay = 86400.0;

void read_listen(Config::Listen &out, const json &v, const Reader &r) {
    r.expect_object(v, "listen", {"host", "port"});
    if (v.contains("host")) out.host = r.string(v["host"], "listen.host", false);
    if (v.contains("port")) out.port = int(r.integer(v["port"], "listen.port", 0, 65535, "an integer in 0..65535"));
}

void read_plugin(Config::Plugin &out, const json &v, const Reader &r) {
    r.expect_object(v, "plugin", {"name", "options", "search_paths"});
    if (v.contains("name")) {
        out.name = r.string(v["name"], "plugin.name", false);
        if (looks_like_path(out.name)) out.name = r.path(out.name);
    }
    if (v.contains("options")) {
        if (!v["options"].is_object()) r.fail("plugin.options", "expected an object, got " + describe(v["options"]));
        out.options = v["options"];
    }
    if (v.contains("search_paths")) {
        out.search_paths = r.string_list(v["search_paths"], "plugin.search_paths");
        for (auto &dir : out.search_paths) dir = r.path(dir);
    }
}

void read_model(Config::Model &out, const json &v, const Reader &r) {
    r.expect_object(v, "model", {"path", "tokenizers", "prediction_type"});
    if (v.contains("path")) out.path = r.path(r.string(v["path"], "model.path", false));
    if (v.contains("tokenizers")) out.tokenizers = r.path(r.string(v["tokenizers"], "model.tokenizers", false));
    if (v.contains("prediction_type")) {
        out.prediction_type = r.string(v["prediction_type"], "model.prediction_type", true);
        if (!out.prediction_type.empty() && out.prediction_type != "epsilon" && out.prediction_type != "v_prediction")
            r.fail("model.prediction_type", "expected \"epsilon\" or \"v_prediction\", got \"" + out.prediction_type + "\"");
    }
}

void read_worker(Config::Worker &out, const json &v, const Reader &r) {
    r.expect_object(v, "worker", {"id"});
    if (v.contains("id")) out.id = r.string(v["id"], "worker.id", true);
}

void read_orchestrator(Config::Orchestrator &out, const json &v, const Reader &r) {
    r.expect_object(v, "orchestrator", {"callback_url", "heartbeat_interval_s"});
    if (v.contains("callback_url")) {
        out.callback_url = r.string(v["callback_url"], "orchestrator.callback_url", true);
        std::string why;
        if (!out.callback_url.empty() && !parse_http_url(out.callback_url, &why))
            r.fail("orchestrator.callback_url", why);
    }
    if (v.contains("heartbeat_interval_s"))
        out.heartbeat_interval_s = r.number(v["heartbeat_interval_s"], "orchestrator.heartbeat_interval_s", false, kDay);
}

void read_queue(Config::Queue &out, const json &v, const Reader &r) {
    r.expect_object(v, "queue", {"capacity", "workers"});
    if (v.contains("capacity")) out.capacity = r.positive_int(v["capacity"], "queue.capacity");
    if (v.contains("workers")) out.workers = r.positive_int(v["workers"], "queue.workers", 256);
}

void read_results(Config::Results &out, const json &v, const Reader &r) {
    r.expect_object(v, "results", {"retention_s", "max_jobs", "max_bytes"});
    if (v.contains("max_bytes"))
        out.max_bytes = r.integer(v["max_bytes"], "results.max_bytes", 1, std::numeric_limits<int64_t>::max(),
                                  "a positive integer");
    if (v.contains("retention_s")) out.retention_s = r.number(v["retention_s"], "results.retention_s", true, 365 * kDay);
    if (v.contains("max_jobs")) out.max_jobs = r.positive_int(v["max_jobs"], "results.max_jobs");
}

void read_limits(Config::Limits &out, const json &v, const Reader &r) {
    r.expect_object(v, "limits", {"max_pixel_steps"});
    if (v.contains("max_pixel_steps"))
        out.max_pixel_steps = r.integer(v["max_pixel_steps"], "limits.max_pixel_steps", 1,
                                        std::numeric_limits<int64_t>::max(), "a positive integer");
}

void read_auth(Config::Auth &out, const json &v, const Reader &r) {
    r.expect_object(v, "auth", {"api_keys"});
    if (v.contains("api_keys")) out.api_keys = r.string_list(v["api_keys"], "auth.api_keys");
}

void read_output(Config::Output &out, const json &v, const Reader &r) {
    r.expect_object(v, "output", {"dir"});
    if (v.contains("dir")) out.dir = r.path(r.string(v["dir"], "output.dir", true));
}

void read_log(Config::Log &out, const json &v, const Reader &r) {
    r.expect_object(v, "log", {"level"});
    if (v.contains("level")) {
        const json &level = v["level"];
        const auto known = std::begin(kLogLevels), known_end = std::end(kLogLevels);
        if (!level.is_string() || std::find(known, known_end, level.get_ref<const std::string &>()) == known_end)
            r.fail("log.level", "expected one of debug, info, warn, error, got " + describe(level));
        out.level = level.get<std::string>();
    }
}

// "*", or an origin as browsers send it: http(s)://host[:port], no path, no trailing slash.
bool valid_cors_origin(const std::string &origin, std::string *why) {
    if (origin == "*") return true;
    const bool http = origin.rfind("http://", 0) == 0, https = origin.rfind("https://", 0) == 0;
    const std::string authority = origin.substr(http ? 7 : https ? 8 : 0);
    if ((!http && !https) || authority.empty() || authority.find_first_of("/?# ") != std::string::npos) {
        *why = "expected \"*\" or an origin such as http://example.com:8080 (scheme, host and "
               "optional port, no path), got \"" + origin + "\"";
        return false;
    }
    return true;
}

void read_http(Config::Http &out, const json &v, const Reader &r) {
    r.expect_object(v, "http", {"body_limit_bytes", "read_timeout_s", "keepalive_s", "cors_origins", "allowed_hosts",
                                "max_connections", "max_connections_per_address"});
    if (v.contains("max_connections"))
        out.max_connections = r.integer(v["max_connections"], "http.max_connections", 1, 1000000, "an integer in 1..1000000");
    if (v.contains("max_connections_per_address"))
        out.max_connections_per_address = r.integer(v["max_connections_per_address"], "http.max_connections_per_address",
                                                    1, 1000000, "an integer in 1..1000000");
    if (v.contains("body_limit_bytes"))
        out.body_limit_bytes = r.integer(v["body_limit_bytes"], "http.body_limit_bytes", 1,
                                         std::numeric_limits<int64_t>::max(), "a positive integer");
    if (v.contains("read_timeout_s")) out.read_timeout_s = r.number(v["read_timeout_s"], "http.read_timeout_s", false, kDay);
    if (v.contains("keepalive_s")) out.keepalive_s = r.number(v["keepalive_s"], "http.keepalive_s", false, kDay);
    if (v.contains("cors_origins")) {
        out.cors_origins = r.string_list(v["cors_origins"], "http.cors_origins");
        for (size_t i = 0; i < out.cors_origins.size(); ++i) {
            std::string why;
            if (!valid_cors_origin(out.cors_origins[i], &why))
                r.fail("http.cors_origins[" + std::to_string(i) + "]", why);
        }
    }
    if (v.contains("allowed_hosts")) {
        out.allowed_hosts = r.string_list(v["allowed_hosts"], "http.allowed_hosts");
        for (size_t i = 0; i < out.allowed_hosts.size(); ++i) {
            const std::string &host = out.allowed_hosts[i];
            if (host.empty() || host.find_first_of(":/?# ") != std::string::npos)
                r.fail("http.allowed_hosts[" + std::to_string(i) + "]",
                       "expected a host name such as sd.example.com (no scheme, port or path), got \"" + host + "\"");
        }
    }
}

void read_metrics(Config::Metrics &out, const json &v, const Reader &r) {
    r.expect_object(v, "metrics", {"public"});
    if (v.contains("public")) {
        if (!v["public"].is_boolean()) r.fail("metrics.public", "expected true or false, got " + describe(v["public"]));
        out.public_access = v["public"].get<bool>();
    }
}

void read_drain(Config::Drain &out, const json &v, const Reader &r) {
    r.expect_object(v, "drain", {"grace_s"});
    if (v.contains("grace_s")) out.grace_s = r.number(v["grace_s"], "drain.grace_s", true, kDay);
}

}  // namespace

void merge_config_json(Config &config, const json &document, const std::string &source, const fs::path &base_dir) {
    const Reader reader(source, base_dir);
    reader.expect_object(document, "", {"listen", "plugin", "model", "worker", "orchestrator", "queue", "results",
                                        "limits", "auth", "output", "log", "http", "metrics", "drain"});
    // Merge into a copy so a failure leaves `config` untouched.
    Config merged = config;
    if (document.contains("listen")) read_listen(merged.listen, document["listen"], reader);
    if (document.contains("plugin")) read_plugin(merged.plugin, document["plugin"], reader);
    if (document.contains("model")) read_model(merged.model, document["model"], reader);
    if (document.contains("worker")) read_worker(merged.worker, document["worker"], reader);
    if (document.contains("orchestrator")) read_orchestrator(merged.orchestrator, document["orchestrator"], reader);
    if (document.contains("queue")) read_queue(merged.queue, document["queue"], reader);
    if (document.contains("results")) read_results(merged.results, document["results"], reader);
    if (document.contains("limits")) read_limits(merged.limits, document["limits"], reader);
    if (document.contains("auth")) read_auth(merged.auth, document["auth"], reader);
    if (document.contains("output")) read_output(merged.output, document["output"], reader);
    if (document.contains("log")) read_log(merged.log, document["log"], reader);
    if (document.contains("http")) read_http(merged.http, document["http"], reader);
    if (document.contains("metrics")) read_metrics(merged.metrics, document["metrics"], reader);
    if (document.contains("drain")) read_drain(merged.drain, document["drain"], reader);
    config = std::move(merged);
}

void merge_config_text(Config &config, std::string_view text, const std::string &source, const fs::path &base_dir) {
    json document;
    try {
        document = json::parse(text.begin(), text.end(), nullptr, true, /*ignore_comments=*/true);
    } catch (const json::out_of_range &e) {
        // A number beyond a double ("1e400"): nlohmann refuses it as out_of_range, not as a
        // parse_error; either way the file is not usable JSON.
        throw ConfigError(source, "", "invalid JSON: a number is beyond the range of a double");
    } catch (const json::parse_error &e) {
        // Drop nlohmann's "[json.exception.parse_error.101] " prefix; keep line and column.
        std::string what = e.what();
        if (const auto bracket = what.find("] "); what.rfind("[json.exception", 0) == 0 && bracket != std::string::npos)
            what = what.substr(bracket + 2);
        throw ConfigError(source, "", "invalid JSON: " + what);
    }
    merge_config_json(config, document, source, base_dir);
}

json config_to_json(const Config &c) {
    return json{
        {"listen", {{"host", c.listen.host}, {"port", c.listen.port}}},
        {"plugin", {{"name", c.plugin.name}, {"options", c.plugin.options}, {"search_paths", c.plugin.search_paths}}},
        {"model", {{"path", c.model.path}, {"tokenizers", c.model.tokenizers}, {"prediction_type", c.model.prediction_type}}},
        {"worker", {{"id", c.worker.id}}},
        {"orchestrator",
         {{"callback_url", c.orchestrator.callback_url}, {"heartbeat_interval_s", c.orchestrator.heartbeat_interval_s}}},
        {"queue", {{"capacity", c.queue.capacity}, {"workers", c.queue.workers}}},
        {"results", {{"retention_s", c.results.retention_s}, {"max_jobs", c.results.max_jobs}, {"max_bytes", c.results.max_bytes}}},
        {"limits", {{"max_pixel_steps", c.limits.max_pixel_steps}}},
        {"auth", {{"api_keys", c.auth.api_keys}}},
        {"output", {{"dir", c.output.dir}}},
        {"log", {{"level", c.log.level}}},
        {"http",
         {{"body_limit_bytes", c.http.body_limit_bytes},
          {"read_timeout_s", c.http.read_timeout_s},
          {"keepalive_s", c.http.keepalive_s},
          {"cors_origins", c.http.cors_origins},
          {"allowed_hosts", c.http.allowed_hosts},
          {"max_connections", c.http.max_connections},
          {"max_connections_per_address", c.http.max_connections_per_address}}},
        {"metrics", {{"public", c.metrics.public_access}}},
        {"drain", {{"grace_s", c.drain.grace_s}}},
    };
}

}  // namespace sdw
