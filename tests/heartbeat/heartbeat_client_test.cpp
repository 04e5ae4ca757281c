#include "heartbeat/heartbeat_client.h"
#include "heartbeat_receiver.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

namespace sdw {
namespace {

using namespace std::chrono_literals;
using test::HeartbeatReceiver;
using test::ReceivedPost;
using Clock = std::chrono::steady_clock;
using Posts = std::vector<ReceivedPost>;

struct LogCapture {
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> lines;
    std::function<void(std::string_view, const std::string &)> sink() {
        return [this](std::string_view level, const std::string &message) {
            std::lock_guard lock(mutex);
            lines.emplace_back(std::string(level), message);
        };
    }
    int count(const std::string &level, const std::string &fragment = "") {
        std::lock_guard lock(mutex);
        int n = 0;
        for (const auto &[l, m] : lines) n += l == level && m.find(fragment) != std::string::npos;
        return n;
    }
};

HeartbeatOptions options_for(const HeartbeatReceiver &receiver, double interval_s, LogCapture &log) {
    HeartbeatOptions options;
    options.url = HttpUrl{"127.0.0.1", receiver.port(), "/workers/beat"};
    options.worker_id = "worker-1";
    options.interval_s = interval_s;
    options.request_timeout_s = 2.0;
    options.initial_backoff_s = 0.02;
    options.max_backoff_s = 0.1;
    options.final_beat_timeout_s = 0.3;
    options.log = log.sink();
    return options;
}

HeartbeatSnapshot sample_snapshot() {
    HeartbeatSnapshot snapshot;
    snapshot.queue_length = 2;
    snapshot.capacity = 8;
    snapshot.running_jobs = {{"job-42", 3, 20}};
    snapshot.plugin = "cpu-blas";
    snapshot.device = "CPU (2 threads)";
    snapshot.model = "sd-shapes";
    snapshot.plugin_abi = "1.1";
    snapshot.plugin_memory = HeartbeatMemory{3000, 200, 10};
    return snapshot;
}

auto at_least(size_t n) {
    return [n](const Posts &posts) { return posts.size() >= n; };
}

void wait_until(const std::function<bool()> &done, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!done() && Clock::now() < deadline) std::this_thread::sleep_for(2ms);
}

TEST(HeartbeatMessage, CarriesTheSnapshot) {
    const auto message = heartbeat_message(HeartbeatEvent::heartbeat, "w", 7, WorkerState::busy, sample_snapshot(), 1.5);
    EXPECT_EQ(message, nlohmann::json::parse(R"js({
        "event": "heartbeat", "worker_id": "w", "sequence": 7, "state": "busy", "queue_length": 2,
        "capacity": 8, "running_jobs": [{"id": "job-42", "step": 3, "total": 20}], "plugin": "cpu-blas",
        "device": "CPU (2 threads)", "model": "sd-shapes", "uptime_s": 1.5, "plugin_abi": "1.1",
        "plugin_memory": {"weights_bytes": 3000, "plans_bytes": 200, "cache_bytes": 10}})js"));
}

TEST(HeartbeatMessage, MemoryIsNullWhenThePluginDoesNotReportIt) {
    HeartbeatSnapshot snapshot = sample_snapshot();
    snapshot.plugin_abi = "1.0";
    snapshot.plugin_memory.reset();
    const auto message = heartbeat_message(HeartbeatEvent::heartbeat, "w", 1, WorkerState::ready, snapshot, 0.0);
    EXPECT_EQ(message["plugin_abi"], "1.0");
    ASSERT_TRUE(message.contains("plugin_memory"));
    EXPECT_TRUE(message["plugin_memory"].is_null());
}

TEST(HeartbeatClient, RegistersThenBeatsEveryInterval) {
    HeartbeatReceiver receiver;
    LogCapture log;
    HeartbeatClient client(options_for(receiver, 0.05, log), sample_snapshot);
    const auto started = Clock::now();
    client.start(WorkerState::ready);
    ASSERT_TRUE(receiver.wait_for(at_least(5), 2s));
    const Posts posts = receiver.posts();
    EXPECT_EQ(posts[0].body["event"], "register");
    for (size_t i = 0; i < posts.size(); ++i) {
        const auto &body = posts[i].body;
        if (i > 0) {
            EXPECT_EQ(body["event"], "heartbeat");
        }
        EXPECT_EQ(body["sequence"], i + 1);
        EXPECT_EQ(body["worker_id"], "worker-1");
        EXPECT_EQ(body["state"], "ready");
        EXPECT_EQ(body["running_jobs"][0]["id"], "job-42");
        EXPECT_EQ(body["running_jobs"][0]["step"], 3);
        EXPECT_EQ(body["running_jobs"][0]["total"], 20);
        EXPECT_EQ(body["queue_length"], 2);
        EXPECT_EQ(body["capacity"], 8);
        EXPECT_EQ(body["plugin"], "cpu-blas");
        EXPECT_EQ(body["device"], "CPU (2 threads)");
        EXPECT_EQ(body["model"], "sd-shapes");
        EXPECT_GE(body["uptime_s"].get<double>(), 0.0);
        if (i > 0) {
            EXPECT_GE(body["uptime_s"].get<double>(), posts[i - 1].body["uptime_s"].get<double>());
            // Not sent faster than the interval.
            EXPECT_GE(posts[i].at - posts[i - 1].at, 45ms);
        }
    }
    // Register at once, not after a first interval.
    EXPECT_LT(posts[0].at - started, 500ms);
    client.stop();
    EXPECT_EQ(log.count("info", "registered"), 1);
}

TEST(HeartbeatClient, StateChangeIsSentPromptly) {
    HeartbeatReceiver receiver;
    LogCapture log;
    HeartbeatClient client(options_for(receiver, 60.0, log), sample_snapshot);
    client.start(WorkerState::loading);
    ASSERT_TRUE(receiver.wait_for(at_least(1), 2s));
    EXPECT_EQ(receiver.posts()[0].body["state"], "loading");

    for (const WorkerState state : {WorkerState::ready, WorkerState::busy, WorkerState::ready, WorkerState::draining}) {
        const size_t before = receiver.posts().size();
        const auto notified = Clock::now();
        client.notify(state);
        ASSERT_TRUE(receiver.wait_for(at_least(before + 1), 1s)) << to_string(state);
        const ReceivedPost post = receiver.posts().back();
        EXPECT_EQ(post.body["state"], to_string(state));
        EXPECT_EQ(post.body["event"], "heartbeat");
        EXPECT_LT(post.at - notified, 500ms);  // the interval is a minute
    }
    EXPECT_EQ(client.state(), WorkerState::draining);
}

TEST(HeartbeatClient, ReceiverDownThenUpRetriesWithBackoffAndRecovers) {
    HeartbeatReceiver receiver;
    receiver.close();
    LogCapture log;
    HeartbeatClient client(options_for(receiver, 0.05, log), sample_snapshot);
    client.start(WorkerState::ready);
    std::this_thread::sleep_for(500ms);
    // Backoff 20, 40, 80, 100, 100... ms: about 7 attempts in 0.5 s, not hundreds.
    EXPECT_GE(client.failures(), 3u);
    EXPECT_LE(client.failures(), 12u);
    EXPECT_EQ(client.messages_sent(), 0u);
    EXPECT_EQ(log.count("warn"), 1);  // one warning, the rest at debug level

    receiver.reopen();
    ASSERT_TRUE(receiver.wait_for(at_least(3), 2s));
    const Posts posts = receiver.posts();
    EXPECT_EQ(posts[0].body["event"], "register");  // never registered before
    EXPECT_EQ(posts[1].body["event"], "heartbeat");
    // Sequence numbers count the failed attempts too: the orchestrator can see gaps.
    EXPECT_GT(posts[0].body["sequence"].get<int>(), 1);
    EXPECT_EQ(posts[1].body["sequence"].get<int>(), posts[0].body["sequence"].get<int>() + 1);
    EXPECT_EQ(log.count("info", "reachable again"), 1);
}

TEST(HeartbeatClient, Non2xxAnswersAreFailures) {
    HeartbeatReceiver receiver;
    receiver.set_mode(HeartbeatReceiver::Mode::answer_500);
    LogCapture log;
    HeartbeatClient client(options_for(receiver, 0.05, log), sample_snapshot);
    client.start(WorkerState::ready);
    ASSERT_TRUE(receiver.wait_for(at_least(2), 2s));
    EXPECT_EQ(receiver.posts()[1].body["event"], "register");  // still registering
    EXPECT_GE(client.failures(), 1u);
    EXPECT_EQ(log.count("warn", "HTTP 500"), 1);
    receiver.set_mode(HeartbeatReceiver::Mode::answer_ok);
    wait_until([&] { return client.messages_sent() >= 2; }, 2000ms);
    EXPECT_GE(client.messages_sent(), 2u);
}

TEST(HeartbeatClient, StopSendsAFinalStoppedMessage) {
    HeartbeatReceiver receiver;
    LogCapture log;
    HeartbeatClient client(options_for(receiver, 60.0, log), sample_snapshot);
    client.start(WorkerState::ready);
    ASSERT_TRUE(receiver.wait_for(at_least(1), 2s));
    client.stop();
    const Posts posts = receiver.posts();
    ASSERT_EQ(posts.size(), 2u);
    EXPECT_EQ(posts[1].body["event"], "stopped");
    EXPECT_EQ(posts[1].body["state"], "stopped");
    EXPECT_EQ(posts[1].body["sequence"], 2);
    client.stop();  // idempotent
    EXPECT_EQ(receiver.posts().size(), 2u);
}

TEST(HeartbeatClient, StopIsBoundedWhenTheReceiverHangs) {
    HeartbeatReceiver receiver;
    receiver.set_mode(HeartbeatReceiver::Mode::hang);
    LogCapture log;
    HeartbeatOptions options = options_for(receiver, 0.05, log);
    options.request_timeout_s = 30.0;  // only cancellation can end the request in flight
    HeartbeatClient client(options, sample_snapshot);
    client.start(WorkerState::ready);
    wait_until([&] { return receiver.requests_seen() >= 1; }, 2000ms);
    ASSERT_EQ(receiver.requests_seen(), 1u);

    // notify records and returns, whatever the network does.
    const auto notify_start = Clock::now();
    for (int i = 0; i < 1000; ++i) client.notify(i % 2 ? WorkerState::busy : WorkerState::ready);
    EXPECT_LT(Clock::now() - notify_start, 100ms);

    const auto stop_start = Clock::now();
    client.stop();
    const auto took = Clock::now() - stop_start;
    // The hung register is cancelled at once; the final message hangs too and is
    // abandoned after final_beat_timeout_s (0.3 s).
    EXPECT_LT(took, 1s);
    EXPECT_EQ(receiver.requests_seen(), 2u);
}

TEST(HeartbeatClient, RequestTimeoutEndsAHungRequest) {
    HeartbeatReceiver receiver;
    receiver.set_mode(HeartbeatReceiver::Mode::hang);
    LogCapture log;
    HeartbeatOptions options = options_for(receiver, 0.05, log);
    options.request_timeout_s = 0.1;
    HeartbeatClient client(options, sample_snapshot);
    client.start(WorkerState::ready);
    wait_until([&] { return client.failures() >= 2; }, 2000ms);
    EXPECT_GE(client.failures(), 2u);
    EXPECT_EQ(log.count("warn", "timed out"), 1);
}

TEST(HeartbeatClient, StopIsBoundedWhenNothingListens) {
    HeartbeatReceiver receiver;
    receiver.close();
    LogCapture log;
    HeartbeatClient client(options_for(receiver, 0.05, log), sample_snapshot);
    client.start();
    std::this_thread::sleep_for(50ms);
    const auto stop_start = Clock::now();
    client.stop();
    // The refused "stopped" message is retried until final_beat_timeout_s (0.3 s), no longer.
    EXPECT_LT(Clock::now() - stop_start, 1500ms);
    EXPECT_EQ(log.count("debug", "final \"stopped\" message not delivered"), 1);
}

// The client of these tests is backing off with a 2 s backoff after one failed beat:
// the receiver went away and the first beat that found it gone failed.
HeartbeatOptions backing_off_options(const HeartbeatReceiver &receiver, LogCapture &log) {
    HeartbeatOptions options = options_for(receiver, 60.0, log);
    options.initial_backoff_s = 2.0;
    options.max_backoff_s = 2.0;
    options.final_beat_timeout_s = 2.0;
    return options;
}

void fail_once_after_registering(HeartbeatClient &client, HeartbeatReceiver &receiver) {
    client.start(WorkerState::ready);
    ASSERT_TRUE(receiver.wait_for(at_least(1), 5s));
    receiver.close();
    client.notify();  // no failure yet: sent at once, refused
    wait_until([&] { return client.failures() >= 1; }, 5000ms);
    ASSERT_EQ(client.failures(), 1u);
}

TEST(HeartbeatClient, AStateChangeBypassesTheBackoffWhenTheReceiverComesBack) {
    HeartbeatReceiver receiver;
    LogCapture log;
    HeartbeatClient client(backing_off_options(receiver, log), sample_snapshot);
    fail_once_after_registering(client, receiver);

    // Still down: the change is attempted at once all the same (and fails).
    const auto busy_at = Clock::now();
    client.notify(WorkerState::busy);
    wait_until([&] { return client.failures() >= 2; }, 5000ms);
    EXPECT_EQ(client.failures(), 2u);
    EXPECT_LT(Clock::now() - busy_at, 500ms);  // not after the 2 s backoff

    // Back: "draining" arrives now, not when the backoff is over.
    receiver.reopen();
    const auto notified = Clock::now();
    client.notify(WorkerState::draining);
    ASSERT_TRUE(receiver.wait_for(at_least(2), 5s));
    const Posts posts = receiver.posts();
    EXPECT_EQ(posts[1].body["event"], "heartbeat");
    EXPECT_EQ(posts[1].body["state"], "draining");
    EXPECT_EQ(posts[1].body["sequence"], 4);  // register, two refused, this one
    EXPECT_LT(posts[1].at - notified, 500ms);
    wait_until([&] { return client.messages_sent() >= 2; }, 5000ms);  // logged once answered
    EXPECT_EQ(log.count("info", "reachable again after 2 failed"), 1);

    client.stop();
    ASSERT_EQ(receiver.posts().size(), 3u);
    EXPECT_EQ(receiver.posts()[2].body["event"], "stopped");
}

TEST(HeartbeatClient, ABeatWithoutAStateChangeWaitsOutTheBackoff) {
    HeartbeatReceiver receiver;
    LogCapture log;
    HeartbeatClient client(backing_off_options(receiver, log), sample_snapshot);
    fail_once_after_registering(client, receiver);
    receiver.reopen();
    const auto notified = Clock::now();
    client.notify();                   // progress
    client.notify(WorkerState::ready);  // the state the refused beat carried
    // Nothing goes out before the retry (2 s after the failure)...
    std::this_thread::sleep_for(1s);
    EXPECT_EQ(receiver.posts().size(), 1u);
    // ...which comes, and carries the current state.
    ASSERT_TRUE(receiver.wait_for(at_least(2), 10s));
    const ReceivedPost retry = receiver.posts()[1];
    EXPECT_EQ(retry.body["state"], "ready");
    EXPECT_GE(retry.at - notified, 1500ms);
    EXPECT_EQ(client.failures(), 1u);
}

TEST(HeartbeatClient, StopSendsStoppedWhileBackingOff) {
    HeartbeatReceiver receiver;
    LogCapture log;
    HeartbeatOptions options = backing_off_options(receiver, log);
    options.initial_backoff_s = options.max_backoff_s = 30.0;
    HeartbeatClient client(options, sample_snapshot);
    fail_once_after_registering(client, receiver);
    receiver.reopen();
    const auto stop_start = Clock::now();
    client.stop();
    EXPECT_LT(Clock::now() - stop_start, 2s);  // final_beat_timeout_s, not the 30 s backoff
    const Posts posts = receiver.posts();
    ASSERT_EQ(posts.size(), 2u);
    EXPECT_EQ(posts[1].body["event"], "stopped");
    EXPECT_EQ(posts[1].body["state"], "stopped");
    EXPECT_EQ(posts[1].body["sequence"], 3);
}

TEST(HeartbeatClient, StopRetriesTheStoppedMessageWhileTheReceiverComesBack) {
    HeartbeatReceiver receiver;
    LogCapture log;
    HeartbeatOptions options = backing_off_options(receiver, log);
    options.final_beat_timeout_s = 5.0;
    HeartbeatClient client(options, sample_snapshot);
    fail_once_after_registering(client, receiver);
    // Down when stop() begins, back 300 ms later: within final_beat_timeout_s.
    std::thread comes_back([&] {
        std::this_thread::sleep_for(300ms);
        receiver.reopen();
    });
    const auto stop_start = Clock::now();
    client.stop();
    const auto took = Clock::now() - stop_start;
    comes_back.join();
    const Posts posts = receiver.posts();
    ASSERT_EQ(posts.size(), 2u);
    EXPECT_EQ(posts[1].body["event"], "stopped");
    EXPECT_EQ(posts[1].body["sequence"], 3);  // the refused attempts were the same message
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 4s);  // returns once delivered, not at the deadline
    EXPECT_GE(client.failures(), 2u);  // the first beat and at least one refused "stopped"
}

TEST(HeartbeatClient, DestructorStopsAndNeverStartedSendsNothing) {
    HeartbeatReceiver receiver;
    LogCapture log;
    {
        HeartbeatClient unused(options_for(receiver, 0.05, log), sample_snapshot);
    }
    EXPECT_EQ(receiver.requests_seen(), 0u);
    {
        HeartbeatClient client(options_for(receiver, 60.0, log), sample_snapshot);
        client.start();
        client.start();  // idempotent
        ASSERT_TRUE(receiver.wait_for(at_least(1), 2s));
    }
    EXPECT_EQ(receiver.posts().back().body["event"], "stopped");
}

TEST(HeartbeatClient, SnapshotExceptionsAreLoggedNotFatal) {
    HeartbeatReceiver receiver;
    LogCapture log;
    HeartbeatClient client(options_for(receiver, 60.0, log), []() -> HeartbeatSnapshot {
        throw std::runtime_error("queue gone");
    });
    client.start(WorkerState::ready);
    ASSERT_TRUE(receiver.wait_for(at_least(1), 2s));
    EXPECT_EQ(receiver.posts()[0].body["state"], "ready");
    EXPECT_EQ(log.count("error", "queue gone"), 1);
}

}  // namespace
}  // namespace sdw
