// Step arithmetic against the schedulers' closed forms, evaluated independently here in double
// precision (the implementation computes in float32 like torch, hence the relative tolerances).
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "scheduler_fixtures.h"
#include "schedulers/scheduler.h"

namespace sdw {
namespace {

constexpr size_t kN = 256;

std::vector<float> normals(uint32_t seed, size_t n = kN, float scale = 1.0f) {
    std::mt19937 engine(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> out(n);
    for (float& v : out) v = dist(engine);
    return out;
}

std::unique_ptr<Scheduler> make(const std::string& name, nlohmann::json overrides = nlohmann::json::object(),
                                double eta = 0.0) {
    SchedulerOptions options;
    options.config_overrides = std::move(overrides);
    options.eta = eta;
    return make_scheduler(name, test::tiny_sd_scheduler_config(), options);
}

const std::vector<double>& ac() {
    static const std::vector<double> table = test::sd_alphas_cumprod_f64();
    return table;
}
double alpha(double t) { return ac()[static_cast<size_t>(t)]; }
double sigma_of(double t) { return std::sqrt((1 - alpha(t)) / alpha(t)); }

void expect_close(const std::vector<float>& got, const std::vector<double>& want, double rel,
                  const std::string& what) {
    ASSERT_EQ(got.size(), want.size());
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i)
        worst = std::max(worst, std::abs(got[i] - want[i]) / std::max(1.0, std::abs(want[i])));
    EXPECT_LT(worst, rel) << what;
}

const NoiseFn kNoNoise = [](float*, size_t) { FAIL() << "this scheduler must not draw noise"; };

TEST(StepMath, DdimEtaZeroIsTheDeterministicUpdate) {
    auto ddim = make("ddim");
    ddim->set_timesteps(6);  // 831 665 499 333 167 1
    const std::vector<float> x = normals(1), eps = normals(2);
    for (int i : {2, 5}) {
        const double t = ddim->timesteps()[static_cast<size_t>(i)];
        const double a = alpha(t);
        // The last step has no previous timestep: set_alpha_to_one=false in the model config
        // makes the final alpha alphas_cumprod[0].
        const double ap = t - 166 >= 0 ? alpha(t - 166) : alpha(0);
        std::vector<double> want(kN);
        for (size_t k = 0; k < kN; ++k) {
            const double x0 = (x[k] - std::sqrt(1 - a) * eps[k]) / std::sqrt(a);
            want[k] = std::sqrt(ap) * x0 + std::sqrt(1 - ap) * eps[k];
        }
        std::vector<float> sample = x;
        ddim->step(eps.data(), i, sample.data(), kN, kNoNoise);
        expect_close(sample, want, 2e-5, "ddim step " + std::to_string(i));
    }
}

TEST(StepMath, DdimEtaAddsScaledNoise) {
    auto ddim = make("ddim", nlohmann::json::object(), 1.0);
    ddim->set_timesteps(6);
    const std::vector<float> x = normals(3), eps = normals(4), z = normals(5);
    int draws = 0;
    const NoiseFn noise = [&](float* out, size_t n) {
        ++draws;
        ASSERT_EQ(n, kN);
        std::copy(z.begin(), z.end(), out);
    };
    std::vector<float> sample = x;
    ddim->step(eps.data(), 1, sample.data(), kN, noise);  // 665 -> 499
    EXPECT_EQ(draws, 1);
    const double a = alpha(665), ap = alpha(499);
    const double variance = (1 - ap) / (1 - a) * (1 - a / ap);
    const double std_dev = std::sqrt(variance);
    std::vector<double> want(kN);
    for (size_t k = 0; k < kN; ++k) {
        const double x0 = (x[k] - std::sqrt(1 - a) * eps[k]) / std::sqrt(a);
        want[k] = std::sqrt(ap) * x0 + std::sqrt(1 - ap - variance) * eps[k] + std_dev * z[k];
    }
    expect_close(sample, want, 2e-5, "ddim eta=1");
}

TEST(StepMath, DdimVPredictionAndClipping) {
    auto ddim = make("ddim", {{"prediction_type", "v_prediction"}, {"clip_sample", true}});
    ddim->set_timesteps(6);
    const std::vector<float> x = normals(6, kN, 3.0f), v = normals(7);
    const double a = alpha(499), ap = alpha(333);
    std::vector<double> want(kN);
    for (size_t k = 0; k < kN; ++k) {
        const double x0 = std::clamp(std::sqrt(a) * x[k] - std::sqrt(1 - a) * v[k], -1.0, 1.0);
        const double e = std::sqrt(a) * v[k] + std::sqrt(1 - a) * x[k];
        want[k] = std::sqrt(ap) * x0 + std::sqrt(1 - ap) * e;
    }
    std::vector<float> sample = x;
    ddim->step(v.data(), 2, sample.data(), kN, kNoNoise);
    expect_close(sample, want, 2e-5, "ddim v_prediction");
}

TEST(StepMath, AlphaSchedulersAddNoise) {
    for (const char* name : {"ddim", "pndm", "lcm"}) {
        auto s = make(name);
        s->set_timesteps(name == std::string("lcm") ? 4 : 10);
        const std::vector<float> x = normals(8), z = normals(9);
        std::vector<float> out(kN);
        s->add_noise(x.data(), z.data(), 3, out.data(), kN);
        const double a = alpha(s->timesteps()[3]);
        std::vector<double> want(kN);
        for (size_t k = 0; k < kN; ++k) want[k] = std::sqrt(a) * x[k] + std::sqrt(1 - a) * z[k];
        expect_close(out, want, 2e-6, name);
    }
}

TEST(StepMath, EulerSigmasInitNoiseScalingAndAddNoise) {
    auto euler = make("euler");
    euler->set_timesteps(6);
    // "leading" spacing: init_noise_sigma = (sigma_max ** 2 + 1) ** 0.5 with sigma_max at t=831.
    const double sigma_max = sigma_of(831);
    EXPECT_NEAR(euler->init_noise_sigma(), std::sqrt(sigma_max * sigma_max + 1), 2e-6 * sigma_max);
    // "linspace" / "trailing": the largest sigma itself, at t=999.
    auto euler_linspace = make("euler", {{"timestep_spacing", "linspace"}});
    euler_linspace->set_timesteps(6);
    EXPECT_NEAR(euler_linspace->init_noise_sigma(), sigma_of(999), 2e-6 * sigma_of(999));

    const std::vector<float> x = normals(10);
    std::vector<float> scaled = x;
    euler->scale_model_input(scaled.data(), kN, 0);
    std::vector<double> want(kN);
    for (size_t k = 0; k < kN; ++k) want[k] = x[k] / std::sqrt(sigma_max * sigma_max + 1);
    expect_close(scaled, want, 2e-6, "scale_model_input");

    const std::vector<float> z = normals(11);
    std::vector<float> noisy(kN);
    euler->add_noise(x.data(), z.data(), 2, noisy.data(), kN);
    for (size_t k = 0; k < kN; ++k) want[k] = x[k] + z[k] * sigma_of(499);
    expect_close(noisy, want, 2e-6, "add_noise");
}

TEST(StepMath, EulerAncestralDrawsAtEveryStepIncludingTheLast) {
    auto euler_a = make("euler_a");
    euler_a->set_timesteps(6);
    std::vector<float> latents = normals(12);
    const std::vector<float> eps = normals(13);
    int draws = 0;
    std::vector<float> last_noise;
    const NoiseFn noise = [&](float* out, size_t n) {
        ++draws;
        last_noise = normals(100 + static_cast<uint32_t>(draws), n);
        std::copy(last_noise.begin(), last_noise.end(), out);
    };
    for (int i = 0; i < 5; ++i) euler_a->step(eps.data(), i, latents.data(), kN, noise);
    // Last step: sigma_to = 0 so sigma_up = sigma_down = 0 and prev = x0 = x - sigma * eps, but
    // the noise is still drawn.
    const double sigma = sigma_of(1);
    const std::vector<float> before = latents;
    euler_a->step(eps.data(), 5, latents.data(), kN, noise);
    EXPECT_EQ(draws, 6);
    std::vector<double> want(kN);
    for (size_t k = 0; k < kN; ++k) want[k] = before[k] - sigma * eps[k];
    expect_close(latents, want, 2e-5, "euler_a last step");
}

struct AlphaSigma {
    double alpha, sigma, lambda;
};
AlphaSigma dpm_terms(double sigma) {
    const double a = 1 / std::sqrt(sigma * sigma + 1);
    return {a, sigma * a, std::log(a) - std::log(sigma * a)};
}

TEST(StepMath, DpmSolverPlusPlusFirstAndSecondOrder) {
    auto dpm = make("dpmpp_2m");
    dpm->set_timesteps(6);  // 853 711 569 427 285 143, final sigma 0
    const std::vector<double> ts = dpm->timesteps();
    const std::vector<float> x = normals(14, kN, 14.0f), e0 = normals(15), e1 = normals(16), e5 = normals(17);

    std::vector<float> sample = x;
    dpm->step(e0.data(), 0, sample.data(), kN, kNoNoise);
    const AlphaSigma s0 = dpm_terms(sigma_of(ts[0])), s1 = dpm_terms(sigma_of(ts[1])),
                     s2 = dpm_terms(sigma_of(ts[2]));
    std::vector<double> x0_0(kN), want1(kN);
    for (size_t k = 0; k < kN; ++k) {
        x0_0[k] = (x[k] - s0.sigma * e0[k]) / s0.alpha;
        const double h = s1.lambda - s0.lambda;
        want1[k] = s1.sigma / s0.sigma * x[k] - s1.alpha * (std::exp(-h) - 1) * x0_0[k];
    }
    expect_close(sample, want1, 2e-5, "first order");

    const std::vector<float> x1 = sample;
    dpm->step(e1.data(), 1, sample.data(), kN, kNoNoise);
    std::vector<double> want2(kN);
    const double h = s2.lambda - s1.lambda, h0 = s1.lambda - s0.lambda, r0 = h0 / h;
    for (size_t k = 0; k < kN; ++k) {
        const double x0_1 = (x1[k] - s1.sigma * e1[k]) / s1.alpha;
        const double d1 = (x0_1 - x0_0[k]) / r0;
        want2[k] = s2.sigma / s1.sigma * x1[k] - s2.alpha * (std::exp(-h) - 1) * x0_1 -
                   0.5 * s2.alpha * (std::exp(-h) - 1) * d1;
    }
    expect_close(sample, want2, 2e-5, "second order midpoint");

    for (int i = 2; i < 5; ++i) dpm->step(e1.data(), i, sample.data(), kN, kNoNoise);
    // The last step goes to sigma 0 at first order: exactly the x0 prediction.
    const std::vector<float> x5 = sample;
    dpm->step(e5.data(), 5, sample.data(), kN, kNoNoise);
    const AlphaSigma s5 = dpm_terms(sigma_of(ts[5]));
    std::vector<double> want_last(kN);
    for (size_t k = 0; k < kN; ++k) want_last[k] = (x5[k] - s5.sigma * e5[k]) / s5.alpha;
    expect_close(sample, want_last, 2e-5, "final step");
}

TEST(StepMath, LmsUsesIntegratedLagrangeCoefficients) {
    auto lms = make("lms");
    lms->set_timesteps(6);
    std::vector<double> sig;
    for (double t : lms->timesteps()) sig.push_back(sigma_of(t));
    sig.push_back(0);
    const std::vector<float> x_init = normals(18, kN, 14.0f);
    std::vector<std::vector<float>> eps;
    for (uint32_t i = 0; i < 6; ++i) eps.push_back(normals(20 + i));

    // Simpson's rule is exact for the cubic (at most) Lagrange basis polynomials.
    auto coefficient = [&](int order, int t, int j) {
        auto basis = [&](double tau) {
            double p = 1;
            for (int k = 0; k < order; ++k)
                if (k != j) p *= (tau - sig[t - k]) / (sig[t - j] - sig[t - k]);
            return p;
        };
        const double a = sig[t], b = sig[t + 1];
        return (b - a) / 6 * (basis(a) + 4 * basis((a + b) / 2) + basis(b));
    };

    std::vector<float> sample = x_init;
    std::vector<double> reference(x_init.begin(), x_init.end());
    for (int i = 0; i < 6; ++i) {
        lms->step(eps[static_cast<size_t>(i)].data(), i, sample.data(), kN, kNoNoise);
        const int order = std::min(i + 1, 4);
        for (size_t k = 0; k < kN; ++k) {
            // With epsilon prediction the derivative is the model output itself.
            double sum = 0;
            for (int j = 0; j < order; ++j) sum += coefficient(order, i, j) * eps[static_cast<size_t>(i - j)][k];
            reference[k] += sum;
        }
        // Feed the reference forward so each step is checked on its own.
        expect_close(sample, reference, 5e-5, "lms step " + std::to_string(i));
        for (size_t k = 0; k < kN; ++k) sample[k] = static_cast<float>(reference[k]);
    }
}

TEST(StepMath, LcmBoundaryConditionAndNoise) {
    auto lcm = make("lcm");
    lcm->set_timesteps(4);  // 999 759 499 259
    const std::vector<float> x = normals(30), eps = normals(31), z = normals(32);
    int draws = 0;
    const NoiseFn noise = [&](float* out, size_t n) {
        ++draws;
        std::copy(z.begin(), z.begin() + static_cast<std::ptrdiff_t>(n), out);
    };
    auto denoised = [&](double t, size_t k) {
        const double a = alpha(t);
        const double s = t * 10.0;
        const double c_skip = 0.25 / (s * s + 0.25), c_out = s / std::sqrt(s * s + 0.25);
        const double x0 = (x[k] - std::sqrt(1 - a) * eps[k]) / std::sqrt(a);
        return c_out * x0 + c_skip * x[k];
    };
    std::vector<float> sample = x;
    lcm->step(eps.data(), 0, sample.data(), kN, noise);
    EXPECT_EQ(draws, 1);
    std::vector<double> want(kN);
    for (size_t k = 0; k < kN; ++k)
        want[k] = std::sqrt(alpha(759)) * denoised(999, k) + std::sqrt(1 - alpha(759)) * z[k];
    expect_close(sample, want, 2e-5, "lcm step 0");

    for (int i = 1; i < 3; ++i) {
        sample = x;
        lcm->step(eps.data(), i, sample.data(), kN, noise);
    }
    EXPECT_EQ(draws, 3);
    sample = x;
    lcm->step(eps.data(), 3, sample.data(), kN, noise);
    EXPECT_EQ(draws, 3) << "no noise at the last step";
    for (size_t k = 0; k < kN; ++k) want[k] = denoised(259, k);
    expect_close(sample, want, 2e-5, "lcm last step");
}

TEST(StepMath, PndmWithRungeKuttaWarmUp) {
    auto pndm = make("pndm", {{"skip_prk_steps", false}});
    pndm->set_timesteps(10);
    // _timesteps = 1, 101, ..., 901 (leading, offset 1); the warm-up evaluates the last four at
    // t and t + 50 and repeats the midpoints; PLMS then runs _timesteps[:-3] reversed.
    const std::vector<double> expected = {901, 851, 851, 801, 801, 751, 751, 701, 701, 651,
                                          651, 601, 601, 501, 401, 301, 201, 101, 1};
    EXPECT_EQ(pndm->timesteps(), expected);

    // First warm-up call: formula (9) of the PNDM paper from t = 901 to 851 with the raw output.
    const std::vector<float> x = normals(33), e = normals(34);
    std::vector<float> sample = x;
    pndm->step(e.data(), 0, sample.data(), kN, kNoNoise);
    const double a = alpha(901), ap = alpha(851);
    std::vector<double> want(kN);
    for (size_t k = 0; k < kN; ++k) {
        const double x0 = (x[k] - std::sqrt(1 - a) * e[k]) / std::sqrt(a);
        want[k] = std::sqrt(ap) * x0 + std::sqrt(1 - ap) * e[k];
    }
    expect_close(sample, want, 2e-5, "prk step 0");
    for (int i = 1; i < static_cast<int>(expected.size()); ++i) {
        pndm->step(e.data(), i, sample.data(), kN, kNoNoise);
        for (float v : sample) ASSERT_TRUE(std::isfinite(v)) << "step " << i;
    }
}

TEST(StepMath, BatchIsElementwise) {
    // Two latents stepped together equal each stepped alone (a single noise draw aside).
    const std::vector<float> a = normals(40), b = normals(41), ea = normals(42), eb = normals(43);
    for (const char* name : {"ddim", "pndm", "euler", "dpmpp_2m", "dpmpp_2m_karras", "lms"}) {
        auto both = make(name), one = make(name), two = make(name);
        for (auto* s : {both.get(), one.get(), two.get()}) s->set_timesteps(5);
        std::vector<float> batch(a), single_a(a), single_b(b);
        batch.insert(batch.end(), b.begin(), b.end());
        std::vector<float> eps(ea);
        eps.insert(eps.end(), eb.begin(), eb.end());
        for (int i = 0; i < static_cast<int>(both->timesteps().size()); ++i) {
            both->step(eps.data(), i, batch.data(), batch.size(), kNoNoise);
            one->step(ea.data(), i, single_a.data(), kN, kNoNoise);
            two->step(eb.data(), i, single_b.data(), kN, kNoNoise);
        }
        single_a.insert(single_a.end(), single_b.begin(), single_b.end());
        EXPECT_EQ(batch, single_a) << name;
    }
}

TEST(StepMath, StepIndicesMustFollowTheSchedule) {
    auto euler = make("euler");
    euler->set_timesteps(6);
    std::vector<float> x = normals(50);
    const std::vector<float> eps = normals(51);
    EXPECT_THROW(euler->step(eps.data(), 6, x.data(), kN, kNoNoise), std::out_of_range);
    euler->scale_model_input(x.data(), kN, 0);
    euler->step(eps.data(), 0, x.data(), kN, kNoNoise);
    EXPECT_THROW(euler->step(eps.data(), 0, x.data(), kN, kNoNoise), std::logic_error);

    // img2img: begin at index 2.
    euler->set_timesteps(6);
    euler->set_begin_index(2);
    EXPECT_THROW(euler->scale_model_input(x.data(), kN, 0), std::logic_error);
    euler->set_timesteps(6);
    euler->set_begin_index(2);
    euler->scale_model_input(x.data(), kN, 2);
    euler->step(eps.data(), 2, x.data(), kN, kNoNoise);
    euler->scale_model_input(x.data(), kN, 3);
}

}  // namespace
}  // namespace sdw
