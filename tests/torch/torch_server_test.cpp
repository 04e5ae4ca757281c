// The real sd-worker on the torch plugin: a job whose memory does not fit the plugin's
// cap fails with OUT_OF_MEMORY and the reason, and the worker goes on serving.
#include "../server/worker_process.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace {

using json = nlohmann::json;
using sdw::test::http_request;
using sdw::test::WorkerProcess;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// The finished job's status (polled; at most `timeout`).
json wait_finished(uint16_t port, const std::string &id, std::chrono::seconds timeout = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    json status;
    while (std::chrono::steady_clock::now() < deadline) {
        status = http_request(port, "GET", "/v1/jobs/" + id).json();
        const std::string state = status.value("state", "");
        if (state == "completed" || state == "failed" || state == "cancelled") break;
        std::this_thread::sleep_for(20ms);
    }
    return status;
}

TEST(TorchServer, AJobOverTheMemoryCapFailsWithOutOfMemoryAndTheWorkerGoesOn) {
    const fs::path dir = fs::temp_directory_path() / ("sdw-torch-server-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    // sd-shapes holds 75.1 MiB of float32 weights in torch: a 76 MiB cap leaves room for
    // the plans of 128x128 jobs, not for a 1024x1024 batch of four.
    const json config{{"listen", {{"host", "127.0.0.1"}, {"port", 0}}},
                      {"plugin", {{"name", "torch"}, {"search_paths", {SDW_PLUGIN_DIR}},
                                  {"options", {{"device", "cpu"}, {"max_memory_mb", 76}}}}},
                      {"model", {{"path", SDW_DEFAULT_MODEL}}}};
    std::ofstream(dir / "config.json") << config.dump();
    WorkerProcess worker({"--config", (dir / "config.json").string()});
    const uint16_t port = worker.wait_for_port();
    ASSERT_NE(port, 0) << worker.log();
    ASSERT_TRUE(worker.wait_ready(port, 60s)) << worker.log();

    auto submit = [&](const json &request) {
        auto accepted = http_request(port, "POST", "/v1/jobs", request.dump());
        EXPECT_EQ(accepted.status, 202) << accepted.body;
        return accepted.json().value("job_id", "");
    };
    const json big = wait_finished(
        port, submit({{"prompt", "a red circle"}, {"width", 1024}, {"height", 1024}, {"num_images", 4}, {"steps", 2}}));
    EXPECT_EQ(big["state"], "failed") << big.dump();
    const std::string message = big["error"].value("message", "");
    EXPECT_NE(message.find("OUT_OF_MEMORY"), std::string::npos) << message;
    EXPECT_NE(message.find("max_memory_mb of 76 MiB"), std::string::npos) << message;

    const json small = wait_finished(port, submit({{"prompt", "a red circle"}, {"steps", 4}, {"seed", 1}}));
    EXPECT_EQ(small["state"], "completed") << small.dump();
    EXPECT_EQ(http_request(port, "GET", "/ready").status, 200);

    worker.signal(SIGTERM);
    EXPECT_EQ(worker.wait_exit(), 0) << worker.log();
    std::error_code ec;
    fs::remove_all(dir, ec);
}

}  // namespace
