// PlannedComponent: plans made once per signature (prepare, or the first run with new
// shapes), replayed with new input values, bounded in number, usable after a cancelled
// run; the text encoder's outputs and clip_skip are part of its signature.
#include "component_fixture.h"

#include <gtest/gtest.h>

namespace sdw::nn::test {
namespace {

constexpr double kTolerance = 1e-5;

class PlannedUnet : public ::testing::Test {
protected:
    void SetUp() override {
        files_ = std::make_unique<ComponentFiles>(ComponentFiles::open(fixtures_dir() + "/models/tiny-sd/unet"));
        unet_ = load_component(cpu_ops(), files_->desc("unet"));
        golden_ = std::make_unique<Golden>("tiny-sd");
    }

    std::vector<HostTensor> golden_inputs() const {
        return {{"sample", golden_->shape("unet.sample"), golden_->f32("unet.sample")},
                {"timestep", golden_->shape("unet.timesteps"), golden_->f32("unet.timesteps")},
                {"encoder_hidden_states", golden_->shape("unet.encoder_hidden_states"),
                 golden_->f32("unet.encoder_hidden_states")}};
    }

    // The UNet on a constant latent of h x w (batch 1), at timestep t.
    std::vector<float> run_at(int64_t h, int64_t w, float t = 500.0f) {
        const std::vector<int64_t> context_shape = golden_->shape("unet.encoder_hidden_states");
        std::vector<float> context = golden_->f32("unet.encoder_hidden_states");
        context.resize(static_cast<size_t>(context_shape[1] * context_shape[2]));
        std::vector<HostTensor> inputs{{"sample", {1, 4, h, w}, std::vector<float>(static_cast<size_t>(4 * h * w), 0.3f)},
                                       {"timestep", {1}, {t}},
                                       {"encoder_hidden_states", {1, context_shape[1], context_shape[2]}, context}};
        std::vector<HostTensor> outputs{{"noise_pred", {1, 4, h, w}}};
        run(*unet_, inputs, outputs);
        return outputs[0].values;
    }

    std::unique_ptr<ComponentFiles> files_;
    std::unique_ptr<PlannedComponent> unet_;
    std::unique_ptr<Golden> golden_;
};

TEST_F(PlannedUnet, PreparedShapesArePlannedOnceAndReplayedWithNewValues) {
    std::vector<HostTensor> inputs = golden_inputs();
    std::vector<sdw_tensor_view> views;
    for (HostTensor &t : inputs) views.push_back(t.view());
    for (sdw_tensor_view &v : views) v.data = nullptr;  // prepare announces shapes only
    unet_->prepare(views);
    EXPECT_EQ(unet_->plan_count(), 1u);

    std::vector<HostTensor> outputs{{"noise_pred", golden_->shape("unet.out")}};
    run(*unet_, inputs, outputs);
    EXPECT_EQ(unet_->plan_count(), 1u) << "the run did not use the prepared plan";
    EXPECT_LT(relative_l2(outputs[0].values, golden_->f32("unet.out")), kTolerance);

    // Other values through the same plan give other, correct outputs; then the first again.
    const std::vector<float> at_500 = run_at(8, 8, 500.0f);
    const std::vector<float> at_20 = run_at(8, 8, 20.0f);
    EXPECT_NE(at_500, at_20) << "a replay kept the first run's timestep";
    EXPECT_EQ(run_at(8, 8, 500.0f), at_500);
    run(*unet_, inputs, outputs);
    EXPECT_LT(relative_l2(outputs[0].values, golden_->f32("unet.out")), kTolerance);
    EXPECT_EQ(unet_->plan_count(), 2u) << "batch 2 (golden) and batch 1 at 8x8";
}

TEST_F(PlannedUnet, PlansAreBoundedDroppingTheLeastRecentlyUsed) {
    const std::vector<float> first = run_at(8, 8);
    for (int64_t w = 9; w < 9 + static_cast<int64_t>(PlannedComponent::kMaxPlans); ++w) run_at(8, w);
    EXPECT_EQ(unet_->plan_count(), PlannedComponent::kMaxPlans);
    // 8x8 was the oldest and was dropped; planning it again gives the same result.
    EXPECT_EQ(run_at(8, 8), first);
    EXPECT_EQ(unet_->plan_count(), PlannedComponent::kMaxPlans);
}

TEST_F(PlannedUnet, ACancelledRunLeavesThePlanUsable) {
    std::vector<HostTensor> inputs = golden_inputs();
    std::vector<HostTensor> outputs{{"noise_pred", golden_->shape("unet.out")}};
    RunOptions options;
    options.should_cancel = [] { return true; };
    try {
        run(*unet_, inputs, outputs, options);
        FAIL() << "expected cancellation";
    } catch (const Error &e) {
        EXPECT_EQ(e.status(), SDW_STATUS_CANCELLED);
    }
    run(*unet_, inputs, outputs);
    EXPECT_LT(relative_l2(outputs[0].values, golden_->f32("unet.out")), kTolerance);
    EXPECT_EQ(unet_->plan_count(), 1u);
}

TEST_F(PlannedUnet, AMisshapenOutputIsRefusedByName) {
    std::vector<HostTensor> inputs = golden_inputs();
    std::vector<int64_t> wrong = golden_->shape("unet.out");
    wrong[3] += 1;
    std::vector<HostTensor> outputs{{"noise_pred", wrong}};
    try {
        run(*unet_, inputs, outputs);
        FAIL() << "expected a refusal";
    } catch (const Error &e) {
        EXPECT_EQ(e.status(), SDW_STATUS_INVALID_ARGUMENT);
        EXPECT_NE(std::string(e.what()).find("output noise_pred must be F32"), std::string::npos) << e.what();
    }
}

TEST(PlannedTextEncoder, OutputsAndClipSkipArePartOfTheSignature) {
    ComponentFiles files = ComponentFiles::open(fixtures_dir() + "/models/tiny-sd/text_encoder");
    std::unique_ptr<PlannedComponent> encoder = load_component(cpu_ops(), files.desc("text_encoder"));
    Golden golden("tiny-sd");
    std::vector<int32_t> ids;
    for (float id : golden.f32("te.input_ids")) ids.push_back(static_cast<int32_t>(id));
    const std::vector<int64_t> ids_shape = golden.shape("te.input_ids");
    auto encode = [&](std::vector<HostTensor> &outputs, int clip_skip) {
        std::vector<sdw_tensor_view> in{make_view("input_ids", SDW_DTYPE_I32, ids_shape, ids.data())};
        std::vector<sdw_tensor_view> out;
        for (HostTensor &t : outputs) out.push_back(t.view());
        RunOptions options;
        options.clip_skip = clip_skip;
        encoder->run(in.data(), in.size(), out.data(), out.size(), options);
    };
    std::vector<HostTensor> last{{"last_hidden_state", golden.shape("te.last_hidden_state")}};
    encode(last, 1);
    encode(last, 2);  // no output depends on clip_skip: the same plan
    EXPECT_EQ(encoder->plan_count(), 1u);
    EXPECT_LT(relative_l2(last[0].values, golden.f32("te.last_hidden_state")), kTolerance);

    std::vector<HostTensor> hidden{{"hidden_state", golden.shape("te.last_hidden_state")}};
    encode(hidden, 1);
    std::vector<float> last_layer = hidden[0].values;
    encode(hidden, 2);
    EXPECT_EQ(encoder->plan_count(), 3u);
    EXPECT_NE(hidden[0].values, last_layer) << "clip_skip 2 gave the last layer";
}

}  // namespace
}  // namespace sdw::nn::test
