// The real sd-worker process (test-arith plugin, tiny-sd fixture) reporting to the
// loopback receiver as its orchestrator: what the orchestrator hears when the worker
// is told to stop (SIGTERM) while its heartbeat is backing off after failed posts.
#include "heartbeat_receiver.h"
#include "http_test_client.h"
#include "worker_process.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <unistd.h>

namespace sdw {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using test::HeartbeatReceiver;
using test::http_request;
using test::ReceivedPost;
using test::WorkerProcess;
using Clock = std::chrono::steady_clock;
using Posts = std::vector<ReceivedPost>;
namespace fs = std::filesystem;

struct WorkerHeartbeatTest : ::testing::Test {
    fs::path config_dir;
    void SetUp() override {
        ASSERT_TRUE(fs::exists(std::string(SDW_BINARY_DIR) + "/sd-worker"));
        ASSERT_TRUE(fs::exists(std::string(SDW_PLUGIN_DIR) + "/libsdw_test_arith.so"));
        config_dir = fs::temp_directory_path() / ("sdw-heartbeat-config-" + std::to_string(::getpid()));
        fs::create_directories(config_dir);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(config_dir, ec);
    }

    fs::path write_config(uint16_t receiver_port, double grace_s) const {
        json config{{"listen", {{"host", "127.0.0.1"}, {"port", 0}}},
                    {"plugin", {{"name", "test-arith"}, {"search_paths", {SDW_PLUGIN_DIR}}}},
                    {"model", {{"path", std::string(SDW_TEST_FIXTURES) + "/models/tiny-sd"}}},
                    {"worker", {{"id", "hb-process"}}},
                    {"orchestrator",
                     {{"callback_url", "http://127.0.0.1:" + std::to_string(receiver_port) + "/workers/beat"},
                      {"heartbeat_interval_s", 60}}},
                    {"drain", {{"grace_s", grace_s}}},
                    // Its long job is the largest the fields allow, over the default limit.
                    {"limits", {{"max_pixel_steps", int64_t{2048} * 2048 * 8 * 150}}},
                    {"log", {{"level", "debug"}}}};
        fs::path path = config_dir / "config.json";
        std::ofstream(path) << config.dump(2);
        return path;
    }
};

std::string job_state(uint16_t port, const std::string &id) {
    const json status = http_request(port, "GET", "/v1/jobs/" + id, "", {}, 5s).json();
    return status.is_object() && status.contains("state") ? status["state"].get<std::string>() : "";
}

std::string submit(uint16_t port, const json &body) {
    const json answer = http_request(port, "POST", "/v1/jobs", body.dump(), {}, 5s).json();
    return answer.is_object() && answer.contains("job_id") ? answer["job_id"].get<std::string>() : "";
}

bool wait_for_state(uint16_t port, const std::string &id, const std::string &state, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        if (job_state(port, id) == state) return true;
        std::this_thread::sleep_for(5ms);
    }
    return false;
}

TEST_F(WorkerHeartbeatTest, SigtermIsHeardPromptlyAfterTheOrchestratorCameBackThenStoppedBeforeExit) {
    HeartbeatReceiver receiver;
    WorkerProcess worker({"--config", write_config(receiver.port(), 3.0).string()});
    const uint16_t port = worker.wait_for_port();
    ASSERT_TRUE(port && worker.wait_ready(port)) << worker.log();
    // Registered, then "ready".
    ASSERT_TRUE(receiver.wait_for([](const Posts &posts) { return !posts.empty() && posts.back().body["state"] == "ready"; },
                                  10s))
        << worker.log();
    EXPECT_EQ(receiver.posts().front().body["event"], "register");

    // The orchestrator fails: every state change (each small job is busy, then ready)
    // is refused, and the retries back off (0.5 s doubling).
    receiver.set_mode(HeartbeatReceiver::Mode::answer_500);
    const size_t answered = receiver.requests_seen();
    const json small{{"prompt", "x"}, {"steps", 2}, {"width", 64}, {"height", 64}};
    const auto failing_until = Clock::now() + 20s;
    while (receiver.requests_seen() < answered + 4 && Clock::now() < failing_until) {
        const std::string id = submit(port, small);
        ASSERT_FALSE(id.empty()) << worker.log();
        ASSERT_TRUE(wait_for_state(port, id, "completed", 10s)) << worker.log();
        std::this_thread::sleep_for(20ms);
    }
    // A job that outlasts the grace period keeps the worker draining for 3 s.
    const json big{{"prompt", "x"}, {"steps", 150}, {"num_images", 8}, {"width", 2048}, {"height", 2048}};
    const std::string running = submit(port, big);
    ASSERT_TRUE(wait_for_state(port, running, "running", 10s)) << worker.log();
    const size_t failed = receiver.requests_seen() - answered;
    // At least 4 failures behind it: the next retry is at least 4 s away.
    ASSERT_GE(failed, 4u) << worker.log();

    // The orchestrator is back; the worker is told to stop.
    receiver.set_mode(HeartbeatReceiver::Mode::answer_ok);
    const size_t before = receiver.posts().size();
    const auto signalled = Clock::now();
    worker.signal(SIGTERM);
    // (A "busy" beat still in flight when the mode changed may be answered first.)
    auto draining_at = [before](const Posts &posts) {
        for (size_t i = before; i < posts.size(); ++i)
            if (posts[i].body["state"] == "draining") return i;
        return posts.size();
    };
    ASSERT_TRUE(receiver.wait_for([&](const Posts &posts) { return draining_at(posts) < posts.size(); }, 10s))
        << worker.log();
    const Posts so_far = receiver.posts();
    const ReceivedPost draining = so_far[draining_at(so_far)];
    EXPECT_EQ(draining.body["event"], "heartbeat");
    EXPECT_EQ(draining.body["worker_id"], "hb-process");
    // At once, not when the backoff is over (and well within the 3 s grace period).
    EXPECT_LT(draining.at - signalled, 1500ms) << worker.log();

    // The grace period ends, the job is cancelled, the worker says it has stopped and exits.
    EXPECT_EQ(worker.wait_exit(30s), 0) << worker.log();
    const Posts posts = receiver.posts();
    ASSERT_GT(posts.size(), before + 1) << worker.log();
    const json &last = posts.back().body;
    EXPECT_EQ(last["event"], "stopped");
    EXPECT_EQ(last["state"], "stopped");
    EXPECT_GT(last["sequence"].get<int>(), draining.body["sequence"].get<int>());
    EXPECT_EQ(job_state(port, running), "");  // the server is gone
}

TEST_F(WorkerHeartbeatTest, StoppedReachesAnOrchestratorThatComesBackAsTheWorkerStops) {
    HeartbeatReceiver receiver;
    receiver.close();  // down from the start: registering fails and backs off
    WorkerProcess worker({"--config", write_config(receiver.port(), 0.5).string()});
    const uint16_t port = worker.wait_for_port();
    ASSERT_TRUE(port && worker.wait_ready(port)) << worker.log();
    std::this_thread::sleep_for(1600ms);  // register refused at 0, 0.5 s and 1.5 s (and "ready")
    worker.signal(SIGTERM);
    // No job to wait for: the drain is over at once, and the "draining" beat is refused.
    // The orchestrator is back 300 ms later, within the 1 s the final message is given.
    std::this_thread::sleep_for(300ms);
    receiver.reopen();
    EXPECT_EQ(worker.wait_exit(30s), 0) << worker.log();
    const Posts posts = receiver.posts();
    ASSERT_FALSE(posts.empty()) << worker.log();
    EXPECT_EQ(posts.back().body["event"], "stopped") << worker.log();
    EXPECT_EQ(posts.back().body["state"], "stopped");
    EXPECT_EQ(posts.back().body["worker_id"], "hb-process");
}

}  // namespace
}  // namespace sdw
