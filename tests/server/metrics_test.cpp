// Metrics: the exposition text read back through a strict parser (families, HELP and
// TYPE, cumulative buckets, label escaping), the route cardinality bound, and
// recording from several threads while scraping (run it under the sanitizers).
#include "prometheus_text.h"

#include "server/metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace sdw {
namespace {

using test::parse_prometheus_text;
using test::PromText;
using test::read_histogram;

PromText scrape(const Metrics &metrics, Metrics::Gauges gauges = {}) {
    return parse_prometheus_text(metrics.render(gauges));
}

double requests(const PromText &text, const std::string &route, const std::string &code) {
    return text.value("sdw_http_requests_total", {{"route", route}, {"code", code}}).value_or(-1);
}

TEST(Metrics, AFreshRegistryHasEveryFamilyWithJobCountersAtZero) {
    Metrics metrics;
    const std::string body = metrics.render({});
    PromText text = parse_prometheus_text(body);

    const std::vector<std::pair<std::string, std::string>> families{
        {"sdw_jobs_total", "counter"},          {"sdw_queue_depth", "gauge"},
        {"sdw_jobs_running", "gauge"},          {"sdw_step_seconds", "histogram"},
        {"sdw_job_seconds", "histogram"},       {"sdw_queue_wait_seconds", "histogram"},
        {"sdw_http_requests_total", "counter"}, {"process_resident_memory_bytes", "gauge"}};
    for (const auto &[name, type] : families) {
        const auto *family = text.family(name);
        ASSERT_NE(family, nullptr) << name;
        EXPECT_EQ(family->type, type) << name;
        EXPECT_FALSE(family->help.empty()) << name;
    }
    for (const char *status : {"completed", "failed", "cancelled", "rejected"})
        EXPECT_EQ(text.value("sdw_jobs_total", {{"status", status}}), 0.0) << status;
    EXPECT_EQ(text.family("sdw_jobs_total")->samples.size(), 4u);
    EXPECT_TRUE(text.family("sdw_http_requests_total")->samples.empty());
    EXPECT_EQ(text.value("sdw_queue_depth"), 0.0);
    EXPECT_EQ(text.value("sdw_jobs_running"), 0.0);
    EXPECT_GT(text.value("process_resident_memory_bytes").value_or(0), 1e6);
    // No plugin memory reported: no such family at all.
    EXPECT_EQ(text.family("sdw_plugin_memory_bytes"), nullptr);
    EXPECT_EQ(body.find("sdw_plugin_memory_bytes"), std::string::npos);

    for (const char *name : {"sdw_step_seconds", "sdw_job_seconds", "sdw_queue_wait_seconds"}) {
        auto h = read_histogram(text, name);
        EXPECT_EQ(h.count, 0);
        EXPECT_EQ(h.sum, 0);
        for (const auto &bucket : h.buckets) EXPECT_EQ(bucket.second, 0) << name;
    }
}

TEST(Metrics, HistogramsUseTheDocumentedBoundsAsLeLabels) {
    Metrics metrics;
    const std::string body = metrics.render({});
    PromText text = parse_prometheus_text(body);
    auto expect_bounds = [&](const std::string &name, const auto &bounds) {
        auto h = read_histogram(text, name);
        ASSERT_EQ(h.buckets.size(), bounds.size() + 1) << name;
        for (size_t i = 0; i < bounds.size(); ++i) EXPECT_EQ(h.buckets[i].first, bounds[i]) << name;
        EXPECT_TRUE(std::isinf(h.buckets.back().first));
    };
    expect_bounds("sdw_step_seconds", Metrics::step_buckets);
    expect_bounds("sdw_job_seconds", Metrics::job_buckets);
    expect_bounds("sdw_queue_wait_seconds", Metrics::queue_wait_buckets);
    EXPECT_EQ(Metrics::step_buckets.front(), 0.005);
    EXPECT_EQ(Metrics::step_buckets.back(), 30);
    EXPECT_EQ(Metrics::job_buckets.front(), 0.1);
    EXPECT_EQ(Metrics::job_buckets.back(), 1800);
    EXPECT_EQ(Metrics::queue_wait_buckets.front(), 0.01);
    EXPECT_EQ(Metrics::queue_wait_buckets.back(), 1800);
    // Shortest round-trip numbers, as Prometheus' own clients write them.
    EXPECT_NE(body.find("sdw_step_seconds_bucket{le=\"0.005\"} 0\n"), std::string::npos);
    EXPECT_NE(body.find("sdw_step_seconds_bucket{le=\"30\"} 0\n"), std::string::npos);
    EXPECT_NE(body.find("sdw_step_seconds_bucket{le=\"+Inf\"} 0\n"), std::string::npos);
    EXPECT_NE(body.find("sdw_job_seconds_bucket{le=\"2.5\"} 0\n"), std::string::npos);
    EXPECT_NE(body.find("# TYPE sdw_jobs_total counter\n"), std::string::npos);
    EXPECT_NE(body.find("sdw_jobs_total{status=\"completed\"} 0\n"), std::string::npos);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInclusiveUpperBounds) {
    Metrics metrics;
    metrics.observe_step(0.005);   // exactly on a bound: in le="0.005"
    metrics.observe_step(0.0051);  // le="0.01"
    metrics.observe_step(0.3);     // le="0.5"
    metrics.observe_step(45);      // past the last bound: only +Inf
    metrics.observe_step(-1);      // counts as 0
    metrics.observe_step(NAN);     // ignored
    auto h = read_histogram(scrape(metrics), "sdw_step_seconds");
    EXPECT_EQ(h.count, 5);
    EXPECT_DOUBLE_EQ(h.sum, 0.005 + 0.0051 + 0.3 + 45);
    auto cumulative_at = [&](double le) {
        for (const auto &[bound, count] : h.buckets)
            if (bound == le) return count;
        return -1.0;
    };
    EXPECT_EQ(cumulative_at(0.005), 2);  // -1 clamped to 0, and 0.005 itself
    EXPECT_EQ(cumulative_at(0.01), 3);
    EXPECT_EQ(cumulative_at(0.2), 3);
    EXPECT_EQ(cumulative_at(0.5), 4);
    EXPECT_EQ(cumulative_at(30), 4);
    EXPECT_EQ(cumulative_at(INFINITY), 5);

    metrics.observe_job(90);
    metrics.observe_queue_wait(0.02);
    PromText text = scrape(metrics);
    auto job = read_histogram(text, "sdw_job_seconds");
    EXPECT_EQ(job.count, 1);
    EXPECT_EQ(job.sum, 90);
    EXPECT_EQ(job.buckets[7].second, 0);  // le="30"
    EXPECT_EQ(job.buckets[9].second, 1);  // le="120"
    auto wait = read_histogram(text, "sdw_queue_wait_seconds");
    EXPECT_EQ(wait.count, 1);
    EXPECT_EQ(wait.buckets[0].second, 0);  // le="0.01"
    EXPECT_EQ(wait.buckets[1].second, 1);  // le="0.025"
    // The step histogram did not move.
    EXPECT_EQ(read_histogram(text, "sdw_step_seconds").count, 5);
}

TEST(Metrics, CountsJobsByStatusAndIgnoresUnknownOnes) {
    Metrics metrics;
    metrics.count_job("completed");
    metrics.count_job("completed");
    metrics.count_job("failed");
    metrics.count_job("cancelled");
    metrics.count_job("rejected");
    metrics.count_job("rejected");
    metrics.count_job("rejected");
    metrics.count_job("exploded");
    metrics.count_job("");
    PromText text = scrape(metrics);
    EXPECT_EQ(text.value("sdw_jobs_total", {{"status", "completed"}}), 2.0);
    EXPECT_EQ(text.value("sdw_jobs_total", {{"status", "failed"}}), 1.0);
    EXPECT_EQ(text.value("sdw_jobs_total", {{"status", "cancelled"}}), 1.0);
    EXPECT_EQ(text.value("sdw_jobs_total", {{"status", "rejected"}}), 3.0);
    EXPECT_EQ(text.family("sdw_jobs_total")->samples.size(), 4u);
}

TEST(Metrics, GaugesComeFromTheCallerAndPluginMemoryHasThreeKinds) {
    Metrics metrics;
    Metrics::Gauges gauges;
    gauges.queue_depth = 3;
    gauges.jobs_running = 1;
    gauges.plugin_memory = BackendMemory{123456789012ull, 2048, 0};
    PromText text = scrape(metrics, gauges);
    EXPECT_EQ(text.value("sdw_queue_depth"), 3.0);
    EXPECT_EQ(text.value("sdw_jobs_running"), 1.0);
    const auto *memory = text.family("sdw_plugin_memory_bytes");
    ASSERT_NE(memory, nullptr);
    EXPECT_EQ(memory->type, "gauge");
    EXPECT_EQ(memory->samples.size(), 3u);
    EXPECT_EQ(text.value("sdw_plugin_memory_bytes", {{"kind", "weights"}}), 123456789012.0);
    EXPECT_EQ(text.value("sdw_plugin_memory_bytes", {{"kind", "plans"}}), 2048.0);
    EXPECT_EQ(text.value("sdw_plugin_memory_bytes", {{"kind", "cache"}}), 0.0);
    // Exact integers, not 1.23e+11.
    EXPECT_NE(metrics.render(gauges).find("sdw_plugin_memory_bytes{kind=\"weights\"} 123456789012\n"),
              std::string::npos);
}

TEST(Metrics, CountsRequestsByRouteTemplateAndCode) {
    Metrics metrics;
    metrics.count_request("/v1/jobs", 202);
    metrics.count_request("/v1/jobs", 202);
    metrics.count_request("/v1/jobs", 400);
    metrics.count_request("/v1/jobs/{id}", 404);
    metrics.count_request("/health", 200);
    metrics.count_request("", 404);
    PromText text = scrape(metrics);
    EXPECT_EQ(requests(text, "/v1/jobs", "202"), 2);
    EXPECT_EQ(requests(text, "/v1/jobs", "400"), 1);
    EXPECT_EQ(requests(text, "/v1/jobs/{id}", "404"), 1);
    EXPECT_EQ(requests(text, "/health", "200"), 1);
    EXPECT_EQ(requests(text, "other", "404"), 1);  // the empty route
    EXPECT_EQ(text.family("sdw_http_requests_total")->samples.size(), 5u);
}

TEST(Metrics, EscapesLabelValuesAndTheyReadBackUnchanged) {
    Metrics metrics;
    const std::string odd = "/a\"quoted\"\\back\\slash\nnew line/{id}";
    metrics.count_request(odd, 500);
    const std::string body = metrics.render({});
    EXPECT_NE(body.find(R"(route="/a\"quoted\"\\back\\slash\nnew line/{id}")"), std::string::npos)
        << body;
    PromText text = parse_prometheus_text(body);
    EXPECT_EQ(requests(text, odd, "500"), 1);
    // Each sample is still on a line of its own.
    for (const auto &family : text.families)
        for (const auto &sample : family.samples) EXPECT_EQ(sample.name.find('\n'), std::string::npos);
}

TEST(Metrics, KeepsAtMostMaxRoutesDistinctRoutesAndCountsTheRestAsOther) {
    Metrics metrics;
    const size_t extra = 40;
    for (size_t i = 0; i < Metrics::max_routes + extra; ++i)
        metrics.count_request("/route/" + std::to_string(i), 200);
    // Routes kept before the bound keep counting; new ones go on landing in "other".
    metrics.count_request("/route/0", 200);
    metrics.count_request("/route/0", 503);
    metrics.count_request("/yet/another", 200);
    metrics.count_request("other", 200);  // the same series as the overflow
    PromText text = scrape(metrics);
    std::set<std::string> routes;
    for (const auto &s : text.family("sdw_http_requests_total")->samples)
        routes.insert(s.labels.at("route"));
    EXPECT_EQ(routes.size(), Metrics::max_routes + 1);
    EXPECT_TRUE(routes.count("other"));
    EXPECT_EQ(requests(text, "/route/0", "200"), 2);
    EXPECT_EQ(requests(text, "/route/0", "503"), 1);
    EXPECT_EQ(requests(text, "/route/" + std::to_string(Metrics::max_routes - 1), "200"), 1);
    EXPECT_EQ(requests(text, "/route/" + std::to_string(Metrics::max_routes), "200"), -1);
    EXPECT_EQ(requests(text, "other", "200"), static_cast<double>(extra + 2));
}

TEST(Metrics, RecordsFromManyThreadsWhileScraping) {
    Metrics metrics;
    constexpr int threads = 4, rounds = 5000;
    std::atomic<bool> done{false};
    std::atomic<int> scrapes{0};
    std::atomic<bool> scraping{false};
    std::thread scraper([&] {
        do {
            PromText text = scrape(metrics);  // every intermediate text is well formed
            auto h = read_histogram(text, "sdw_step_seconds");
            EXPECT_LE(h.count, threads * rounds);
            ++scrapes;
            scraping = true;
        } while (!done.load());
    });
    while (!scraping.load()) std::this_thread::yield();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            const std::string route = "/route/" + std::to_string(t % 2);
            for (int i = 0; i < rounds; ++i) {
                metrics.count_request(route, i % 2 ? 200 : 404);
                metrics.count_job(i % 4 == 0 ? "rejected" : "completed");
                metrics.observe_step(0.001 * (i % 100));
                metrics.observe_job(1.0);
                metrics.observe_queue_wait(0.5);
            }
        });
    }
    for (auto &w : workers) w.join();
    done = true;
    scraper.join();
    EXPECT_GT(scrapes.load(), 0);

    PromText text = scrape(metrics);
    const double total = threads * rounds;
    EXPECT_EQ(text.value("sdw_jobs_total", {{"status", "rejected"}}), total / 4);
    EXPECT_EQ(text.value("sdw_jobs_total", {{"status", "completed"}}), total * 3 / 4);
    for (const char *route : {"/route/0", "/route/1"}) {
        EXPECT_EQ(requests(text, route, "200"), total / 4) << route;
        EXPECT_EQ(requests(text, route, "404"), total / 4) << route;
    }
    EXPECT_EQ(read_histogram(text, "sdw_step_seconds").count, total);
    auto job = read_histogram(text, "sdw_job_seconds");
    EXPECT_EQ(job.count, total);
    EXPECT_EQ(job.sum, total);  // exact: sums of 1.0
    auto wait = read_histogram(text, "sdw_queue_wait_seconds");
    EXPECT_EQ(wait.sum, total * 0.5);
}

TEST(PrometheusTextReader, RefusesMalformedText) {
    // The reader the tests rely on is strict enough to catch what a scraper refuses.
    EXPECT_THROW(parse_prometheus_text("# TYPE a counter\na 1"), std::runtime_error);  // no final \n
    EXPECT_THROW(parse_prometheus_text("a 1\n"), std::runtime_error);                  // no TYPE
    EXPECT_THROW(parse_prometheus_text("# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na 2\n"),
                 std::runtime_error);  // family split
    EXPECT_THROW(parse_prometheus_text("# TYPE a gauge\na{x=\"\\t\"} 1\n"), std::runtime_error);
    EXPECT_THROW(parse_prometheus_text("# TYPE a gauge\na{x=\"y} 1\n"), std::runtime_error);
    EXPECT_THROW(parse_prometheus_text("# TYPE 1a gauge\n"), std::runtime_error);
    EXPECT_NO_THROW(parse_prometheus_text("# HELP a x\\ny\n# TYPE a gauge\na{x=\"\\\"\"} +Inf\n"));
    auto text = parse_prometheus_text("# HELP a x\\ny\n# TYPE a gauge\na{x=\"\\\"\"} +Inf\n");
    EXPECT_EQ(text.family("a")->help, "x\ny");
    EXPECT_TRUE(std::isinf(*text.value("a", {{"x", "\""}})));
}

}  // namespace
}  // namespace sdw
