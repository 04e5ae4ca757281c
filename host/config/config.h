// The worker's effective configuration: what the config file and the command line asked
// for, validated. config/README.md documents every key; the member defaults below are
// the built-in defaults (config/default.json spells out the same values).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sdw {

struct Config {
    struct Listen {
        std::string host = "127.0.0.1";
        int port = 8080;  // 0 = any free port
        bool operator==(const Listen &) const = default;
    } listen;

    struct Plugin {
        std::string name = "cpu-blas";  // a plugin name, or a path to the shared object
        nlohmann::json options = nlohmann::json::object();  // handed to the plugin verbatim
        std::vector<std::string> search_paths;  // searched before the host's default dirs
        bool operator==(const Plugin &) const = default;
    } plugin;

    struct Model {
        std::string path = "models/sd-shapes";  // a diffusers folder or a single .safetensors file
        // The CLIP tokenizers single-file checkpoints are served with (they carry none).
        std::string tokenizers = "models/tokenizers";
        // "", "epsilon" or "v_prediction": what a single file predicts, when it cannot say.
        std::string prediction_type;
        bool operator==(const Model &) const = default;
    } model;

    struct Worker {
        std::string id;  // empty in a file: load_config derives "<hostname>:<port>"
        bool operator==(const Worker &) const = default;
    } worker;

    struct Orchestrator {
        std::string callback_url;           // empty: no heartbeat; else http://host[:port]/path
        double heartbeat_interval_s = 10.0;
        bool operator==(const Orchestrator &) const = default;
    } orchestrator;

    struct Queue {
        int capacity = 16;  // jobs waiting (not counting running ones) before 503
        int workers = 1;    // jobs generated at the same time
        bool operator==(const Queue &) const = default;
    } queue;

    struct Results {
        double retention_s = 3600.0;  // finished jobs are kept this long for GET /jobs/{id}
        int max_jobs = 256;           // and at most this many
        int64_t max_bytes = int64_t(2) << 30;  // and their images in at most this much memory
        bool operator==(const Results &) const = default;
    } results;

    struct Limits {
        // width x height x num_images x steps one request may ask for: four 1024x1024
        // images of 50 steps (the sizes, steps and images are each bounded by the API too).
        int64_t max_pixel_steps = int64_t{1024} * 1024 * 4 * 50;
        bool operator==(const Limits &) const = default;
    } limits;

    struct Auth {
        std::vector<std::string> api_keys;  // empty: no authentication
        bool operator==(const Auth &) const = default;
    } auth;

    struct Output {
        std::string dir;  // empty: results are only returned over HTTP
        bool operator==(const Output &) const = default;
    } output;

    struct Log {
        std::string level = "info";  // debug | info | warn | error
        bool operator==(const Log &) const = default;
    } log;

    struct Http {
        // The largest legitimate request: a 2048^2 init image and mask as incompressible
        // PNGs in base64 (~34 MB), or an OpenAI edit's image and RGBA mask (~30 MB).
        int64_t body_limit_bytes = 40 * 1024 * 1024;
        double read_timeout_s = 30.0;
        double keepalive_s = 60.0;
        // Origins ("scheme://host[:port]") whose pages may call the API (CORS); "*" for
        // any origin, only when written so. Empty: same-origin pages only.
        std::vector<std::string> cors_origins;
        // Host names (no port) the Host header may name besides the loopback ones, which
        // a server bound to a loopback address accepts alone (DNS rebinding). Bound
        // elsewhere, a non-empty list is enforced too; empty: any Host.
        std::vector<std::string> allowed_hosts;
        // Open connections at most, in all and from one client address; beyond them a few
        // more are answered for /health and /ready only, the rest closed at once.
        int64_t max_connections = 512;
        int64_t max_connections_per_address = 128;
        bool operator==(const Http &) const = default;
    } http;

    struct Metrics {
        bool public_access = false;  // "public": GET /metrics without an API key
        bool operator==(const Metrics &) const = default;
    } metrics;

    struct Drain {
        double grace_s = 30.0;  // on SIGTERM: how long running jobs may finish
        bool operator==(const Drain &) const = default;
    } drain;

    bool operator==(const Config &) const = default;
};

// The four levels config accepts, in increasing severity.
inline constexpr std::string_view kLogLevels[] = {"debug", "info", "warn", "error"};

}  // namespace sdw
