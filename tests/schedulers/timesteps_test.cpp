// Every tiny-sd golden case: the scheduler built from the model's scheduler_config.json plus the
// case's options has exactly diffusers' timesteps (pipelines.safetensors "<case>.timesteps").
#include <gtest/gtest.h>

#include "scheduler_fixtures.h"
#include "schedulers/scheduler.h"

namespace sdw {
namespace {

using test::tiny_sd_case;

void expect_golden_timesteps(const std::string& case_name) {
    const nlohmann::json& c = tiny_sd_case(case_name);
    SchedulerOptions options;
    options.config_overrides = c.value("scheduler_kwargs", nlohmann::json::object());
    // dpmpp_2m_karras and pndm imply their kwargs; passing them again must agree.
    auto scheduler = make_scheduler(c.at("scheduler").get<std::string>(), test::tiny_sd_scheduler_config(), options);
    scheduler->set_timesteps(c.at("steps").get<int>());
    const std::vector<double> golden = test::read_f64(test::tiny_sd_pipelines().at(case_name + ".timesteps"));
    EXPECT_EQ(scheduler->timesteps(), golden) << case_name;
    for (size_t i = 0; i < golden.size(); ++i)
        EXPECT_EQ(scheduler->timestep_value(static_cast<int>(i)), golden[i]) << case_name << " index " << i;
}

TEST(SchedulerTimesteps, Ddim) { expect_golden_timesteps("txt2img.ddim"); }
TEST(SchedulerTimesteps, PndmSkipPrkHasOneMoreTimestepThanSteps) { expect_golden_timesteps("txt2img.pndm"); }
TEST(SchedulerTimesteps, Euler) { expect_golden_timesteps("txt2img.euler"); }
TEST(SchedulerTimesteps, EulerAncestral) { expect_golden_timesteps("txt2img.euler_a"); }
TEST(SchedulerTimesteps, DpmSolverLeadingUsesStepsPlusOne) { expect_golden_timesteps("txt2img.dpmpp_2m"); }
TEST(SchedulerTimesteps, DpmSolverKarras) { expect_golden_timesteps("txt2img.dpmpp_2m_karras"); }
TEST(SchedulerTimesteps, Lms) { expect_golden_timesteps("txt2img.lms"); }
TEST(SchedulerTimesteps, Lcm) { expect_golden_timesteps("txt2img.lcm"); }

TEST(SchedulerTimesteps, EveryGoldenCaseWithTimestepsIsCovered) {
    int covered = 0;
    for (const auto& c : test::tiny_sd_cases().at("cases")) {
        const std::string name = c.at("name");
        if (!test::tiny_sd_pipelines().find(name + ".timesteps")) continue;
        expect_golden_timesteps(name);
        ++covered;
    }
    EXPECT_EQ(covered, 8);
}

// Spacings the golden cases do not use, against numpy's arithmetic written out by hand.
TEST(SchedulerTimesteps, TrailingAndLinspaceSpacings) {
    SchedulerOptions trailing;
    trailing.config_overrides = {{"timestep_spacing", "trailing"}};
    auto ddim = make_scheduler("ddim", test::tiny_sd_scheduler_config(), trailing);
    ddim->set_timesteps(10);
    EXPECT_EQ(ddim->timesteps(), (std::vector<double>{999, 899, 799, 699, 599, 499, 399, 299, 199, 99}));
    // round(arange(1000, 0, -1000/6)) - 1: 1000, 833.3, 666.7, 500, 333.3, 166.7
    ddim->set_timesteps(6);
    EXPECT_EQ(ddim->timesteps(), (std::vector<double>{999, 832, 666, 499, 332, 166}));

    SchedulerOptions linspace;
    linspace.config_overrides = {{"timestep_spacing", "linspace"}};
    ddim = make_scheduler("ddim", test::tiny_sd_scheduler_config(), linspace);
    ddim->set_timesteps(10);
    EXPECT_EQ(ddim->timesteps(), (std::vector<double>{999, 888, 777, 666, 555, 444, 333, 222, 111, 0}));
    // Euler keeps the float32 linspace values unrounded: 999 * i / 6.
    auto euler = make_scheduler("euler", test::tiny_sd_scheduler_config(), linspace);
    euler->set_timesteps(7);
    const std::vector<double> expected = {999.0, 832.5, 666.0, 499.5, 333.0, 166.5, 0.0};
    EXPECT_EQ(euler->timesteps(), expected);
}

TEST(SchedulerTimesteps, ImgToImgStartIndexFollowsGetTimesteps) {
    auto ddim = make_scheduler("ddim", test::tiny_sd_scheduler_config(), {});
    ddim->set_timesteps(10);
    // init_timestep = int(10 * 0.6) = 6 -> t_start = 4 (the golden img2img cases).
    EXPECT_EQ(img2img_start_index(*ddim, 10, 0.6), 4);
    EXPECT_EQ(img2img_start_index(*ddim, 10, 0.6f), 4);
    // Python: int(10 * 0.7) = 7 (10 * 0.7 = 7.000000000000001); 0.7f is 0.699999988, whose
    // product would truncate to 6, so the float overload must widen as the user wrote it.
    EXPECT_EQ(img2img_start_index(*ddim, 10, 0.7), 3);
    EXPECT_EQ(img2img_start_index(*ddim, 10, 0.7f), 3);
    // Python: int(10 * 0.3) = int(3.0000000000000004) = 3 -> t_start 7.
    EXPECT_EQ(img2img_start_index(*ddim, 10, 0.3f), 7);
    EXPECT_EQ(img2img_start_index(*ddim, 10, 1.0f), 0);
    EXPECT_EQ(img2img_start_index(*ddim, 10, 0.0f), 10);
    EXPECT_THROW(img2img_start_index(*ddim, 10, 1.5), std::invalid_argument);
}

}  // namespace
}  // namespace sdw
