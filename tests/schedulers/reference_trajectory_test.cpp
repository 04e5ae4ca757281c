// The first steps of the golden txt2img trajectories (tiny-sd, seed 42, step_latents), checked
// without running the UNet.
//
// All these cases start from the same latents, torch.randn(1, 4, 8, 8) of seed 42 (also in
// torch_rng.safetensors), and ddim, pndm, euler, euler_a and lms evaluate the UNet first at
// t = 831 on the same input (the sigma schedulers scale x * init_noise_sigma back by
// 1 / (sigma**2 + 1) ** 0.5, which returns x to within a rounding). So the guided model output
// of that first call is one tensor, eps_0, and DDIM's deterministic update lets the test solve
// for it from DDIM's first golden step:
//   x_1 = sqrt(a_prev / a) * x_0 + (sqrt(1 - a_prev) - sqrt(a_prev * (1 - a) / a)) * eps.
// Feeding eps_0 to the other schedulers must then give their own golden first steps. PNDM's
// second call (t = 665 again, on a sample equal to DDIM's x_1) sees DDIM's second model output
// eps_1, solved the same way from DDIM's second step, which checks PLMS's averaging step too.
// The remaining differences are the UNet's response to inputs equal up to float32 rounding:
// about 5e-6 rms in the model output (measured, with no component along eps or x), which the
// steps scale by |sigma_next - sigma| ~ 3 to 10.
#include <cmath>
#include <cstdio>

#include <gtest/gtest.h>

#include "rng/cpu_generator.h"
#include "scheduler_fixtures.h"
#include "schedulers/scheduler.h"

namespace sdw {
namespace {

constexpr size_t kLatentSize = 4 * 8 * 8;
// Absolute bound on latents of magnitude up to ~40; the UNet noise above reaches 7e-5, while a
// wrong formula, sigma or timestep misses by 1e-2 to 1.
constexpr double kTolerance = 2e-4;

// Reports the error so that a drift towards the bound is visible in the test log.
double reported_diff(const std::vector<float>& got, const std::vector<float>& golden, const char* what) {
    const double d = test::max_abs_diff(got, golden);
    std::printf("    %s: max |got - golden| = %.3g\n", what, d);
    return d;
}

std::vector<float> step_latents(const std::string& case_name, size_t step) {
    const std::vector<float> all = test::read_f32(test::tiny_sd_pipelines().at(case_name + ".step_latents"));
    return std::vector<float>(all.begin() + static_cast<std::ptrdiff_t>(step * kLatentSize),
                              all.begin() + static_cast<std::ptrdiff_t>((step + 1) * kLatentSize));
}

std::vector<float> initial_latents() {
    return test::read_f32(test::torch_rng_golden().at("cpu.seed42.randn_1x4x8x8"));
}

// The model output that takes x_t at timestep t to x_prev at prev_t under deterministic DDIM.
std::vector<float> solve_ddim_model_output(const std::vector<float>& x_t, const std::vector<float>& x_prev,
                                           int t, int prev_t) {
    const std::vector<double> ac = test::sd_alphas_cumprod_f64();
    const double a = ac[static_cast<size_t>(t)], ap = ac[static_cast<size_t>(prev_t)];
    const double c_x = std::sqrt(ap / a);
    const double c_eps = std::sqrt(1 - ap) - std::sqrt(ap * (1 - a) / a);
    std::vector<float> eps(x_t.size());
    for (size_t i = 0; i < eps.size(); ++i)
        eps[i] = static_cast<float>((static_cast<double>(x_prev[i]) - c_x * x_t[i]) / c_eps);
    return eps;
}

std::vector<float> eps0() {
    return solve_ddim_model_output(initial_latents(), step_latents("txt2img.ddim", 0), 831, 665);
}

std::vector<float> eps1() {
    return solve_ddim_model_output(step_latents("txt2img.ddim", 0), step_latents("txt2img.ddim", 1), 665, 499);
}

const NoiseFn kNoNoise = [](float*, size_t) { FAIL() << "this scheduler must not draw noise"; };

std::unique_ptr<Scheduler> scheduler_for(const std::string& case_name) {
    const nlohmann::json& c = test::tiny_sd_case(case_name);
    SchedulerOptions options;
    options.config_overrides = c.value("scheduler_kwargs", nlohmann::json::object());
    auto s = make_scheduler(c.at("scheduler").get<std::string>(), test::tiny_sd_scheduler_config(), options);
    s->set_timesteps(c.at("steps").get<int>());
    return s;
}

// The pipeline's first iteration: latents = x_T * init_noise_sigma, scale, step.
std::vector<float> first_step(Scheduler& s, const std::vector<float>& eps, const NoiseFn& noise) {
    std::vector<float> latents = initial_latents();
    const float sigma = s.init_noise_sigma();
    for (float& v : latents) v = v * sigma;
    std::vector<float> model_input = latents;
    s.scale_model_input(model_input.data(), model_input.size(), 0);
    s.step(eps.data(), 0, latents.data(), latents.size(), noise);
    return latents;
}

TEST(ReferenceTrajectory, InitialLatentsAreTheSeed42Draw) {
    std::vector<float> drawn(kLatentSize);
    CpuGenerator(42).randn(drawn.data(), drawn.size());
    EXPECT_EQ(drawn, initial_latents());
}

TEST(ReferenceTrajectory, DdimFirstStepReproducesItself) {
    // Consistency of the solved eps_0 with this implementation's DDIM update.
    auto ddim = scheduler_for("txt2img.ddim");
    EXPECT_LT(reported_diff(first_step(*ddim, eps0(), kNoNoise), step_latents("txt2img.ddim", 0), "ddim"), 2e-6);
}

TEST(ReferenceTrajectory, EulerFirstStep) {
    auto euler = scheduler_for("txt2img.euler");
    const std::vector<float> got = first_step(*euler, eps0(), kNoNoise);
    const std::vector<float> golden = step_latents("txt2img.euler", 0);
    EXPECT_LT(reported_diff(got, golden, "euler"), kTolerance);
    // The trajectories differ, so the comparison means something.
    EXPECT_GT(test::max_abs_diff(golden, step_latents("txt2img.ddim", 0)), 1.0);
}

TEST(ReferenceTrajectory, LmsFirstStep) {
    auto lms = scheduler_for("txt2img.lms");
    EXPECT_LT(reported_diff(first_step(*lms, eps0(), kNoNoise), step_latents("txt2img.lms", 0), "lms"), kTolerance);
}

TEST(ReferenceTrajectory, EulerAncestralFirstStepWithTheGeneratorsNextDraw) {
    CpuGenerator rng(42);
    std::vector<float> x_t(kLatentSize);
    rng.randn(x_t.data(), x_t.size());  // the initial latents
    int draws = 0;
    const NoiseFn noise = [&](float* out, size_t n) {
        ++draws;
        EXPECT_EQ(n, kLatentSize);
        rng.randn(out, n);
    };
    auto euler_a = scheduler_for("txt2img.euler_a");
    const std::vector<float> got = first_step(*euler_a, eps0(), noise);
    EXPECT_EQ(draws, 1);
    EXPECT_LT(reported_diff(got, step_latents("txt2img.euler_a", 0), "euler_a"), kTolerance);
}

TEST(ReferenceTrajectory, PndmFirstTwoCalls) {
    auto pndm = scheduler_for("txt2img.pndm");
    std::vector<float> latents = initial_latents();
    ASSERT_EQ(pndm->init_noise_sigma(), 1.0f);
    const std::vector<float> e0 = eps0();
    const std::vector<float> e1 = eps1();
    pndm->step(e0.data(), 0, latents.data(), latents.size(), kNoNoise);
    EXPECT_LT(reported_diff(latents, step_latents("txt2img.pndm", 0), "pndm call 1"), kTolerance);
    // Second call at t = 665 again: (eps_1 + eps_0) / 2 applied from the first call's sample.
    pndm->step(e1.data(), 1, latents.data(), latents.size(), kNoNoise);
    EXPECT_LT(reported_diff(latents, step_latents("txt2img.pndm", 1), "pndm call 2"), kTolerance);
}

}  // namespace
}  // namespace sdw
