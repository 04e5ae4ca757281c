// v-prediction (SD 2.x 768 models) chosen by the model folder alone: a copy of tiny-sd whose
// scheduler/scheduler_config.json says prediction_type "v_prediction" runs through
// make_generator and the host pipeline like any model. The scheduler arithmetic has its own
// closed-form tests (tests/schedulers/step_math_test.cpp covers DDIM's); here the point is the
// whole path: config file -> pipeline -> scheduler, on real UNet outputs.
//
// Both models share the initial noise x (same seed) and, at the first step, the UNet's
// guided output m (same input, timestep and prompt). The first step is affine in (x, m) for
// either prediction type, so the epsilon run's latents give m, and from m the v-prediction
// run's latents follow in closed form; a scheduler that ignored the config's prediction type
// would miss by far more than float32 rounding.
#include "compat_support.h"
#include "pipeline/generator_factory.h"
#include "rng/cpu_generator.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

namespace sdw::compat {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kSeed = 1234;
constexpr int kSteps = 2;  // leading spacing, steps_offset 1: timesteps 501 and 1

// tiny-sd with its scheduler config edited, the other folders linked.
fs::path write_v_prediction_copy(const fs::path &dir) {
    const fs::path source = fixture_model("tiny-sd");
    const fs::path copy = dir / "tiny-sd-v";
    fs::create_directories(copy / "scheduler");
    for (const fs::directory_entry &entry : fs::directory_iterator(source))
        if (entry.path().filename() != "scheduler")
            fs::create_symlink(fs::absolute(entry.path()), copy / entry.path().filename());
    std::ifstream in(source / "scheduler" / "scheduler_config.json");
    nlohmann::json config = nlohmann::json::parse(in);
    config["prediction_type"] = "v_prediction";
    std::ofstream(copy / "scheduler" / "scheduler_config.json") << config.dump(2);
    return copy;
}

std::unique_ptr<Generator> load_generator(const fs::path &model) {
    GeneratorConfig config;
    config.plugin = std::string(SDW_PLUGIN_DIR) + "/libsdw_cpu_blas.so";
    config.model_path = model;
    return make_generator(config);
}

// The latents after the first step.
std::vector<float> first_step(Generator &generator, const std::string &scheduler) {
    GenerationRequest request;
    request.prompt = "a photo of a cat";
    request.negative_prompt = "blurry";
    request.width = request.height = 64;
    request.steps = kSteps;
    request.guidance_scale = 7.5f;
    request.seed = kSeed;
    request.scheduler = scheduler;
    std::vector<float> latents;
    GenerationCallbacks callbacks;
    callbacks.on_latents = [&](int step, const std::vector<int64_t> &shape, const float *values) {
        if (step != 1) return;
        size_t n = 1;
        for (int64_t d : shape) n *= static_cast<size_t>(d);
        latents.assign(values, values + n);
    };
    generator.generate(request, callbacks);
    return latents;
}

// alphas_cumprod of the scaled_linear schedule, in double.
std::vector<double> alphas_cumprod(const nlohmann::json &config) {
    EXPECT_EQ(config.at("beta_schedule"), "scaled_linear");
    const int n = config.at("num_train_timesteps");
    const double start = std::sqrt(config.at("beta_start").get<double>());
    const double end = std::sqrt(config.at("beta_end").get<double>());
    std::vector<double> out(static_cast<size_t>(n));
    double product = 1;
    for (int i = 0; i < n; ++i) {
        const double root = start + (end - start) * i / (n - 1);
        product *= 1 - root * root;
        out[static_cast<size_t>(i)] = product;
    }
    return out;
}

class VPrediction : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = std::make_unique<TempDir>();
        epsilon_ = load_generator(fixture_model("tiny-sd"));
        v_ = load_generator(write_v_prediction_copy(dir_->path()));
        std::ifstream in(fixture_model("tiny-sd") / "scheduler" / "scheduler_config.json");
        const nlohmann::json config = nlohmann::json::parse(in);
        EXPECT_EQ(config.at("prediction_type"), "epsilon");
        EXPECT_EQ(config.at("steps_offset"), 1);
        alphas_ = alphas_cumprod(config);
        noise_.resize(4 * 8 * 8);
        CpuGenerator(kSeed).randn(noise_.data(), noise_.size());  // the pipeline's first draw
    }
    static void TearDownTestSuite() {
        v_.reset();
        epsilon_.reset();
        dir_.reset();
    }

    static std::unique_ptr<TempDir> dir_;
    static std::unique_ptr<Generator> epsilon_, v_;
    static std::vector<double> alphas_;
    static std::vector<float> noise_;
};

std::unique_ptr<TempDir> VPrediction::dir_;
std::unique_ptr<Generator> VPrediction::epsilon_, VPrediction::v_;
std::vector<double> VPrediction::alphas_;
std::vector<float> VPrediction::noise_;

std::vector<float> to_float(const std::vector<double> &values) {
    return std::vector<float>(values.begin(), values.end());
}

TEST_F(VPrediction, DdimFirstStepFollowsTheVPredictionFormula) {
    const std::vector<float> eps_run = first_step(*epsilon_, "ddim");
    const std::vector<float> v_run = first_step(*v_, "ddim");
    ASSERT_EQ(eps_run.size(), noise_.size());
    ASSERT_EQ(v_run.size(), noise_.size());
    // DDIM (eta 0) from t = 501 to 1; x0 and eps from the model output m:
    //   epsilon:      x0 = (x - sqrt(1-a) m) / sqrt(a),   eps = m
    //   v_prediction: x0 = sqrt(a) x - sqrt(1-a) m,       eps = sqrt(a) m + sqrt(1-a) x
    //   next = sqrt(a') x0 + sqrt(1-a') eps
    const double a = alphas_[501], ap = alphas_[1];
    std::vector<double> expected(noise_.size());
    for (size_t k = 0; k < noise_.size(); ++k) {
        const double x = noise_[k];  // init_noise_sigma is 1 for DDIM
        const double m = (eps_run[k] - std::sqrt(ap) / std::sqrt(a) * x) /
                         (std::sqrt(1 - ap) - std::sqrt(ap) * std::sqrt(1 - a) / std::sqrt(a));
        const double x0 = std::sqrt(a) * x - std::sqrt(1 - a) * m;
        const double eps = std::sqrt(a) * m + std::sqrt(1 - a) * x;
        expected[k] = std::sqrt(ap) * x0 + std::sqrt(1 - ap) * eps;
    }
    const double miss = nn::test::relative_l2(v_run, to_float(expected));
    EXPECT_LT(miss, 1e-5);  // measured about 1e-6
    RecordProperty("relative_l2", std::to_string(miss));
    EXPECT_GT(nn::test::relative_l2(v_run, eps_run), 0.1);
}

TEST_F(VPrediction, EulerFirstStepFollowsTheVPredictionFormula) {
    // Not covered by the scheduler tests. Euler from sigma(501) to sigma(1), discrete
    // timesteps; the initial latents are x * sqrt(sigma_max^2 + 1) (leading spacing) and the
    // UNet sees them divided by sqrt(sigma^2 + 1):
    //   epsilon:      x0 = s - sigma m
    //   v_prediction: x0 = -m sigma / sqrt(sigma^2 + 1) + s / (sigma^2 + 1)
    //   next = s + (s - x0) / sigma * (sigma' - sigma)
    const std::vector<float> eps_run = first_step(*epsilon_, "euler");
    const std::vector<float> v_run = first_step(*v_, "euler");
    ASSERT_EQ(eps_run.size(), noise_.size());
    ASSERT_EQ(v_run.size(), noise_.size());
    const auto sigma_at = [&](size_t t) { return std::sqrt((1 - alphas_[t]) / alphas_[t]); };
    const double sigma = sigma_at(501), next = sigma_at(1), dt = next - sigma;
    const double init = std::sqrt(sigma * sigma + 1);
    std::vector<double> expected(noise_.size());
    for (size_t k = 0; k < noise_.size(); ++k) {
        const double s = noise_[k] * init;
        const double m = (eps_run[k] - s) / dt;  // epsilon: next = s + m dt
        const double x0 = -m * sigma / std::sqrt(sigma * sigma + 1) + s / (sigma * sigma + 1);
        expected[k] = s + (s - x0) / sigma * dt;
    }
    const double miss = nn::test::relative_l2(v_run, to_float(expected));
    EXPECT_LT(miss, 1e-5);  // measured about 1e-6
    RecordProperty("relative_l2", std::to_string(miss));
    EXPECT_GT(nn::test::relative_l2(v_run, eps_run), 0.1);
}

}  // namespace
}  // namespace sdw::compat
