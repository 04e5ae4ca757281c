#include "jobs/job_queue.h"

#include "log/log.h"

#include "image/base64.h"
#include "image/png.h"
#include "image/latent_preview.h"
#include "jobs/generation_parameters_text.h"
#include "jobs/preview_throttle.h"
#include "server/metrics.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace sdw {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// Live previews at most this often, whatever interval a request asks for.
constexpr std::chrono::milliseconds kMinPreviewInterval{250};

double milliseconds_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

// Times one job's denoising steps for Metrics::observe_step, as job_queue.h describes.
// Used on the worker thread only (a Generator calls on_step from generate()).
class StepTimer {
public:
    explicit StepTimer(Metrics *metrics) : metrics_(metrics) {}
    ~StepTimer() { observe_first_step(std::nullopt); }
    StepTimer(const StepTimer &) = delete;
    StepTimer &operator=(const StepTimer &) = delete;

    // Times callbacks.on_step, then calls it; attach just before generate().
    void attach(GenerationCallbacks &callbacks) {
        if (!metrics_) return;
        start_ = Clock::now();
        callbacks.on_step = [this, next = std::move(callbacks.on_step)](int step, int total) {
            const Clock::time_point now = Clock::now();
            if (steps_ == 0) first_end_ = now;
            else metrics_->observe_step(seconds(now - last_end_));
            last_end_ = now;
            ++steps_;
            if (next) next(step, total);
        };
    }
    // generate() returned these timings (milliseconds); "denoise" places the first step.
    void generation_returned(const std::map<std::string, double> &timings_ms) {
        auto denoise = timings_ms.find("denoise");
        observe_first_step(denoise == timings_ms.end() ? std::nullopt
                                                       : std::optional(denoise->second / 1000.0));
    }

private:
    void observe_first_step(std::optional<double> denoise_seconds) {
        if (!metrics_ || steps_ == 0 || first_observed_) return;
        first_observed_ = true;
        const double since_generate = seconds(first_end_ - start_);
        double first = since_generate;
        if (denoise_seconds)
            first = std::clamp(*denoise_seconds - seconds(last_end_ - first_end_), 0.0, since_generate);
        metrics_->observe_step(first);
    }

    Metrics *const metrics_;
    Clock::time_point start_, first_end_, last_end_;
    int steps_ = 0;
    bool first_observed_ = false;
};

}  // namespace

JobQueue::JobQueue(JobQueueOptions options)
    : options_(options), id_rng_(std::random_device{}()) {}

JobQueue::~JobQueue() { shutdown(); }

void JobQueue::start(std::vector<std::shared_ptr<Generator>> generators) {
    {
        std::lock_guard lock(mutex_);
        if (ready_ || stopping_) return;
        for (auto &generator : generators) {
            std::string model_name;
            try {
                model_name = generator->describe().name;
            } catch (...) {
                // The name only labels PNG metadata; a describe() failure is not fatal.
            }
            workers_.emplace_back(&JobQueue::worker_loop, this, generator, model_name);
        }
        ready_ = !workers_.empty();
    }
    notify_observer();
}

std::string JobQueue::new_job_id() {
    char text[33];
    uint64_t hi = id_rng_(), lo = id_rng_();
    std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(hi),
                  static_cast<unsigned long long>(lo));
    return text;
}

SubmitResult JobQueue::submit(GenerationRequest request) {
    SubmitResult result;
    {
        std::lock_guard lock(mutex_);
        evict_locked(Clock::now());
        if (draining_ || stopping_) result.error = SubmitError::draining;
        else if (!ready_) result.error = SubmitError::not_ready;
        else if (pending_.size() >= options_.capacity) result.error = SubmitError::queue_full;
        if (result.error != SubmitError::none) {
            if (options_.metrics) options_.metrics->count_job("rejected");
            return result;
        }
        std::string id = new_job_id();
        while (jobs_.count(id)) id = new_job_id();
        auto job = std::make_shared<Job>(id, std::move(request));
        pending_.push_back(job);
        jobs_.emplace(id, job);
        result.job = job;
        result.queue_position = pending_.size();
        job->events().append("queued", json{{"queue_position", result.queue_position}}.dump());
    }
    work_cv_.notify_one();
    notify_observer();
    return result;
}

JobPtr JobQueue::find(const std::string &id) {
    std::lock_guard lock(mutex_);
    evict_locked(Clock::now());
    auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : it->second;
}

std::optional<size_t> JobQueue::queue_position(const std::string &id) const {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < pending_.size(); ++i)
        if (pending_[i]->id() == id) return i + 1;
    return std::nullopt;
}

CancelOutcome JobQueue::cancel(const std::string &id, const std::string &reason) {
    CancelOutcome outcome;
    {
        std::lock_guard lock(mutex_);
        auto it = jobs_.find(id);
        if (it == jobs_.end()) return CancelOutcome::not_found;
        JobPtr job = it->second;
        auto pending_it = std::find(pending_.begin(), pending_.end(), job);
        if (pending_it != pending_.end()) {
            size_t index = static_cast<size_t>(pending_it - pending_.begin());
            pending_.erase(pending_it);
            job->finish_cancelled(reason);
            job_finished(job);
            publish_positions_from(index);
            idle_cv_.notify_all();
            outcome = CancelOutcome::cancelled;
        } else if (job->request_cancel(reason)) {
            return CancelOutcome::cancelling;
        } else {
            return CancelOutcome::already_finished;
        }
    }
    notify_observer();
    return outcome;
}

void JobQueue::begin_drain(const std::string &reason) {
    {
        std::lock_guard lock(mutex_);
        draining_ = true;
        for (auto &job : pending_) {
            job->finish_cancelled(reason);
            job_finished(job);
        }
        pending_.clear();
        idle_cv_.notify_all();
    }
    notify_observer();
}

void JobQueue::cancel_running(const std::string &reason) {
    std::lock_guard lock(mutex_);
    for (auto &job : running_) job->request_cancel(reason);
}

bool JobQueue::wait_idle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return idle_cv_.wait_for(lock, timeout,
                             [this] { return pending_.empty() && running_.empty(); });
}

void JobQueue::shutdown() {
    std::vector<std::thread> workers;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        draining_ = true;
        for (auto &job : pending_) {
            job->finish_cancelled("server shutting down");
            job_finished(job);
        }
        pending_.clear();
        for (auto &job : running_) job->request_cancel("server shutting down");
        workers.swap(workers_);
    }
    work_cv_.notify_all();
    idle_cv_.notify_all();
    for (auto &worker : workers)
        if (worker.joinable()) worker.join();
}

void JobQueue::worker_loop(std::shared_ptr<Generator> generator, std::string model_name) {
    for (;;) {
        JobPtr job;
        std::optional<GenerationRequest> request;
        {
            std::unique_lock lock(mutex_);
            work_cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
            if (stopping_) return;
            job = pending_.front();
            pending_.pop_front();
            request = job->start_running();
            running_.push_back(job);
            publish_positions_from(0);
        }
        notify_observer();
        const bool ran = request.has_value();
        if (ran && options_.metrics)
            options_.metrics->observe_queue_wait(seconds(job->started_steady() - job->created_steady()));

        auto started = Clock::now();
        if (request) run_job(*generator, model_name, job, std::move(*request));
        if (!is_terminal(job->state()))
            job->fail({"internal_error", "the job ended without a result", ""});
        if (ran && options_.metrics)
            options_.metrics->observe_job(seconds(job->finished_steady() - job->started_steady()));

        {
            std::lock_guard lock(mutex_);
            std::erase(running_, job);
            double ms = milliseconds_since(started);
            average_job_ms_ = average_job_ms_ == 0 ? ms : 0.8 * average_job_ms_ + 0.2 * ms;
            if (job->state() == JobState::completed && job->work() > 0) {
                double per_work = ms / job->work();
                ms_per_work_ = ms_per_work_ == 0 ? per_work : 0.8 * ms_per_work_ + 0.2 * per_work;
            }
            job_finished(job);
            evict_locked(Clock::now());
            idle_cv_.notify_all();
        }
        notify_observer();
    }
}

void JobQueue::run_job(Generator &generator, const std::string &model_name, const JobPtr &job,
                       GenerationRequest request) {
    GenerationCallbacks callbacks;
    callbacks.on_step = [&job](int step, int total) { job->record_progress(step, total); };
    callbacks.should_cancel = [&job] { return job->cancel_requested(); };
    // Live previews: the latents mapped to RGB on this worker thread, throttled.
    PreviewThrottle previews(request.preview_every, kMinPreviewInterval);
    const LatentFormat latent_format =
        request.preview_every > 0 ? generator.describe().latent_format : LatentFormat::sd;
    if (request.preview_every > 0) {
        callbacks.on_latents = [&](int step, const std::vector<int64_t> &shape, const float *latents) {
            if (!previews.due(step, PreviewThrottle::Clock::now())) return;
            if (auto image = latent_preview_image(latent_format, shape, latents))
                job->publish_preview(step, *image);
        };
    }
    StepTimer step_timer(options_.metrics.get());
    step_timer.attach(callbacks);
    try {
        if (job->cancel_requested()) throw GenerationCancelled();
        GenerationResult result = generator.generate(request, callbacks);
        step_timer.generation_returned(result.timings_ms);

        // PNG encoding is CPU work too: it belongs here, not on an I/O thread.
        auto encode_start = Clock::now();
        std::vector<JobImage> images;
        json images_json = json::array();
        for (size_t i = 0; i < result.images.size(); ++i) {
            const GeneratedImage &generated = result.images[i];
            std::map<std::string, std::string> text{
                {"parameters", generation_parameters_text(request, generated.seed, model_name)}};
            auto png = std::make_shared<const std::vector<uint8_t>>(
                encode_png(generated.image, text));
            images_json.push_back({{"index", i},
                                   {"seed", generated.seed},
                                   {"width", generated.image.width},
                                   {"height", generated.image.height},
                                   {"url", job_image_url(job->id(), i)},
                                   {"png_base64", base64_encode(*png)}});
            images.push_back({generated.seed, generated.image.width, generated.image.height, png});
            if (!options_.output_dir.empty()) save_output(job->id(), i, *png);
        }
        auto timings = result.timings_ms;
        timings["encode_png"] = milliseconds_since(encode_start);
        json event{{"images", std::move(images_json)},
                   {"seed", request.seed},
                   {"timings_ms", timings}};
        job->complete(std::move(images), std::move(timings), event.dump());
    } catch (const GenerationCancelled &) {
        job->finish_cancelled("");
    } catch (const GenerationInvalid &e) {
        job->fail({"invalid_request", e.what(), e.field});
    } catch (const std::exception &e) {
        // A plugin stopped inside a call may report the stop as an error; once the job
        // was asked to stop, stopping is what the client asked for, not a failure.
        if (job->cancel_requested()) job->finish_cancelled("");
        else job->fail({"generation_failed", e.what(), ""});
    } catch (...) {
        if (job->cancel_requested()) job->finish_cancelled("");
        else job->fail({"generation_failed", "unknown exception from the generator", ""});
    }
}

void JobQueue::save_output(const std::string &job_id, size_t index,
                           const std::vector<uint8_t> &png) {
    auto path = std::filesystem::path(options_.output_dir) /
                (job_id + "_" + std::to_string(index) + ".png");
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char *>(png.data()), static_cast<std::streamsize>(png.size()));
    file.close();
    // Not the job's failure: its images are served over HTTP all the same.
    if (!file) log_warn("cannot write " + path.string());
}

size_t JobQueue::retained_bytes(const Job &job) {
    // Each PNG, and its base64 (4/3 the size) in the completed event kept for replay.
    size_t bytes = 0;
    for (const JobImage &image : job.snapshot().images)
        if (image.png) bytes += image.png->size() + (image.png->size() + 2) / 3 * 4;
    return bytes;
}

void JobQueue::job_finished(const JobPtr &job) {
    const JobState state = job->state();
    switch (state) {
    case JobState::completed: ++completed_; break;
    case JobState::failed: ++failed_; break;
    case JobState::cancelled: ++cancelled_; break;
    default: break;
    }
    if (options_.metrics && is_terminal(state)) options_.metrics->count_job(to_string(state));
    finished_.push_back(job);
    retained_bytes_ += retained_bytes(*job);
}

void JobQueue::publish_positions_from(size_t index) {
    for (size_t i = index; i < pending_.size(); ++i)
        pending_[i]->events().append("queued", json{{"queue_position", i + 1}}.dump());
}

void JobQueue::evict_expired() {
    std::lock_guard lock(mutex_);
    evict_locked(Clock::now());
}

void JobQueue::evict_locked(Clock::time_point now) {
    while (!finished_.empty()) {
        const JobPtr &oldest = finished_.front();
        bool too_many = finished_.size() > options_.max_retained;
        bool too_big = retained_bytes_ > options_.max_retained_bytes && finished_.size() > 1;
        bool expired = now - oldest->finished_steady() >= options_.retention;
        if (!too_many && !too_big && !expired) break;
        retained_bytes_ -= retained_bytes(*oldest);
        jobs_.erase(oldest->id());
        finished_.pop_front();
    }
}

QueueStats JobQueue::stats_locked() const {
    QueueStats s;
    s.ready = ready_;
    s.draining = draining_;
    s.queued = pending_.size();
    s.running = running_.size();
    s.capacity = options_.capacity;
    s.workers = workers_.size();
    s.retained = finished_.size();
    s.completed = completed_;
    s.failed = failed_;
    s.cancelled = cancelled_;
    return s;
}

QueueStats JobQueue::stats() const {
    std::lock_guard lock(mutex_);
    return stats_locked();
}

std::chrono::seconds JobQueue::retry_after() const {
    // A full queue has room again as soon as any running job ends (the next queued one
    // starts): the soonest end, from each running job's own pace once it has stepped,
    // else from its size at the time per pixel-step finished jobs took.
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    double soonest_ms = running_.empty() ? 0 : std::numeric_limits<double>::infinity();
    for (const JobPtr &job : running_) {
        const JobSnapshot s = job->snapshot();
        const double elapsed_ms = std::chrono::duration<double, std::milli>(now - job->started_steady()).count();
        double remaining_ms;
        if (s.step > 0 && s.total > 0) remaining_ms = elapsed_ms / s.step * (s.total - s.step);
        else if (ms_per_work_ > 0) remaining_ms = ms_per_work_ * job->work() - elapsed_ms;
        else remaining_ms = average_job_ms_ - elapsed_ms;
        soonest_ms = std::min(soonest_ms, std::max(0.0, remaining_ms));
    }
    const double seconds = std::ceil(soonest_ms / 1000.0);
    return std::chrono::seconds(static_cast<long>(std::clamp(seconds, 1.0, 300.0)));
}

std::vector<JobPtr> JobQueue::running_jobs() const {
    std::lock_guard lock(mutex_);
    return running_;
}

std::vector<JobPtr> JobQueue::recent_jobs() const {
    std::vector<JobPtr> jobs;
    {
        std::lock_guard lock(mutex_);
        jobs.reserve(jobs_.size());
        for (const auto &entry : jobs_) jobs.push_back(entry.second);
    }
    std::sort(jobs.begin(), jobs.end(), [](const JobPtr &a, const JobPtr &b) {
        if (a->created_steady() != b->created_steady()) return a->created_steady() > b->created_steady();
        return a->id() > b->id();
    });
    return jobs;
}

void JobQueue::set_observer(std::function<void(const QueueStats &)> observer) {
    std::lock_guard lock(observer_mutex_);
    observer_ = std::move(observer);
}

void JobQueue::notify_observer() {
    QueueStats s = stats();
    std::lock_guard lock(observer_mutex_);
    if (observer_) observer_(s);
}

}  // namespace sdw
