#include "server/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <unistd.h>

namespace sdw {

namespace {

constexpr std::array<std::string_view, 4> job_statuses{"completed", "failed", "cancelled",
                                                       "rejected"};

void append_number(std::string &out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
    } else if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
    } else {
        char text[32];
        auto [end, ec] = std::to_chars(text, text + sizeof text, value);  // shortest round trip
        out.append(text, ec == std::errc() ? end : text);
    }
}

void append_number(std::string &out, uint64_t value) {
    char text[24];
    auto [end, ec] = std::to_chars(text, text + sizeof text, value);
    out.append(text, ec == std::errc() ? end : text);
}

// A label value inside double quotes: backslash, double quote and line feed escaped.
void append_label_value(std::string &out, std::string_view value) {
    for (char c : value) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\n': out += "\\n"; break;
        default: out += c;
        }
    }
}

// "# HELP" and "# TYPE" lines; in HELP text backslash and line feed are escaped.
void append_header(std::string &out, std::string_view name, std::string_view type,
                   std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    for (char c : help) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

struct Label {
    std::string_view name;
    std::string_view value;
};

template <typename Value>
void append_sample(std::string &out, std::string_view name, std::initializer_list<Label> labels,
                   Value value) {
    out += name;
    if (labels.size() != 0) {
        out += '{';
        bool first = true;
        for (const Label &label : labels) {
            if (!first) out += ',';
            first = false;
            out += label.name;
            out += "=\"";
            append_label_value(out, label.value);
            out += '"';
        }
        out += '}';
    }
    out += ' ';
    append_number(out, value);
    out += '\n';
}

// Resident set size of this process, from /proc/self/statm (second field, in pages).
std::optional<uint64_t> resident_memory_bytes() {
    std::ifstream statm("/proc/self/statm");
    uint64_t size_pages = 0, resident_pages = 0;
    if (!(statm >> size_pages >> resident_pages)) return std::nullopt;
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return std::nullopt;
    return resident_pages * static_cast<uint64_t>(page);
}

}  // namespace

void Metrics::Histogram::observe(double value) {
    if (std::isnan(value)) return;
    value = std::max(value, 0.0);
    // le is inclusive: the first bound >= value; past the last bound, +Inf.
    size_t bucket = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                        bounds_.begin());
    std::lock_guard lock(mutex_);
    ++counts_[bucket];
    sum_ += value;
}

void Metrics::Histogram::render(std::string &out, std::string_view name,
                                std::string_view help) const {
    std::array<uint64_t, max_histogram_buckets> counts;
    double sum;
    {
        std::lock_guard lock(mutex_);
        counts = counts_;
        sum = sum_;
    }
    append_header(out, name, "histogram", help);
    const std::string bucket_name = std::string(name) + "_bucket";
    uint64_t cumulative = 0;
    std::string le;
    for (size_t i = 0; i < bounds_.size(); ++i) {
        cumulative += counts[i];
        le.clear();
        append_number(le, bounds_[i]);
        append_sample(out, bucket_name, {{"le", le}}, cumulative);
    }
    cumulative += counts[bounds_.size()];
    append_sample(out, bucket_name, {{"le", "+Inf"}}, cumulative);
    append_sample(out, std::string(name) + "_sum", {}, sum);
    append_sample(out, std::string(name) + "_count", {}, cumulative);
}

void Metrics::count_request(std::string_view route, int status) {
    static constexpr std::string_view other = "other";
    if (route.empty()) route = other;
    std::lock_guard lock(requests_mutex_);
    auto it = requests_.find(route);
    if (it == requests_.end()) {
        size_t kept = requests_.size() - requests_.count(other);
        if (kept >= max_routes) route = other;
        it = requests_.try_emplace(std::string(route)).first;
    }
    ++it->second[status];
}

void Metrics::count_job(std::string_view status) {
    auto it = std::find(job_statuses.begin(), job_statuses.end(), status);
    if (it != job_statuses.end())
        jobs_[static_cast<size_t>(it - job_statuses.begin())].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::observe_step(double seconds) { step_.observe(seconds); }
void Metrics::observe_job(double seconds) { job_.observe(seconds); }
void Metrics::observe_queue_wait(double seconds) { queue_wait_.observe(seconds); }

std::string Metrics::render(const Gauges &gauges) const {
    std::string out;
    out.reserve(8192);

    append_header(out, "sdw_jobs_total", "counter",
                  "Jobs by outcome: completed, failed, cancelled (terminal states), rejected "
                  "(submits refused: queue full, draining, not ready).");
    for (size_t i = 0; i < job_statuses.size(); ++i)
        append_sample(out, "sdw_jobs_total", {{"status", job_statuses[i]}},
                      jobs_[i].load(std::memory_order_relaxed));

    append_header(out, "sdw_queue_depth", "gauge", "Jobs waiting in the queue, not counting running ones.");
    append_sample(out, "sdw_queue_depth", {}, static_cast<uint64_t>(gauges.queue_depth));
    append_header(out, "sdw_jobs_running", "gauge", "Jobs being generated now.");
    append_sample(out, "sdw_jobs_running", {}, static_cast<uint64_t>(gauges.jobs_running));

    step_.render(out, "sdw_step_seconds", "Wall time of one denoising step, in seconds.");
    job_.render(out, "sdw_job_seconds",
                "Run time of a job that ran, from its start on a worker to its terminal state, in seconds.");
    queue_wait_.render(out, "sdw_queue_wait_seconds",
                       "Time a job waited in the queue, from acceptance to start, in seconds.");

    append_header(out, "sdw_http_requests_total", "counter",
                  "HTTP responses by route template and status code.");
    {
        std::lock_guard lock(requests_mutex_);
        for (const auto &[route, codes] : requests_)
            for (const auto &[code, count] : codes)
                append_sample(out, "sdw_http_requests_total",
                              {{"route", route}, {"code", std::to_string(code)}}, count);
    }

    if (std::optional<uint64_t> rss = resident_memory_bytes()) {
        append_header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        append_sample(out, "process_resident_memory_bytes", {}, *rss);
    }

    if (gauges.plugin_memory) {
        append_header(out, "sdw_plugin_memory_bytes", "gauge",
                      "Device memory the backend plugin holds resident, in bytes, by kind.");
        const BackendMemory &memory = *gauges.plugin_memory;
        append_sample(out, "sdw_plugin_memory_bytes", {{"kind", "weights"}}, memory.weights_bytes);
        append_sample(out, "sdw_plugin_memory_bytes", {{"kind", "plans"}}, memory.plans_bytes);
        append_sample(out, "sdw_plugin_memory_bytes", {{"kind", "cache"}}, memory.cache_bytes);
    }
    return out;
}

}  // namespace sdw
