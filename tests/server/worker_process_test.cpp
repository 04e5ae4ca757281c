// The real sd-worker executable with the deterministic test plugin (test-arith) on
// the tiny-sd fixture model: start-up, a job end to end, auth, cancellation, drain on
// SIGTERM, and the exit codes of a failed load and of --print-config.
#include "http_test_client.h"
#include "worker_process.h"

#include "image/base64.h"
#include "image/png.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sdw {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using test::http_request;
using test::read_sse;
using test::read_file;
using test::WorkerProcess;
namespace fs = std::filesystem;

const std::string kKey = "process-test-key";
const test::Headers kAuth = {{"Authorization", "Bearer " + kKey}};

fs::path write_config(const fs::path &dir, const json &overrides = json::object()) {
    json config{{"listen", {{"host", "127.0.0.1"}, {"port", 0}}},
                {"plugin", {{"name", "test-arith"}, {"search_paths", {SDW_PLUGIN_DIR}}}},
                {"model", {{"path", std::string(SDW_TEST_FIXTURES) + "/models/tiny-sd"}}},
                {"queue", {{"capacity", 2}}},
                // The jobs that must run for seconds on the test plugin are the largest the
                // API's fields allow (2048x2048 x 8 x 150), over the default limit.
                {"limits", {{"max_pixel_steps", int64_t{2048} * 2048 * 8 * 150}}},
                {"auth", {{"api_keys", {kKey}}}},
                {"drain", {{"grace_s", 0.5}}},
                {"log", {{"level", "debug"}}}};
    config.merge_patch(overrides);
    fs::path path = dir / "config.json";
    std::ofstream(path) << config.dump(2);
    return path;
}

struct WorkerProcessTest : ::testing::Test {
    fs::path config_dir;
    void SetUp() override {
        ASSERT_TRUE(fs::exists(std::string(SDW_BINARY_DIR) + "/sd-worker"));
        ASSERT_TRUE(fs::exists(std::string(SDW_PLUGIN_DIR) + "/libsdw_test_arith.so"));
        config_dir = fs::temp_directory_path() / ("sdw-worker-config-" + std::to_string(::getpid()));
        fs::create_directories(config_dir);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(config_dir, ec);
    }
};

TEST_F(WorkerProcessTest, ServesAJobEndToEndWithTheTestPlugin) {
    WorkerProcess worker({"--config", write_config(config_dir).string()});
    uint16_t port = worker.wait_for_port();
    ASSERT_NE(port, 0) << worker.log();
    ASSERT_TRUE(worker.wait_ready(port)) << worker.log();

    EXPECT_EQ(http_request(port, "GET", "/health").status, 200);
    auto anonymous = http_request(port, "POST", "/v1/jobs", R"({"prompt":"a cat"})");
    EXPECT_EQ(anonymous.status, 401);
    EXPECT_EQ(anonymous.json()["error"]["code"], "unauthorized");

    auto info = http_request(port, "GET", "/v1/info", "", kAuth);
    ASSERT_EQ(info.status, 200);
    EXPECT_EQ(info.json()["plugin"]["name"], "test-arith");
    EXPECT_EQ(info.json()["plugin"]["abi"], "1.1");
    EXPECT_EQ(info.json()["model"]["name"], "tiny-sd");
    // test-arith's context_memory: every weight it was given, no plan, no unet call yet.
    const json loaded = info.json()["plugin"]["memory"];
    ASSERT_TRUE(loaded.is_object()) << info.body;
    EXPECT_GT(loaded["weights_bytes"].get<uint64_t>(), 0u);
    EXPECT_EQ(loaded["plans_bytes"], 0);
    EXPECT_EQ(loaded["cache_bytes"], 0);

    auto accepted = http_request(port, "POST", "/v1/jobs",
                                 json{{"prompt", "a red circle"}, {"steps", 4}, {"seed", 42},
                                      {"scheduler", "euler_a"}, {"num_images", 2}}.dump(),
                                 kAuth);
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    std::string id = accepted.json()["job_id"];
    auto stream = read_sse(port, "/v1/jobs/" + id + "/stream?api_key=" + kKey);
    ASSERT_EQ(stream.status, 200) << stream.error;
    ASSERT_GE(stream.events.size(), 3u) << stream.raw;
    EXPECT_EQ(stream.events.front().event, "queued");
    EXPECT_EQ(stream.events[stream.events.size() - 2].event, "completed") << stream.raw;
    EXPECT_EQ(stream.events.back().data, "[DONE]");
    size_t progress = 0;
    for (const auto &event : stream.events) progress += event.event == "progress";
    EXPECT_EQ(progress, 4u);

    auto status = http_request(port, "GET", "/v1/jobs/" + id, "", kAuth).json();
    EXPECT_EQ(status["state"], "completed");
    ASSERT_EQ(status["images"].size(), 2u);
    // The worker refreshed the report after the job: the unet was prepared and called.
    const json ran = http_request(port, "GET", "/v1/info", "", kAuth).json()["plugin"]["memory"];
    ASSERT_TRUE(ran.is_object());
    EXPECT_EQ(ran["weights_bytes"], loaded["weights_bytes"]);
    EXPECT_GE(ran["plans_bytes"].get<uint64_t>(), 4096u);
    EXPECT_GE(ran["cache_bytes"].get<uint64_t>(), 4u);  // one byte per unet call, 4 steps
    auto image = http_request(port, "GET", status["images"][1]["url"], "", kAuth);
    ASSERT_EQ(image.status, 200);
    EXPECT_EQ(image.header("content-type"), "image/png");
    auto bytes = reinterpret_cast<const uint8_t *>(image.body.data());
    Image decoded = decode_png(bytes, image.body.size());
    EXPECT_EQ(decoded.width, 64);
    EXPECT_EQ(decoded.height, 64);
    auto text = read_png_text(bytes, image.body.size());
    EXPECT_NE(text["parameters"].find("Sampler: euler_a"), std::string::npos) << text["parameters"];
    EXPECT_NE(text["parameters"].find("Model: tiny-sd"), std::string::npos);

    worker.signal(SIGTERM);
    EXPECT_EQ(worker.wait_exit(), 0) << worker.log();
}

TEST_F(WorkerProcessTest, AnAbiV1_0PluginServesWithoutAMemoryReport) {
    const std::string plugin = std::string(SDW_PLUGIN_DIR) + "/libsdw_test_arith_v1_0.so";
    WorkerProcess worker(
        {"--config",
         write_config(config_dir, {{"plugin", {{"name", plugin},
                                               {"options", {{"device", "unread by the host"}}}}}})
             .string()});
    uint16_t port = worker.wait_for_port();
    ASSERT_TRUE(port && worker.wait_ready(port)) << worker.log();
    auto info = http_request(port, "GET", "/v1/info", "", kAuth).json();
    EXPECT_EQ(info["plugin"]["abi"], "1.0");
    ASSERT_TRUE(info["plugin"].contains("memory"));
    EXPECT_TRUE(info["plugin"]["memory"].is_null());
    EXPECT_EQ(info["plugin"]["device"], "CPU (deterministic arithmetic for tests)");

    auto accepted = http_request(port, "POST", "/v1/jobs",
                                 json{{"prompt", "a cat"}, {"steps", 2}}.dump(), kAuth);
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    std::string id = accepted.json()["job_id"];
    auto stream = read_sse(port, "/v1/jobs/" + id + "/stream?api_key=" + kKey);
    ASSERT_GE(stream.events.size(), 2u) << stream.raw;
    EXPECT_EQ(stream.events[stream.events.size() - 2].event, "completed") << stream.raw;
    EXPECT_TRUE(http_request(port, "GET", "/v1/info", "", kAuth).json()["plugin"]["memory"].is_null());

    worker.signal(SIGTERM);
    EXPECT_EQ(worker.wait_exit(), 0) << worker.log();
}

TEST_F(WorkerProcessTest, APluginWithoutAVaeEncoderServesTxt2ImgOnly) {
    WorkerProcess worker(
        {"--config", write_config(config_dir, {{"plugin", {{"options", {{"without", {"vae_encoder"}}}}}}})
                         .string()});
    uint16_t port = worker.wait_for_port();
    ASSERT_TRUE(port && worker.wait_ready(port)) << worker.log();
    auto info = http_request(port, "GET", "/v1/info", "", kAuth).json();
    EXPECT_EQ(info["operations"], json::array({"txt2img"}));

    Image image{64, 64, 3, std::vector<uint8_t>(64 * 64 * 3, 100)};
    std::string png = base64_encode(encode_png(image));
    for (const char *operation : {"img2img", "inpaint"}) {
        json body{{"prompt", "a cat"}, {"operation", operation}, {"init_image", png}, {"steps", 2}};
        if (std::string(operation) == "inpaint") body["mask"] = png;
        auto refused = http_request(port, "POST", "/v1/jobs", body.dump(), kAuth);
        EXPECT_EQ(refused.status, 400) << refused.body;
        EXPECT_EQ(refused.json()["error"]["field"], "operation") << refused.body;
    }
    auto accepted = http_request(port, "POST", "/v1/jobs", json{{"prompt", "a cat"}, {"steps", 2}}.dump(), kAuth);
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    auto stream = read_sse(port, "/v1/jobs/" + accepted.json()["job_id"].get<std::string>() + "/stream?api_key=" + kKey);
    ASSERT_GE(stream.events.size(), 2u) << stream.raw;
    EXPECT_EQ(stream.events[stream.events.size() - 2].event, "completed") << stream.raw;
    worker.signal(SIGTERM);
    EXPECT_EQ(worker.wait_exit(), 0) << worker.log();
}

TEST_F(WorkerProcessTest, CancelsARunningJob) {
    WorkerProcess worker({"--config", write_config(config_dir).string()});
    uint16_t port = worker.wait_for_port();
    ASSERT_TRUE(port && worker.wait_ready(port)) << worker.log();
    // Large enough to run for seconds on the test plugin.
    auto accepted = http_request(port, "POST", "/v1/jobs",
                                 json{{"prompt", "x"}, {"steps", 150}, {"num_images", 8},
                                      {"width", 2048}, {"height", 2048}}.dump(),
                                 kAuth);
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    std::string id = accepted.json()["job_id"];
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline &&
           http_request(port, "GET", "/v1/jobs/" + id, "", kAuth).json()["step"] < 1)
        std::this_thread::sleep_for(5ms);
    auto cancel = http_request(port, "DELETE", "/v1/jobs/" + id, "", kAuth);
    ASSERT_EQ(cancel.status, 200) << cancel.body;
    auto stream = read_sse(port, "/v1/jobs/" + id + "/stream", kAuth, 10s);
    ASSERT_GE(stream.events.size(), 2u) << stream.error;
    EXPECT_EQ(stream.events[stream.events.size() - 2].event, "cancelled") << stream.raw;
    worker.signal(SIGTERM);
    EXPECT_EQ(worker.wait_exit(), 0) << worker.log();
}

TEST_F(WorkerProcessTest, SigtermDrainsAndExitsZero) {
    WorkerProcess worker({"--config", write_config(config_dir).string()});
    uint16_t port = worker.wait_for_port();
    ASSERT_TRUE(port && worker.wait_ready(port)) << worker.log();
    json big{{"prompt", "x"}, {"steps", 150}, {"num_images", 8}, {"width", 2048}, {"height", 2048}};
    std::string running = http_request(port, "POST", "/v1/jobs", big.dump(), kAuth).json()["job_id"];
    std::string queued = http_request(port, "POST", "/v1/jobs", big.dump(), kAuth).json()["job_id"];
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline &&
           http_request(port, "GET", "/v1/jobs/" + running, "", kAuth).json()["state"] != "running")
        std::this_thread::sleep_for(5ms);
    auto stream = std::async(std::launch::async, [&] {
        return read_sse(port, "/v1/jobs/" + running + "/stream", kAuth, 15s);
    });
    std::this_thread::sleep_for(50ms);  // let the stream subscribe

    worker.signal(SIGTERM);
    // The signal is handled asynchronously; within the 0.5 s grace period the worker
    // is still up, draining.
    test::HttpResult ready;
    auto signal_deadline = std::chrono::steady_clock::now() + 2s;
    do {
        ready = http_request(port, "GET", "/ready", "", {}, 1s);
    } while (ready.status == 200 && std::chrono::steady_clock::now() < signal_deadline);
    EXPECT_EQ(ready.status, 503) << ready.error;
    EXPECT_EQ(ready.json()["status"], "draining");
    auto refused = http_request(port, "POST", "/v1/jobs", R"({"prompt":"late"})", kAuth, 2s);
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.json()["error"]["code"], "draining");
    auto queued_status = http_request(port, "GET", "/v1/jobs/" + queued, "", kAuth, 2s).json();
    EXPECT_EQ(queued_status["state"], "cancelled");

    auto events = stream.get();
    ASSERT_GE(events.events.size(), 2u) << events.error;
    auto terminal = events.events[events.events.size() - 2];
    EXPECT_EQ(terminal.event, "cancelled") << events.raw;
    EXPECT_EQ(json::parse(terminal.data)["reason"], "drain grace period expired");
    EXPECT_EQ(worker.wait_exit(), 0) << worker.log();
}

TEST_F(WorkerProcessTest, AModelThatCannotLoadExitsNonZeroWithItsReason) {
    WorkerProcess worker({"--config", write_config(config_dir).string(), "--model",
                          (config_dir / "no-such-model").string()});
    int code = worker.wait_exit();
    EXPECT_NE(code, 0);
    EXPECT_NE(code, -1) << "still running";
    std::string log = worker.log();
    EXPECT_NE(log.find("[error] cannot load the model: "), std::string::npos) << log;
    EXPECT_NE(log.find("no-such-model"), std::string::npos) << log;
}

// --model takes a single-file checkpoint as well as a folder: it loads, names the model after
// the file, and serves; a file of the wrong kind is a failed load naming the file.
TEST_F(WorkerProcessTest, TheModelFlagTakesASingleFileCheckpoint) {
    const json tokenizers = {{"model", {{"tokenizers", SDW_TOKENIZERS_DIR}}}};
    WorkerProcess worker({"--config", write_config(config_dir, tokenizers).string(), "--model",
                          std::string(SDW_TEST_FIXTURES) + "/models/tiny-ldm-sd15.safetensors"});
    uint16_t port = worker.wait_for_port();
    ASSERT_NE(port, 0) << worker.log();
    ASSERT_TRUE(worker.wait_ready(port)) << worker.log();
    EXPECT_EQ(http_request(port, "GET", "/v1/info", "", kAuth).json()["model"]["name"], "tiny-ldm-sd15");
    auto accepted = http_request(port, "POST", "/v1/jobs",
                                 json{{"prompt", "a cat"}, {"steps", 2}, {"width", 64}, {"height", 64}}.dump(), kAuth);
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    auto stream = read_sse(port, "/v1/jobs/" + accepted.json()["job_id"].get<std::string>() + "/stream?api_key=" + kKey);
    ASSERT_GE(stream.events.size(), 2u) << stream.raw;
    EXPECT_EQ(stream.events[stream.events.size() - 2].event, "completed") << stream.raw;

    const fs::path lora = config_dir / "lora.safetensors";
    std::ofstream(lora) << std::string("\x10\0\0\0\0\0\0\0{}              ", 24);
    WorkerProcess refused({"--config", write_config(config_dir, tokenizers).string(), "--model", lora.string()});
    EXPECT_EQ(refused.wait_exit(), 1) << refused.log();
    EXPECT_NE(refused.log().find("lora.safetensors: no text encoder in a known layout"), std::string::npos)
        << refused.log();
}

TEST_F(WorkerProcessTest, AnUnknownPluginExitsNonZero) {
    WorkerProcess worker({"--config", write_config(config_dir).string(), "--plugin", "no-such-plugin"});
    int code = worker.wait_exit();
    EXPECT_NE(code, 0);
    EXPECT_NE(code, -1) << "still running";
    EXPECT_NE(worker.log().find("no-such-plugin"), std::string::npos) << worker.log();
}

TEST_F(WorkerProcessTest, PrintConfigExitsZero) {
    WorkerProcess worker({"--config", write_config(config_dir).string(), "--print-config"});
    EXPECT_EQ(worker.wait_exit(), 0);
    auto printed = json::parse(worker.log(), nullptr, false);
    ASSERT_FALSE(printed.is_discarded()) << worker.log();
    EXPECT_EQ(printed["plugin"]["name"], "test-arith");
}

}  // namespace
}  // namespace sdw
