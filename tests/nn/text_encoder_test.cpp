// CLIP text encoder against transformers' CLIPTextModel outputs.
#include "component_fixture.h"

#include <gtest/gtest.h>

namespace sdw::nn::test {
namespace {

constexpr double kTolerance = 1e-5;

class TextEncoderGolden : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        files_ = std::make_unique<ComponentFiles>(
            ComponentFiles::open(fixtures_dir() + "/models/" + GetParam() + "/text_encoder"));
        component_ = load_component(cpu_ops(), files_->desc("text_encoder"));
        golden_ = std::make_unique<Golden>(GetParam());
        for (float id : golden_->f32("te.input_ids")) ids_.push_back(static_cast<int32_t>(id));
        ids_shape_ = golden_->shape("te.input_ids");
    }

    void run_with(std::vector<HostTensor> &outputs, int clip_skip) {
        std::vector<sdw_tensor_view> in{make_view("input_ids", SDW_DTYPE_I32, ids_shape_, ids_.data())};
        std::vector<sdw_tensor_view> out;
        for (HostTensor &t : outputs) out.push_back(t.view());
        RunOptions options;
        options.clip_skip = clip_skip;
        component_->run(in.data(), in.size(), out.data(), out.size(), options);
    }

    std::unique_ptr<ComponentFiles> files_;
    std::unique_ptr<Component> component_;
    std::unique_ptr<Golden> golden_;
    std::vector<int32_t> ids_;
    std::vector<int64_t> ids_shape_;
};

TEST_P(TextEncoderGolden, LastHiddenStateAndPooledMatchTransformers) {
    std::vector<HostTensor> outputs{{"last_hidden_state", golden_->shape("te.last_hidden_state")},
                                    {"pooled", golden_->shape("te.pooled")}};
    run_with(outputs, 0);
    EXPECT_LT(relative_l2(outputs[0].values, golden_->f32("te.last_hidden_state")), kTolerance);
    EXPECT_LT(relative_l2(outputs[1].values, golden_->f32("te.pooled")), kTolerance);
}

TEST_P(TextEncoderGolden, ClipSkipTwoGivesThePenultimateLayerWithoutFinalNorm) {
    std::vector<HostTensor> outputs{{"hidden_state", golden_->shape("te.penultimate_hidden_state")}};
    run_with(outputs, 2);
    EXPECT_LT(relative_l2(outputs[0].values, golden_->f32("te.penultimate_hidden_state")), kTolerance);
}

TEST_P(TextEncoderGolden, NormedHiddenStateOfTheLastLayerIsTheLastHiddenState) {
    std::vector<HostTensor> outputs{{"hidden_state_normed", golden_->shape("te.last_hidden_state")},
                                    {"hidden_state", golden_->shape("te.last_hidden_state")}};
    run_with(outputs, 1);
    EXPECT_LT(relative_l2(outputs[0].values, golden_->f32("te.last_hidden_state")), kTolerance);
    // The raw last layer differs from the normed one: the norm is really skipped.
    EXPECT_GT(relative_l2(outputs[1].values, golden_->f32("te.last_hidden_state")), 0.1);
}

TEST_P(TextEncoderGolden, ClipSkipBeyondTheLayerCountIsRefused) {
    std::vector<HostTensor> outputs{{"hidden_state", golden_->shape("te.penultimate_hidden_state")}};
    try {
        run_with(outputs, 9);
        FAIL() << "expected a ComponentError";
    } catch (const ComponentError &e) {
        EXPECT_EQ(e.status(), SDW_STATUS_INVALID_ARGUMENT);
        EXPECT_NE(std::string(e.what()).find("clip_skip 9"), std::string::npos) << e.what();
    }
}

INSTANTIATE_TEST_SUITE_P(TinyModels, TextEncoderGolden, ::testing::Values("tiny-sd", "tiny-sd-inpaint"),
                         model_param_name);

}  // namespace
}  // namespace sdw::nn::test
