// sd-worker: serves Stable Diffusion generations over HTTP from a backend plugin.
//
// Start-up order matters to an orchestrator: the HTTP server listens first (/health
// 200, /ready 503 "loading"), then the model loads, then /ready turns 200. A model
// that cannot be loaded is logged with its one-line reason and the process exits 1.
// SIGTERM/SIGINT drain (see server/http_server.h) and the process exits 0.
#include "config/http_url.h"
#include "config/load_config.h"
#include "heartbeat/heartbeat_client.h"
#include "jobs/job_queue.h"
#include "pipeline/generator_factory.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "log/log.h"
#include "server/service_state.h"
#include "server/version.h"

#include <boost/asio/ip/address.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <thread>

namespace {

using namespace sdw;

bool is_loopback_address(const std::string &host) {
    if (host == "localhost") return true;
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(host, ec);
    return !ec && address.is_loopback();
}

std::chrono::milliseconds seconds_to_ms(double seconds) {
    return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

ServerOptions server_options(const Config &config, std::shared_ptr<Metrics> metrics) {
    ServerOptions options;
    options.host = config.listen.host;
    options.port = static_cast<uint16_t>(config.listen.port);
    options.body_limit = static_cast<size_t>(config.http.body_limit_bytes);
    options.request_timeout = seconds_to_ms(config.http.read_timeout_s);
    options.idle_timeout = seconds_to_ms(config.http.keepalive_s);
    options.drain_grace = seconds_to_ms(config.drain.grace_s);
    options.api.api_keys = config.auth.api_keys;
    options.api.server_version = std::string(server_version());
    options.api.limits.max_pixel_steps = config.limits.max_pixel_steps;
    options.connections.max_total = static_cast<size_t>(config.http.max_connections);
    options.connections.max_per_address = static_cast<size_t>(config.http.max_connections_per_address);
    options.api.cors_origins = config.http.cors_origins;
    options.api.allowed_hosts = config.http.allowed_hosts;
    if (is_loopback_address(config.listen.host) || !options.api.allowed_hosts.empty()) {
        // Bound to loopback only local clients can reach it, so only local names may be in
        // their Host; a configured list keeps the local names too (health probes use them).
        const std::vector<std::string> loopback = ApiHandler::loopback_host_names();
        options.api.allowed_hosts.insert(options.api.allowed_hosts.end(), loopback.begin(), loopback.end());
    }
    options.api.metrics = std::move(metrics);
    options.api.metrics_public = config.metrics.public_access;
    return options;
}

JobQueueOptions queue_options(const Config &config, std::shared_ptr<Metrics> metrics) {
    JobQueueOptions options;
    options.metrics = std::move(metrics);
    options.capacity = static_cast<size_t>(config.queue.capacity);
    options.retention = seconds_to_ms(config.results.retention_s);
    options.max_retained = static_cast<size_t>(config.results.max_jobs);
    options.max_retained_bytes = static_cast<size_t>(config.results.max_bytes);
    options.output_dir = config.output.dir;
    return options;
}

// One model instance per queue worker: a Generator runs one job at a time.
std::vector<std::shared_ptr<Generator>> load_generators(const Config &config) {
    GeneratorConfig generator_config;
    generator_config.plugin = config.plugin.name;
    generator_config.plugin_options_json = config.plugin.options.dump();
    for (const auto &dir : config.plugin.search_paths)
        generator_config.plugin_search_dirs.emplace_back(dir);
    generator_config.model_path = config.model.path;
    generator_config.tokenizers_dir = config.model.tokenizers;
    generator_config.prediction_type = config.model.prediction_type;
    std::vector<std::shared_ptr<Generator>> generators;
    for (int i = 0; i < config.queue.workers; ++i)
        generators.push_back(make_generator(generator_config));
    return generators;
}

WorkerState worker_state(ServicePhase phase, const QueueStats &stats) {
    switch (phase) {
    case ServicePhase::loading: return WorkerState::loading;
    case ServicePhase::draining: return WorkerState::draining;
    case ServicePhase::failed: return WorkerState::stopped;
    case ServicePhase::ready: break;
    }
    return stats.running > 0 ? WorkerState::busy : WorkerState::ready;
}

std::unique_ptr<HeartbeatClient> make_heartbeat(const Config &config, JobQueue &queue,
                                                ServiceState &state) {
    if (config.orchestrator.callback_url.empty()) return nullptr;
    std::string why;
    auto url = parse_http_url(config.orchestrator.callback_url, &why);
    if (!url) throw std::runtime_error("orchestrator.callback_url: " + why);
    HeartbeatOptions options;
    options.url = *url;
    options.worker_id = config.worker.id;
    options.interval_s = config.orchestrator.heartbeat_interval_s;
    auto snapshot = [&queue, &state] {
        HeartbeatSnapshot s;
        QueueStats stats = queue.stats();
        s.queue_length = static_cast<int>(stats.queued);
        s.capacity = static_cast<int>(stats.capacity);
        for (const auto &job : queue.running_jobs()) {
            JobSnapshot js = job->snapshot();
            s.running_jobs.push_back({job->id(), js.step, js.total});
        }
        if (auto model = state.model()) {  // cached copies: no plugin call on this thread
            s.plugin = model->backend.plugin_name;
            s.device = model->backend.device;
            s.model = model->name;
            s.plugin_abi = model->backend.abi_version;
            if (const auto &memory = model->backend.memory)
                s.plugin_memory = HeartbeatMemory{memory->weights_bytes, memory->plans_bytes,
                                                  memory->cache_bytes};
        }
        return s;
    };
    return std::make_unique<HeartbeatClient>(std::move(options), snapshot);
}

int run(const Config &config) {
    set_log_level(parse_log_level(config.log.level).value_or(LogLevel::info));
    if (!config.output.dir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(config.output.dir, ec);
        if (ec) {
            log_error("output.dir " + config.output.dir + ": " + ec.message());
            return 1;
        }
    }

    auto metrics = std::make_shared<Metrics>();  // one registry: the queue's and the server's series
    JobQueue queue(queue_options(config, metrics));
    ServiceState state;
    HttpServer server(server_options(config, metrics), queue, state);
    std::unique_ptr<HeartbeatClient> heartbeat;
    try {
        server.start();
        heartbeat = make_heartbeat(config, queue, state);
    } catch (const std::exception &e) {
        log_error(e.what());
        return 1;
    }
    server.handle_signals();
    if (heartbeat) {
        // Every change of the queue's figures is a beat. The drain reaches the heartbeat
        // this way too: HttpServer::begin_drain sets the phase to draining and then has the
        // queue cancel its queued jobs, which notifies (tests/heartbeat/worker_heartbeat_test).
        queue.set_observer([&heartbeat, &state](const QueueStats &stats) {
            heartbeat->notify(worker_state(state.phase(), stats));
        });
        heartbeat->start(WorkerState::loading);
    }

    // The model loads on its own thread so that a signal during a long load still
    // stops the worker promptly.
    log_info("loading model " + config.model.path + " on plugin " + config.plugin.name);
    auto started = std::chrono::steady_clock::now();
    auto loading = std::async(std::launch::async, [&config] { return load_generators(config); });
    while (loading.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
        if (server.draining()) {
            log_info("stopped while the model was loading");
            server.wait();
            if (heartbeat) heartbeat->stop();
            std::fflush(nullptr);
            std::_Exit(0);  // the loader may be inside a plugin call that cannot be interrupted
        }
    }
    std::vector<std::shared_ptr<Generator>> generators;
    try {
        generators = loading.get();
    } catch (const std::exception &e) {
        log_error(std::string("cannot load the model: ") + e.what());
        state.set_failed(e.what());
        server.stop();
        if (heartbeat) heartbeat->stop();
        return 1;
    }
    ModelDescription model = generators.front()->describe();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    log_info("ready: model " + model.name + " on " + model.backend.plugin_name + " " +
             model.backend.plugin_version + " (" + model.backend.device + ") after " +
             std::to_string(seconds) + " s");
    // The state reads the generators' cached memory reports for /v1/info and heartbeats.
    state.set_ready(std::move(model), std::vector<std::shared_ptr<const Generator>>(
                                          generators.begin(), generators.end()));
    queue.start(std::move(generators));  // notifies the heartbeat observer

    server.wait();
    queue.shutdown();
    if (heartbeat) heartbeat->stop();
    log_info("stopped");
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    sdw::LoadedConfig loaded = sdw::load_config(argc, argv);
    if (loaded.should_exit()) {
        (loaded.exit_code == 0 ? std::cout : std::cerr) << loaded.message;
        if (!loaded.message.empty() && loaded.message.back() != '\n')
            (loaded.exit_code == 0 ? std::cout : std::cerr) << '\n';
        return loaded.exit_code;
    }
    try {
        return run(*loaded.config);
    } catch (const std::exception &e) {
        sdw::log_error(e.what());
        return 1;
    }
}
