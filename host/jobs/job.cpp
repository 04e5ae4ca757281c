#include "jobs/job.h"

#include <algorithm>

#include "image/base64.h"
#include "image/png.h"

#include <nlohmann/json.hpp>

namespace sdw {

using json = nlohmann::json;

Job::Job(std::string id, GenerationRequest request)
    : id_(std::move(id)),
      operation_(request.operation),
      seed_(request.seed),
      steps_(request.steps),
      work_(double(request.width) * request.height * std::max(1, request.num_images) * std::max(1, request.steps)),
      created_steady_(std::chrono::steady_clock::now()),
      request_(std::move(request)),
      created_at_(std::chrono::system_clock::now()) {}

JobSnapshot Job::snapshot() const {
    std::lock_guard lock(mutex_);
    JobSnapshot s;
    s.state = state_;
    s.step = step_;
    s.total = total_;
    s.error = error_;
    s.cancel_reason = cancel_reason_;
    s.cancel_requested = cancel_requested();
    s.images = images_;
    s.timings_ms = timings_ms_;
    s.created_at = created_at_;
    s.started_at = started_at_;
    s.finished_at = finished_at_;
    return s;
}

JobState Job::state() const {
    std::lock_guard lock(mutex_);
    return state_;
}

std::optional<JobImage> Job::image(size_t index) const {
    std::lock_guard lock(mutex_);
    if (index >= images_.size()) return std::nullopt;
    return images_[index];
}

void Job::publish_preview(int step, const Image &preview) {
    int total = 0;
    {
        std::lock_guard lock(mutex_);
        if (state_ != JobState::running) return;
        total = total_;
    }
    auto png = std::make_shared<const std::string>(base64_encode(encode_png(preview)));
    {
        std::lock_guard lock(mutex_);
        latest_preview_ = png;
    }
    events_.append_superseding("preview", json{{"step", step},
                                               {"total", total},
                                               {"width", preview.width},
                                               {"height", preview.height},
                                               {"png_base64", *png}}
                                              .dump());
}

std::string Job::latest_preview_base64() const {
    std::shared_ptr<const std::string> png;
    {
        std::lock_guard lock(mutex_);
        png = latest_preview_;
    }
    return png ? *png : std::string();
}

bool Job::request_cancel(const std::string &reason) {
    std::lock_guard lock(mutex_);
    if (is_terminal(state_)) return false;
    if (!cancel_requested()) cancel_reason_ = reason;
    cancel_requested_.store(true, std::memory_order_release);
    return true;
}

std::optional<GenerationRequest> Job::start_running() {
    std::optional<GenerationRequest> request;
    {
        std::lock_guard lock(mutex_);
        if (state_ != JobState::queued) return std::nullopt;
        state_ = JobState::running;
        started_at_ = std::chrono::system_clock::now();
        started_steady_ = std::chrono::steady_clock::now();
        total_ = steps_;
        request = std::move(request_);
        request_.reset();
    }
    auto queue_ms = std::chrono::duration<double, std::milli>(*started_at_ - created_at_).count();
    events_.append("started", json{{"total", steps_}, {"queue_ms", queue_ms}}.dump());
    return request;
}

void Job::record_progress(int step, int total) {
    double elapsed_ms = 0;
    {
        std::lock_guard lock(mutex_);
        if (state_ != JobState::running) return;
        step_ = step;
        total_ = total;
        elapsed_ms = std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - started_steady_)
                         .count();
    }
    double eta_ms = step > 0 ? elapsed_ms / step * std::max(0, total - step) : 0.0;
    events_.append("progress", json{{"step", step},
                                    {"total", total},
                                    {"elapsed_ms", static_cast<int64_t>(elapsed_ms)},
                                    {"eta_ms", static_cast<int64_t>(eta_ms)}}
                                   .dump());
}

bool Job::enter_terminal(JobState state, std::unique_lock<std::mutex> &lock) {
    if (is_terminal(state_)) return false;
    state_ = state;
    finished_at_ = std::chrono::system_clock::now();
    finished_steady_ = std::chrono::steady_clock::now();
    request_.reset();  // drop any input images a queued job still held
    return true;
}

bool Job::complete(std::vector<JobImage> images, std::map<std::string, double> timings_ms,
                   std::string event_data) {
    std::unique_lock lock(mutex_);
    if (!enter_terminal(JobState::completed, lock)) return false;
    images_ = std::move(images);
    timings_ms_ = std::move(timings_ms);
    step_ = total_;
    // Append under the job lock: a snapshot never shows a terminal state whose
    // event a subscriber could not yet read.
    events_.append("completed", std::move(event_data), true);
    return true;
}

bool Job::fail(JobError error) {
    std::unique_lock lock(mutex_);
    if (!enter_terminal(JobState::failed, lock)) return false;
    json err{{"code", error.code}, {"message", error.message}};
    if (!error.field.empty()) err["field"] = error.field;
    error_ = std::move(error);
    events_.append("failed", json{{"error", err}}.dump(), true);
    return true;
}

bool Job::finish_cancelled(const std::string &reason) {
    std::unique_lock lock(mutex_);
    if (!enter_terminal(JobState::cancelled, lock)) return false;
    if (!reason.empty() && cancel_reason_.empty()) cancel_reason_ = reason;
    if (cancel_reason_.empty()) cancel_reason_ = "cancelled";
    cancel_requested_.store(true, std::memory_order_release);
    events_.append("cancelled", json{{"reason", cancel_reason_}}.dump(), true);
    return true;
}

std::string Job::cancel_reason() const {
    std::lock_guard lock(mutex_);
    return cancel_reason_;
}

std::chrono::steady_clock::time_point Job::started_steady() const {
    std::lock_guard lock(mutex_);
    return started_steady_;
}

std::chrono::steady_clock::time_point Job::finished_steady() const {
    std::lock_guard lock(mutex_);
    return finished_steady_;
}

std::string job_image_url(const std::string &id, size_t index) {
    return "/v1/jobs/" + id + "/images/" + std::to_string(index) + ".png";
}

}  // namespace sdw
