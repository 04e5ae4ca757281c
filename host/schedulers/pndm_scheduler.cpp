// PNDMScheduler (diffusers 0.40, schedulers/scheduling_pndm.py).
//
// - _timesteps (ascending int64): "linspace" round(linspace(0, T-1, n)); "leading"
//   arange(n) * (T // n) + steps_offset; "trailing" round(arange(T, 0, -T/n)) reversed - 1.
// - skip_prk_steps: timesteps = [_t[:-1], _t[-2], _t[-1]] reversed, i.e. n + 1 timesteps with
//   the second one repeated (831 665 665 499 ... for n = 6, leading, offset 1). Otherwise the
//   Runge-Kutta warm-up timesteps (prk_timesteps) come first, then _t[:-3] reversed.
// - step_plms: the linear multistep over the last model outputs `ets`, with the second call
//   re-using the first call's sample and averaging the two outputs; step_prk: the four-stage
//   warm-up. Each hands a combined model output to _get_prev_sample (formula (9) of the PNDM
//   paper), all in float32 one torch op at a time.
// - init_noise_sigma 1.0, scale_model_input identity, no set_begin_index, add_noise on
//   alphas_cumprod[t].
#include <algorithm>
#include <cmath>
#include <deque>

#include "schedulers/noise_schedule.h"
#include "schedulers/alpha_scheduler.h"

namespace sdw::sched {

nlohmann::json pndm_defaults() {
    return {{"num_train_timesteps", 1000}, {"beta_start", 0.0001},       {"beta_end", 0.02},
            {"beta_schedule", "linear"},   {"trained_betas", nullptr},   {"skip_prk_steps", false},
            {"set_alpha_to_one", false},   {"prediction_type", "epsilon"},
            {"timestep_spacing", "leading"}, {"steps_offset", 0}};
}

namespace {

class PndmScheduler final : public AlphaScheduler {
public:
    explicit PndmScheduler(const SchedulerConfig& cfg)
        : AlphaScheduler("PNDMScheduler", alphas_cumprod_of(make_betas(cfg, false)), cfg.flag("set_alpha_to_one")),
          train_steps_(cfg.integer("num_train_timesteps")),
          steps_offset_(cfg.integer("steps_offset")),
          spacing_(cfg.text("timestep_spacing")),
          skip_prk_(cfg.flag("skip_prk_steps")) {
        const std::string p = cfg.text("prediction_type");
        if (p != "epsilon" && p != "v_prediction")
            cfg.reject("prediction_type", "must be epsilon or v_prediction");
        v_prediction_ = p == "v_prediction";
        if (spacing_ != "linspace" && spacing_ != "leading" && spacing_ != "trailing")
            cfg.reject("timestep_spacing", "must be linspace, leading or trailing");
    }

    void set_timesteps(int steps) override {
        check_steps(steps, train_steps_);
        steps_ = steps;
        std::vector<int64_t> base;  // _timesteps, ascending
        if (spacing_ == "linspace") {
            for (double v : np_linspace(0, train_steps_ - 1, steps)) base.push_back(static_cast<int64_t>(np_round(v)));
        } else if (spacing_ == "leading") {
            for (double v : leading_grid(train_steps_, steps)) base.push_back(static_cast<int64_t>(v) + steps_offset_);
        } else {
            for (double v : trailing_grid(train_steps_, train_steps_, steps)) base.push_back(static_cast<int64_t>(v));
            std::reverse(base.begin(), base.end());
            for (int64_t& t : base) t -= 1;
        }

        prk_timesteps_.clear();
        std::vector<int64_t> plms;
        if (skip_prk_) {
            plms.assign(base.begin(), base.end() - 1);
            if (base.size() >= 2) plms.push_back(base[base.size() - 2]);
            plms.push_back(base.back());
            std::reverse(plms.begin(), plms.end());
        } else {
            const int order = 4;
            if (base.size() < static_cast<size_t>(order))
                throw std::invalid_argument("PNDMScheduler: PRK steps need at least 4 inference steps");
            // np.array(_t[-4:]).repeat(2) + np.tile([0, T // n // 2], 4)
            std::vector<int64_t> prk;
            const int64_t half = train_steps_ / steps / 2;
            for (size_t i = base.size() - order; i < base.size(); ++i) {
                prk.push_back(base[i]);
                prk.push_back(base[i] + half);
            }
            // (prk[:-1].repeat(2)[1:-1])[::-1]
            std::vector<int64_t> repeated;
            for (size_t i = 0; i + 1 < prk.size(); ++i) {
                repeated.push_back(prk[i]);
                repeated.push_back(prk[i]);
            }
            prk_timesteps_.assign(repeated.begin() + 1, repeated.end() - 1);
            std::reverse(prk_timesteps_.begin(), prk_timesteps_.end());
            plms.assign(base.begin(), base.end() - 3);
            std::reverse(plms.begin(), plms.end());
        }
        timesteps_.clear();
        for (int64_t t : prk_timesteps_) timesteps_.push_back(static_cast<double>(t));
        for (int64_t t : plms) timesteps_.push_back(static_cast<double>(t));
        ets_.clear();
        counter_ = 0;
        cur_model_output_.clear();
        cur_sample_.clear();
    }

    void set_begin_index(int) override {}
    void scale_model_input(float*, size_t, int step_index) override {
        check_index(step_index, timesteps_.size());
    }

    void step(const float* model_output, int step_index, float* sample, size_t n,
              const NoiseFn&) override {
        check_index(step_index, timesteps_.size());
        const auto t = static_cast<int64_t>(timesteps_[static_cast<size_t>(step_index)]);
        if (counter_ < static_cast<int>(prk_timesteps_.size()) && !skip_prk_)
            step_prk(model_output, t, sample, n);
        else
            step_plms(model_output, t, sample, n);
    }


private:
    using Buffer = std::vector<float>;

    void step_prk(const float* model_output, int64_t timestep, float* sample, size_t n) {
        const int64_t diff_to_prev = counter_ % 2 ? 0 : train_steps_ / steps_ / 2;
        const int64_t prev_timestep = timestep - diff_to_prev;
        timestep = prk_timesteps_[static_cast<size_t>(counter_ / 4 * 4)];
        // Python's 1 / 6 and 1 / 3, rounded to float32 by the tensor multiply.
        const auto sixth = static_cast<float>(1.0 / 6);
        const auto third = static_cast<float>(1.0 / 3);
        if (cur_model_output_.empty()) cur_model_output_.assign(n, 0.0f);  // the int 0
        Buffer combined;
        const float* used_output = model_output;
        if (counter_ % 4 == 0) {
            for (size_t i = 0; i < n; ++i) cur_model_output_[i] = cur_model_output_[i] + sixth * model_output[i];
            ets_.emplace_back(model_output, model_output + n);
            cur_sample_.assign(sample, sample + n);
        } else if ((counter_ - 1) % 4 == 0 || (counter_ - 2) % 4 == 0) {
            for (size_t i = 0; i < n; ++i) cur_model_output_[i] = cur_model_output_[i] + third * model_output[i];
        } else {
            combined.resize(n);
            for (size_t i = 0; i < n; ++i) combined[i] = cur_model_output_[i] + sixth * model_output[i];
            used_output = combined.data();
            std::fill(cur_model_output_.begin(), cur_model_output_.end(), 0.0f);
        }
        const Buffer cur = cur_sample_.empty() ? Buffer(sample, sample + n) : cur_sample_;
        prev_sample(cur.data(), timestep, prev_timestep, used_output, sample, n);
        ++counter_;
    }

    void step_plms(const float* model_output, int64_t timestep, float* sample, size_t n) {
        if (!skip_prk_ && ets_.size() < 3)
            throw std::logic_error("PNDMScheduler: PLMS steps need the PRK warm-up first");
        int64_t prev_timestep = timestep - train_steps_ / steps_;
        if (counter_ != 1) {
            while (ets_.size() > 3) ets_.pop_front();
            ets_.emplace_back(model_output, model_output + n);
        } else {
            prev_timestep = timestep;
            timestep = timestep + train_steps_ / steps_;
        }

        Buffer combined(n);
        Buffer first_sample;
        const float* x = sample;
        const size_t k = ets_.size();
        if (k == 1 && counter_ == 0) {
            std::copy(model_output, model_output + n, combined.begin());
            cur_sample_.assign(sample, sample + n);
        } else if (k == 1 && counter_ == 1) {
            const Buffer& e1 = ets_.back();
            for (size_t i = 0; i < n; ++i) combined[i] = (model_output[i] + e1[i]) / 2.0f;
            first_sample = std::move(cur_sample_);
            cur_sample_.clear();
            x = first_sample.data();
        } else if (k == 2) {
            const Buffer& e1 = ets_[k - 1];
            const Buffer& e2 = ets_[k - 2];
            for (size_t i = 0; i < n; ++i) combined[i] = (3.0f * e1[i] - e2[i]) / 2.0f;
        } else if (k == 3) {
            const Buffer& e1 = ets_[k - 1];
            const Buffer& e2 = ets_[k - 2];
            const Buffer& e3 = ets_[k - 3];
            for (size_t i = 0; i < n; ++i)
                combined[i] = (23.0f * e1[i] - 16.0f * e2[i] + 5.0f * e3[i]) / 12.0f;
        } else {
            const Buffer& e1 = ets_[k - 1];
            const Buffer& e2 = ets_[k - 2];
            const Buffer& e3 = ets_[k - 3];
            const Buffer& e4 = ets_[k - 4];
            const auto w = static_cast<float>(1.0 / 24);
            for (size_t i = 0; i < n; ++i)
                combined[i] = w * (55.0f * e1[i] - 59.0f * e2[i] + 37.0f * e3[i] - 9.0f * e4[i]);
        }
        prev_sample(x, timestep, prev_timestep, combined.data(), sample, n);
        ++counter_;
    }

    // _get_prev_sample: x_{t - delta} from x_t and the combined model output, float32.
    void prev_sample(const float* x, int64_t timestep, int64_t prev_timestep, const float* output,
                     float* out, size_t n) const {
        const float alpha_t = alpha_at(timestep);
        const float alpha_prev = prev_timestep >= 0 ? alpha_at(prev_timestep) : final_alpha_cumprod_;
        const float beta_t = 1.0f - alpha_t;
        const float beta_prev = 1.0f - alpha_prev;
        const float sample_coeff = std::sqrt(alpha_prev / alpha_t);
        const float denom = alpha_t * std::sqrt(beta_prev) + std::sqrt(alpha_t * beta_t * alpha_prev);
        const float alpha_diff = alpha_prev - alpha_t;
        const float sqrt_alpha_t = std::sqrt(alpha_t);
        const float sqrt_beta_t = std::sqrt(beta_t);
        for (size_t i = 0; i < n; ++i) {
            float m = output[i];
            const float xi = x[i];
            if (v_prediction_) m = sqrt_alpha_t * m + sqrt_beta_t * xi;
            out[i] = sample_coeff * xi - alpha_diff * m / denom;
        }
    }


    int train_steps_;
    int steps_offset_;
    std::string spacing_;
    bool skip_prk_;
    bool v_prediction_ = false;
    int steps_ = 0;
    std::vector<int64_t> prk_timesteps_;
    std::deque<Buffer> ets_;
    int counter_ = 0;
    Buffer cur_model_output_;
    Buffer cur_sample_;
};

}  // namespace

std::unique_ptr<Scheduler> make_pndm(const SchedulerConfig& cfg) {
    return std::make_unique<PndmScheduler>(cfg);
}

}  // namespace sdw::sched
