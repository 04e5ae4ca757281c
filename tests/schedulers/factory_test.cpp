// make_scheduler: names, from_config precedence, and the refusals a request can trigger.
#include <gtest/gtest.h>

#include "scheduler_fixtures.h"
#include "schedulers/scheduler.h"
#include "schedulers/scheduler_config.h"

namespace sdw {
namespace {

TEST(SchedulerFactory, EveryNameBuildsAndRuns) {
    EXPECT_EQ(scheduler_names(), (std::vector<std::string>{"ddim", "pndm", "euler", "euler_a", "dpmpp_2m",
                                                           "dpmpp_2m_karras", "lms", "lcm"}));
    for (const std::string& name : scheduler_names()) {
        auto s = make_scheduler(name, test::tiny_sd_scheduler_config(), {});
        s->set_timesteps(4);
        EXPECT_GE(s->timesteps().size(), 4u) << name;
        EXPECT_GT(s->init_noise_sigma(), 0.0f) << name;
        EXPECT_EQ(s->order(), 1) << name;
    }
}

TEST(SchedulerFactory, UnknownNameIsNamed) {
    try {
        make_scheduler("heun", test::tiny_sd_scheduler_config(), {});
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("heun"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("euler_a"), std::string::npos);
    }
}

TEST(SchedulerFactory, RefusesOptionsTheSchedulerDoesNotHave) {
    SchedulerOptions karras;
    karras.use_karras_sigmas = true;
    EXPECT_THROW(make_scheduler("ddim", test::tiny_sd_scheduler_config(), karras), std::invalid_argument);
    EXPECT_NO_THROW(make_scheduler("euler", test::tiny_sd_scheduler_config(), karras));
    EXPECT_NO_THROW(make_scheduler("lms", test::tiny_sd_scheduler_config(), karras));

    SchedulerOptions eta;
    eta.eta = 0.5;
    EXPECT_THROW(make_scheduler("euler", test::tiny_sd_scheduler_config(), eta), std::invalid_argument);
    EXPECT_NO_THROW(make_scheduler("ddim", test::tiny_sd_scheduler_config(), eta));

    SchedulerOptions unknown;
    unknown.config_overrides = {{"no_such_option", 1}};
    EXPECT_THROW(make_scheduler("dpmpp_2m", test::tiny_sd_scheduler_config(), unknown), std::invalid_argument);

    SchedulerOptions contradiction;
    contradiction.config_overrides = {{"use_karras_sigmas", false}};
    EXPECT_THROW(make_scheduler("dpmpp_2m_karras", test::tiny_sd_scheduler_config(), contradiction),
                 std::invalid_argument);
}

TEST(SchedulerFactory, RefusesUnsupportedFeaturesClearly) {
    nlohmann::json config = test::tiny_sd_scheduler_config();
    config["thresholding"] = true;
    try {
        make_scheduler("ddim", config, {});
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("thresholding"), std::string::npos) << e.what();
    }
    config = test::tiny_sd_scheduler_config();
    config["beta_schedule"] = "sigmoid";
    EXPECT_THROW(make_scheduler("euler", config, {}), std::invalid_argument);
    config = test::tiny_sd_scheduler_config();
    config["timestep_spacing"] = "uniform";
    EXPECT_THROW(make_scheduler("euler_a", config, {}), std::invalid_argument);
}

// Found by fuzz_model_config: 9072 training steps of linear betas drive alphas_cumprod
// below float's range, the training sigmas become infinite and DPM-Solver's Karras
// timesteps NaN (cast to int64: undefined). Every sigma scheduler refuses such a schedule.
TEST(SchedulerFactory, RefusesASigmaScheduleThatUnderflows) {
    nlohmann::json config = test::tiny_sd_scheduler_config();
    config["num_train_timesteps"] = 9072;
    config["beta_schedule"] = "linear";
    config["beta_start"] = 0.0001;
    config["beta_end"] = 0.02;
    for (const char* name : {"euler", "euler_a", "lms", "dpmpp_2m", "dpmpp_2m_karras"}) {
        try {
            make_scheduler(name, config, {})->set_timesteps(4);
            ADD_FAILURE() << name << " accepted the schedule";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("alphas_cumprod underflows"), std::string::npos) << e.what();
        }
    }
}

TEST(SchedulerConfigResolve, FromConfigPrecedence) {
    const nlohmann::json defaults = {{"beta_schedule", "linear"}, {"clip_sample", true}, {"steps_offset", 0},
                                     {"timestep_spacing", "linspace"}};
    const nlohmann::json model = {{"_class_name", "DDIMScheduler"},
                                  {"beta_schedule", "scaled_linear"},
                                  {"clip_sample", false},
                                  {"steps_offset", 1},
                                  {"set_alpha_to_one", false},  // not accepted: ignored
                                  {"_use_default_values", {"clip_sample"}}};
    const auto cfg = sched::SchedulerConfig::resolve("EulerDiscreteScheduler", defaults, model,
                                                     {{"timestep_spacing", "trailing"}});
    EXPECT_EQ(cfg.text("beta_schedule"), "scaled_linear");  // carried over from the model
    EXPECT_TRUE(cfg.flag("clip_sample"));                     // listed as a default: not carried
    EXPECT_EQ(cfg.integer("steps_offset"), 1);
    EXPECT_EQ(cfg.text("timestep_spacing"), "trailing");     // kwargs win
    EXPECT_FALSE(cfg.values().contains("set_alpha_to_one"));
}

TEST(SchedulerFactory, ModelConfigReachesEveryClass) {
    // The tiny-sd config is a DDIM config with "leading" spacing and steps_offset 1; classes
    // whose own default is "linspace" (Euler, LMS, DPM-Solver) must take them over.
    for (const char* name : {"euler", "euler_a", "lms"}) {
        auto s = make_scheduler(name, test::tiny_sd_scheduler_config(), {});
        s->set_timesteps(10);
        EXPECT_EQ(s->timesteps().front(), 901.0) << name;
        EXPECT_EQ(s->timesteps().back(), 1.0) << name;
    }
}

}  // namespace
}  // namespace sdw
