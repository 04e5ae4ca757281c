#include "fake_generator.h"
#include "prometheus_text.h"
#include "queue_options.h"

#include "image/base64.h"
#include "image/png.h"
#include "jobs/job_queue.h"
#include "server/metrics.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <set>
#include <thread>

namespace sdw {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using test::eventually;
using test::FakeGenerator;
using test::queue_with;

GenerationRequest request(std::string prompt, int steps = 3) {
    GenerationRequest r;
    r.prompt = std::move(prompt);
    r.width = 16;
    r.height = 8;
    r.steps = steps;
    r.seed = 7;
    return r;
}

std::vector<std::string> event_names(const Job &job) {
    std::vector<std::string> names;
    for (const auto &event : job.events().events_after(0)) names.push_back(event->name);
    return names;
}

struct QueueFixture : ::testing::Test {
    std::shared_ptr<FakeGenerator> generator = std::make_shared<FakeGenerator>();
    std::unique_ptr<JobQueue> queue;

    void make_queue(JobQueueOptions options, int workers = 1) {
        queue = std::make_unique<JobQueue>(options);
        std::vector<std::shared_ptr<Generator>> generators;
        for (int i = 0; i < workers; ++i) generators.push_back(generator);
        queue->start(generators);
    }
    JobPtr submit(std::string prompt, int steps = 3) {
        auto result = queue->submit(request(std::move(prompt), steps));
        EXPECT_EQ(result.error, SubmitError::none);
        return result.job;
    }
    void TearDown() override {
        generator->release();
        if (queue) queue->shutdown();
    }
};

TEST(JobQueueNotStarted, RefusesJobsUntilStarted) {
    JobQueue queue;
    EXPECT_EQ(queue.submit(request("a")).error, SubmitError::not_ready);
    EXPECT_FALSE(queue.stats().ready);
}

TEST_F(QueueFixture, RunsJobsInSubmissionOrder) {
    make_queue({});
    generator->hold();
    std::vector<JobPtr> jobs;
    for (const char *name : {"first", "second", "third", "fourth"}) jobs.push_back(submit(name));
    generator->release();
    ASSERT_TRUE(queue->wait_idle(5s));
    EXPECT_EQ(generator->prompts_seen(),
              (std::vector<std::string>{"first", "second", "third", "fourth"}));
    for (auto &job : jobs) EXPECT_EQ(job->state(), JobState::completed);
}

TEST_F(QueueFixture, EventsArriveInLifeCycleOrderWithSequentialIds) {
    make_queue({});
    JobPtr job = submit("a", 4);
    ASSERT_TRUE(queue->wait_idle(5s));
    EXPECT_EQ(event_names(*job),
              (std::vector<std::string>{"queued", "started", "progress", "progress", "progress",
                                        "progress", "completed"}));
    auto events = job->events().events_after(0);
    for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i]->id, i + 1);
    EXPECT_TRUE(events.back()->terminal);
    auto progress = json::parse(events[5]->data);
    EXPECT_EQ(progress["step"], 4);
    EXPECT_EQ(progress["total"], 4);
    EXPECT_TRUE(progress.contains("elapsed_ms"));
    EXPECT_EQ(progress["eta_ms"], 0);
    // Replay from the middle returns exactly the tail.
    auto tail = job->events().events_after(5);
    ASSERT_EQ(tail.size(), 2u);
    EXPECT_EQ(tail[0]->id, 6u);
    EXPECT_EQ(tail[1]->name, "completed");
}

TEST_F(QueueFixture, CompletedJobCarriesPngImagesWithParameters) {
    make_queue({});
    auto r = request("a red circle");
    r.num_images = 2;
    r.seed = 100;
    JobPtr job = queue->submit(r).job;
    ASSERT_TRUE(queue->wait_idle(5s));
    ASSERT_EQ(job->state(), JobState::completed);
    auto snapshot = job->snapshot();
    ASSERT_EQ(snapshot.images.size(), 2u);
    EXPECT_EQ(snapshot.images[1].seed, 101u);
    const auto &png = *snapshot.images[1].png;
    Image decoded = decode_png(png.data(), png.size());
    EXPECT_EQ(decoded.width, 16);
    EXPECT_EQ(decoded.height, 8);
    EXPECT_EQ(decoded.pixels[0], 101 % 251);
    auto text = read_png_text(png.data(), png.size());
    ASSERT_TRUE(text.count("parameters"));
    EXPECT_NE(text["parameters"].find("a red circle\n"), std::string::npos);
    EXPECT_NE(text["parameters"].find("Seed: 101"), std::string::npos);
    EXPECT_NE(text["parameters"].find("Model: fake-model"), std::string::npos);

    auto completed = json::parse(job->events().events_after(0).back()->data);
    ASSERT_EQ(completed["images"].size(), 2u);
    EXPECT_EQ(completed["images"][0]["seed"], 100);
    EXPECT_EQ(completed["images"][0]["url"], "/v1/jobs/" + job->id() + "/images/0.png");
    auto bytes = base64_decode(completed["images"][1]["png_base64"].get<std::string>());
    ASSERT_TRUE(bytes);
    EXPECT_EQ(*bytes, png);
    EXPECT_TRUE(completed["timings_ms"].contains("encode_png"));
}

TEST_F(QueueFixture, RefusesJobsBeyondCapacityAndReportsPositions) {
    make_queue(queue_with(2));
    generator->hold();
    JobPtr running = submit("running");
    ASSERT_TRUE(eventually([&] { return running->state() == JobState::running; }));
    JobPtr second = submit("second");
    JobPtr third = submit("third");
    EXPECT_EQ(queue->queue_position(second->id()), 1u);
    EXPECT_EQ(queue->queue_position(third->id()), 2u);
    EXPECT_EQ(queue->queue_position(running->id()), std::nullopt);
    auto refused = queue->submit(request("fourth"));
    EXPECT_EQ(refused.error, SubmitError::queue_full);
    EXPECT_EQ(refused.job, nullptr);
    EXPECT_GE(queue->retry_after().count(), 1);
    auto stats = queue->stats();
    EXPECT_EQ(stats.queued, 2u);
    EXPECT_EQ(stats.running, 1u);
}

TEST_F(QueueFixture, CancellingAQueuedJobEndsItAtOnceAndMovesTheLineUp) {
    make_queue({});
    generator->hold();
    JobPtr running = submit("running");
    ASSERT_TRUE(eventually([&] { return running->state() == JobState::running; }));
    JobPtr second = submit("second");
    JobPtr third = submit("third");
    EXPECT_EQ(queue->cancel(second->id(), "changed my mind"), CancelOutcome::cancelled);
    EXPECT_EQ(second->state(), JobState::cancelled);
    auto last = second->events().events_after(0).back();
    EXPECT_EQ(last->name, "cancelled");
    EXPECT_EQ(json::parse(last->data)["reason"], "changed my mind");
    EXPECT_EQ(queue->queue_position(third->id()), 1u);
    auto third_last = third->events().events_after(0).back();
    EXPECT_EQ(third_last->name, "queued");
    EXPECT_EQ(json::parse(third_last->data)["queue_position"], 1);
    EXPECT_EQ(queue->cancel(second->id(), "again"), CancelOutcome::already_finished);
    EXPECT_EQ(queue->cancel("no-such-job", "x"), CancelOutcome::not_found);
    generator->release();
    ASSERT_TRUE(queue->wait_idle(5s));
    EXPECT_EQ(generator->prompts_seen(), (std::vector<std::string>{"running", "third"}));
}

TEST_F(QueueFixture, CancellingARunningJobStopsItBeforeItsNextStep) {
    make_queue({});
    generator->step_delay = 20ms;
    JobPtr job = submit("long", 150);
    ASSERT_TRUE(eventually([&] { return job->snapshot().step >= 1; }));
    EXPECT_EQ(queue->cancel(job->id(), "stop"), CancelOutcome::cancelling);
    ASSERT_TRUE(eventually([&] { return is_terminal(job->state()); }, 2s));
    auto snapshot = job->snapshot();
    EXPECT_EQ(snapshot.state, JobState::cancelled);
    EXPECT_EQ(snapshot.cancel_reason, "stop");
    EXPECT_LT(snapshot.step, 150);
    EXPECT_EQ(event_names(*job).back(), "cancelled");
}

TEST_F(QueueFixture, AnErrorThrownAfterACancelRequestCountsAsCancelled) {
    make_queue({});
    generator->step_delay = 20ms;
    generator->cancel_as_error = true;
    JobPtr job = submit("long", 150);
    ASSERT_TRUE(eventually([&] { return job->snapshot().step >= 1; }));
    EXPECT_EQ(queue->cancel(job->id(), "stop"), CancelOutcome::cancelling);
    ASSERT_TRUE(eventually([&] { return is_terminal(job->state()); }, 2s));
    EXPECT_EQ(job->state(), JobState::cancelled);
    EXPECT_EQ(job->snapshot().cancel_reason, "stop");
}

TEST_F(QueueFixture, AGeneratorExceptionFailsOnlyThatJob) {
    make_queue({});
    generator->fail_message = "device lost";
    JobPtr failing = submit("a");
    ASSERT_TRUE(queue->wait_idle(5s));
    generator->fail_message.clear();
    JobPtr next = submit("b");
    ASSERT_TRUE(queue->wait_idle(5s));
    auto snapshot = failing->snapshot();
    EXPECT_EQ(snapshot.state, JobState::failed);
    ASSERT_TRUE(snapshot.error);
    EXPECT_EQ(snapshot.error->code, "generation_failed");
    EXPECT_EQ(snapshot.error->message, "device lost");
    auto failed = json::parse(failing->events().events_after(0).back()->data);
    EXPECT_EQ(failed["error"]["message"], "device lost");
    EXPECT_EQ(next->state(), JobState::completed);
}

TEST_F(QueueFixture, GenerationInvalidFailsWithTheField) {
    make_queue({});
    generator->invalid_field = "mask";
    JobPtr job = submit("a");
    ASSERT_TRUE(queue->wait_idle(5s));
    auto snapshot = job->snapshot();
    EXPECT_EQ(snapshot.state, JobState::failed);
    EXPECT_EQ(snapshot.error->code, "invalid_request");
    EXPECT_EQ(snapshot.error->field, "mask");
}

TEST_F(QueueFixture, EveryJobReachesExactlyOneTerminalStateUnderConcurrentCancels) {
    make_queue(queue_with(200), /*workers=*/2);
    generator->step_delay = 0ms;
    std::vector<JobPtr> jobs;
    for (int i = 0; i < 120; ++i) jobs.push_back(submit("job" + std::to_string(i), 1 + i % 4));
    std::vector<std::thread> cancellers;
    for (int t = 0; t < 4; ++t) {
        cancellers.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t));
            for (int i = 0; i < 200; ++i) {
                queue->cancel(jobs[rng() % jobs.size()]->id(), "random");
                if (i % 16 == 0) std::this_thread::yield();
            }
        });
    }
    for (auto &thread : cancellers) thread.join();
    ASSERT_TRUE(queue->wait_idle(10s));
    size_t terminal_total = 0;
    for (auto &job : jobs) {
        auto events = job->events().events_after(0);
        size_t terminal = 0;
        for (auto &event : events) terminal += event->terminal;
        EXPECT_EQ(terminal, 1u) << job->id();
        EXPECT_TRUE(events.back()->terminal);
        EXPECT_EQ(events.back()->name, to_string(job->state()));
        EXPECT_TRUE(is_terminal(job->state()));
        terminal_total += terminal;
    }
    auto stats = queue->stats();
    EXPECT_EQ(stats.completed + stats.failed + stats.cancelled, jobs.size());
    EXPECT_EQ(terminal_total, jobs.size());
    EXPECT_LE(generator->max_concurrent.load(), 2);
}

TEST_F(QueueFixture, EvictsTheOldestFinishedJobsBeyondTheCount) {
    make_queue(queue_with(16, 2));
    std::vector<JobPtr> jobs;
    for (int i = 0; i < 4; ++i) {
        jobs.push_back(submit("job"));
        ASSERT_TRUE(queue->wait_idle(5s));
    }
    EXPECT_EQ(queue->find(jobs[0]->id()), nullptr);
    EXPECT_EQ(queue->find(jobs[1]->id()), nullptr);
    EXPECT_EQ(queue->find(jobs[2]->id()), jobs[2]);
    EXPECT_EQ(queue->find(jobs[3]->id()), jobs[3]);
}

TEST_F(QueueFixture, EvictsFinishedJobsAfterTheRetentionTime) {
    make_queue(queue_with(16, 256, 300ms));
    JobPtr job = submit("a");
    ASSERT_TRUE(queue->wait_idle(5s));
    EXPECT_EQ(queue->find(job->id()), job);  // still within retention
    std::this_thread::sleep_for(400ms);
    queue->evict_expired();
    EXPECT_EQ(queue->find(job->id()), nullptr);
    EXPECT_EQ(queue->stats().retained, 0u);
}

TEST_F(QueueFixture, DrainCancelsQueuedJobsRefusesNewOnesAndLetsTheRunningOneFinish) {
    make_queue({});
    generator->hold();
    JobPtr running = submit("running");
    ASSERT_TRUE(eventually([&] { return running->state() == JobState::running; }));
    JobPtr waiting = submit("waiting");
    queue->begin_drain("shutting down");
    EXPECT_EQ(waiting->state(), JobState::cancelled);
    EXPECT_EQ(waiting->snapshot().cancel_reason, "shutting down");
    EXPECT_EQ(queue->submit(request("late")).error, SubmitError::draining);
    EXPECT_FALSE(queue->wait_idle(20ms));
    generator->release();
    ASSERT_TRUE(queue->wait_idle(5s));
    EXPECT_EQ(running->state(), JobState::completed);
}

TEST_F(QueueFixture, CancelRunningStopsTheJobOnDrainTimeout) {
    make_queue({});
    generator->hold();
    JobPtr running = submit("running");
    ASSERT_TRUE(eventually([&] { return running->state() == JobState::running; }));
    queue->begin_drain("shutting down");
    queue->cancel_running("grace period over");
    ASSERT_TRUE(queue->wait_idle(5s));
    EXPECT_EQ(running->state(), JobState::cancelled);
    EXPECT_EQ(running->snapshot().cancel_reason, "grace period over");
}

TEST_F(QueueFixture, ObserverSeesTheQueueChange) {
    std::mutex mutex;
    std::vector<QueueStats> seen;
    make_queue({});
    queue->set_observer([&](const QueueStats &s) {
        std::lock_guard lock(mutex);
        seen.push_back(s);
    });
    submit("a");
    ASSERT_TRUE(queue->wait_idle(5s));
    ASSERT_TRUE(eventually([&] {
        std::lock_guard lock(mutex);
        return !seen.empty() && seen.back().completed == 1;
    }));
    std::lock_guard lock(mutex);
    EXPECT_GE(seen.size(), 3u);  // accepted, started, finished
}

// --- Metrics: what the queue records into JobQueueOptions::metrics.

struct JobQueueMetrics : QueueFixture {
    std::shared_ptr<Metrics> metrics = std::make_shared<Metrics>();

    JobQueueOptions with_metrics(JobQueueOptions options = {}) {
        options.metrics = metrics;
        return options;
    }
    test::PromText scrape() const { return test::parse_prometheus_text(metrics->render({})); }
    double jobs(const char *status) const {
        return scrape().value("sdw_jobs_total", {{"status", status}}).value_or(-1);
    }
    test::PromHistogram histogram(const char *name) const {
        return test::read_histogram(scrape(), name);
    }
};

TEST_F(JobQueueMetrics, ASubmitBeforeStartIsRejected) {
    JobQueue not_started(with_metrics());
    EXPECT_EQ(not_started.submit(request("a")).error, SubmitError::not_ready);
    EXPECT_EQ(jobs("rejected"), 1);
    EXPECT_EQ(histogram("sdw_queue_wait_seconds").count, 0);
}

TEST_F(JobQueueMetrics, CountsEveryTerminalStateAndEachRefusedSubmit) {
    make_queue(with_metrics(queue_with(1)));
    generator->hold();
    JobPtr running = submit("running");
    ASSERT_TRUE(eventually([&] { return running->state() == JobState::running; }));
    JobPtr queued = submit("queued");
    EXPECT_EQ(queue->submit(request("refused")).error, SubmitError::queue_full);
    EXPECT_EQ(jobs("rejected"), 1);
    EXPECT_EQ(queue->cancel(queued->id(), "no"), CancelOutcome::cancelled);
    EXPECT_EQ(jobs("cancelled"), 1);  // a queued job, cancelled at once
    generator->release();
    ASSERT_TRUE(queue->wait_idle(5s));
    EXPECT_EQ(jobs("completed"), 1);

    generator->fail_message = "device lost";
    submit("failing");
    ASSERT_TRUE(queue->wait_idle(5s));
    generator->fail_message.clear();
    EXPECT_EQ(jobs("failed"), 1);

    // Drain: the waiting job is cancelled, later submits are rejected, the running one finishes.
    generator->hold();
    JobPtr last = submit("last");
    ASSERT_TRUE(eventually([&] { return last->state() == JobState::running; }));
    submit("waiting");
    queue->begin_drain("draining");
    EXPECT_EQ(jobs("cancelled"), 2);
    EXPECT_EQ(queue->submit(request("late")).error, SubmitError::draining);
    EXPECT_EQ(jobs("rejected"), 2);
    generator->release();
    ASSERT_TRUE(queue->wait_idle(5s));
    EXPECT_EQ(jobs("completed"), 2);

    auto stats = queue->stats();
    EXPECT_EQ(jobs("completed"), static_cast<double>(stats.completed));
    EXPECT_EQ(jobs("failed"), static_cast<double>(stats.failed));
    EXPECT_EQ(jobs("cancelled"), static_cast<double>(stats.cancelled));
}

TEST_F(JobQueueMetrics, HistogramsMoveOnlyForJobsThatRan) {
    generator->step_delay = 10ms;
    make_queue(with_metrics());
    submit("a", 5);
    ASSERT_TRUE(queue->wait_idle(5s));
    auto steps = histogram("sdw_step_seconds");
    EXPECT_EQ(steps.count, 5);
    EXPECT_GE(steps.sum, 0.045);
    EXPECT_EQ(steps.buckets[0].second, 0);  // le="0.005": every step slept 10 ms
    auto job = histogram("sdw_job_seconds");
    EXPECT_EQ(job.count, 1);
    EXPECT_GE(job.sum, 0.045);
    EXPECT_GE(job.sum, steps.sum - 0.001);
    EXPECT_EQ(histogram("sdw_queue_wait_seconds").count, 1);

    // A job cancelled while queued neither waited to a start nor ran.
    generator->hold();
    JobPtr running = submit("running", 1);
    ASSERT_TRUE(eventually([&] { return running->state() == JobState::running; }));
    JobPtr queued = submit("queued", 1);
    std::this_thread::sleep_for(30ms);
    ASSERT_EQ(queue->cancel(queued->id(), "no"), CancelOutcome::cancelled);
    generator->release();
    ASSERT_TRUE(queue->wait_idle(5s));
    EXPECT_EQ(histogram("sdw_queue_wait_seconds").count, 2);
    EXPECT_EQ(histogram("sdw_job_seconds").count, 2);
    EXPECT_EQ(histogram("sdw_step_seconds").count, 6);
}

TEST_F(JobQueueMetrics, QueueWaitIsFromAcceptanceToStart) {
    make_queue(with_metrics());
    generator->hold();
    JobPtr first = submit("first", 1);
    ASSERT_TRUE(eventually([&] { return first->state() == JobState::running; }));
    JobPtr second = submit("second", 1);
    std::this_thread::sleep_for(120ms);
    generator->release();
    ASSERT_TRUE(queue->wait_idle(5s));
    auto wait = histogram("sdw_queue_wait_seconds");
    EXPECT_EQ(wait.count, 2);
    EXPECT_GE(wait.sum, 0.12);  // the second job waited behind the held first
}

TEST_F(JobQueueMetrics, ACancelledRunningJobCountsTheStepsItRanAndItsRunTime) {
    generator->step_delay = 20ms;
    make_queue(with_metrics());
    JobPtr job = submit("long", 150);
    ASSERT_TRUE(eventually([&] { return job->snapshot().step >= 2; }));
    EXPECT_EQ(queue->cancel(job->id(), "stop"), CancelOutcome::cancelling);
    ASSERT_TRUE(queue->wait_idle(5s));
    ASSERT_EQ(job->state(), JobState::cancelled);
    const int ran = job->snapshot().step;
    EXPECT_EQ(histogram("sdw_step_seconds").count, ran);
    EXPECT_EQ(histogram("sdw_job_seconds").count, 1);
    EXPECT_GE(histogram("sdw_job_seconds").sum, 0.02 * ran);
    EXPECT_EQ(jobs("cancelled"), 1);
    EXPECT_EQ(jobs("completed"), 0);
}

// Works like a pipeline: some set-up (text encoding) before the first step, then a
// timed denoising loop whose length it reports as timings_ms["denoise"].
class SetUpThenStepsGenerator : public Generator {
public:
    std::chrono::milliseconds set_up{300};
    std::chrono::milliseconds step{5};
    bool report_denoise = true;
    bool fail = false;

    ModelDescription describe() const override {
        ModelDescription d;
        d.name = "set-up-then-steps";
        return d;
    }
    GenerationResult generate(const GenerationRequest &request,
                              const GenerationCallbacks &callbacks) override {
        std::this_thread::sleep_for(set_up);
        auto loop_start = std::chrono::steady_clock::now();
        for (int i = 1; i <= request.steps; ++i) {
            std::this_thread::sleep_for(step);
            callbacks.on_step(i, request.steps);
        }
        if (fail) throw std::runtime_error("failed after the loop");
        GenerationResult result;
        GeneratedImage image;
        image.image.width = request.width;
        image.image.height = request.height;
        image.image.channels = 3;
        image.image.pixels.assign(static_cast<size_t>(request.width) * request.height * 3, 0);
        result.images.push_back(std::move(image));
        if (report_denoise)
            result.timings_ms["denoise"] = std::chrono::duration<double, std::milli>(
                                               std::chrono::steady_clock::now() - loop_start)
                                               .count();
        return result;
    }
};

test::PromHistogram steps_after_one_job(std::shared_ptr<SetUpThenStepsGenerator> generator,
                                        JobState expected) {
    JobQueueOptions options;
    options.metrics = std::make_shared<Metrics>();
    JobQueue queue(options);
    queue.start({generator});
    JobPtr job = queue.submit(request("a", 4)).job;
    EXPECT_TRUE(queue.wait_idle(10s));
    EXPECT_EQ(job->state(), expected);
    return test::read_histogram(test::parse_prometheus_text(options.metrics->render({})),
                                "sdw_step_seconds");
}

TEST_F(JobQueueMetrics, TheFirstStepStartsWhereTheDenoiseTimingPlacesIt) {
    auto timed = std::make_shared<SetUpThenStepsGenerator>();
    auto steps = steps_after_one_job(timed, JobState::completed);
    EXPECT_EQ(steps.count, 4);
    EXPECT_GE(steps.sum, 0.02);
    EXPECT_LT(steps.sum, 0.3);  // the 300 ms set-up is in no step
}

TEST_F(JobQueueMetrics, WithoutADenoiseTimingTheFirstStepStartsAtGenerate) {
    auto timed = std::make_shared<SetUpThenStepsGenerator>();
    timed->report_denoise = false;
    auto steps = steps_after_one_job(timed, JobState::completed);
    EXPECT_EQ(steps.count, 4);
    EXPECT_GE(steps.sum, 0.3 + 0.02);

    timed->report_denoise = true;
    timed->fail = true;  // no result, so no timings either
    steps = steps_after_one_job(timed, JobState::failed);
    EXPECT_EQ(steps.count, 4);
    EXPECT_GE(steps.sum, 0.3 + 0.02);
}

TEST(JobEventLog, NotifiesSubscribersAndClosesAfterTheTerminalEvent) {
    JobEventLog log;
    std::atomic<int> notified{0};
    uint64_t token = log.subscribe([&] { ++notified; });
    EXPECT_EQ(log.append("queued", "{}"), 1u);
    EXPECT_EQ(log.append("completed", "{}", true), 2u);
    EXPECT_EQ(log.append("progress", "{}"), 0u);  // nothing after the terminal event
    EXPECT_TRUE(log.closed());
    EXPECT_EQ(log.last_id(), 2u);
    EXPECT_EQ(notified.load(), 2);
    log.unsubscribe(token);
    EXPECT_EQ(log.subscriber_count(), 0u);
    EXPECT_TRUE(log.events_after(2).empty());
    EXPECT_TRUE(log.events_after(99).empty());
}

TEST_F(QueueFixture, EvictsTheOldestFinishedJobsBeyondTheByteCapButKeepsTheNewest) {
    JobQueueOptions options = queue_with(8);
    options.max_retained_bytes = 1;  // less than any job's images
    make_queue(options);
    std::vector<JobPtr> jobs;
    for (const char *name : {"a", "b", "c"}) {
        jobs.push_back(submit(name, 1));
        ASSERT_TRUE(queue->wait_idle(5s));
    }
    EXPECT_EQ(queue->find(jobs[0]->id()), nullptr);
    EXPECT_EQ(queue->find(jobs[1]->id()), nullptr);
    ASSERT_NE(queue->find(jobs[2]->id()), nullptr);  // however big, the newest result stays
    EXPECT_TRUE(queue->find(jobs[2]->id())->image(0).has_value());
    EXPECT_EQ(queue->stats().retained, 1u);
}

TEST_F(QueueFixture, UnderTheByteCapFinishedJobsStay) {
    make_queue(queue_with(8));  // the default cap: 2 GiB
    std::vector<JobPtr> jobs;
    for (const char *name : {"a", "b", "c"}) jobs.push_back(submit(name, 1));
    ASSERT_TRUE(queue->wait_idle(5s));
    for (const JobPtr &job : jobs) EXPECT_NE(queue->find(job->id()), nullptr);
}

TEST_F(QueueFixture, RetryAfterIsWhenTheSoonestRunningJobEndsAtItsOwnPace) {
    make_queue(queue_with(1));
    generator->step_delay = 10ms;
    JobPtr long_one = submit("long", 150);  // ~1.5 s: what the old whole-backlog average learnt
    ASSERT_TRUE(queue->wait_idle(10s));
    JobPtr short_one = submit("short", 30);  // 30 x 10 ms
    ASSERT_TRUE(eventually([&] { return short_one->snapshot().step >= 3; }));
    JobPtr waiting = submit("waiting", 30);  // the one place in the queue
    EXPECT_EQ(queue->submit(request("refused")).error, SubmitError::queue_full);
    // A place frees when "short" ends, well within a second; backlog x average said 3 s.
    EXPECT_EQ(queue->retry_after(), std::chrono::seconds(1));
    ASSERT_TRUE(queue->wait_idle(10s));
}

TEST(JobEventLog, LetsGoOfListenersAtTheTerminalEventAndKeepsNoneOnceClosed) {
    JobEventLog log;
    auto held = std::make_shared<int>(0);  // what a listener keeps alive (a session, say)
    log.subscribe([held] { ++*held; });
    EXPECT_EQ(held.use_count(), 2);
    log.append("queued", "{}");
    EXPECT_EQ(log.subscriber_count(), 1u);
    log.append("completed", "{}", true);
    EXPECT_EQ(*held, 2);  // told of the terminal event, then released
    EXPECT_EQ(held.use_count(), 1);
    EXPECT_EQ(log.subscriber_count(), 0u);
    EXPECT_EQ(log.subscribe([held] { ++*held; }), 0u);
    EXPECT_EQ(held.use_count(), 1);
}

TEST_F(QueueFixture, RecentJobsListsEveryHeldJobNewestFirst) {
    make_queue(queue_with(8, 2));
    generator->hold();
    std::vector<JobPtr> jobs;
    for (const char *name : {"a", "b", "c", "d"}) {
        jobs.push_back(submit(name, 1));
        std::this_thread::sleep_for(2ms);  // distinct acceptance times
    }
    std::vector<JobPtr> listed = queue->recent_jobs();
    ASSERT_EQ(listed.size(), 4u);
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(listed[i], jobs[3 - i]);
    generator->release();
    ASSERT_TRUE(queue->wait_idle(5s));
    // Two finished jobs are retained: the two that finished last, newest first.
    listed = queue->recent_jobs();
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0], jobs[3]);
    EXPECT_EQ(listed[1], jobs[2]);
}

TEST_F(QueueFixture, TheLatestPreviewIsKeptForPollingClients) {
    make_queue({});
    generator->hold();
    JobPtr job = submit("a", 2);
    ASSERT_TRUE(eventually([&] { return job->state() == JobState::running; }));
    EXPECT_EQ(job->latest_preview_base64(), "");
    Image preview{2, 1, 3, {255, 0, 0, 0, 0, 255}};
    job->publish_preview(1, preview);
    auto png = base64_decode(job->latest_preview_base64());
    ASSERT_TRUE(png);
    Image decoded = decode_png(png->data(), png->size());
    EXPECT_EQ(decoded.pixels, preview.pixels);
    generator->release();
}

}  // namespace
}  // namespace sdw
