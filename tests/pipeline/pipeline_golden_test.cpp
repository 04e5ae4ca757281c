// Every reference generation of tiny-sd, tiny-sd-inpaint, sd-shapes, tiny-sdxl, the
// few-step tiny-sd-turbo and tiny-sdxl-turbo (tools/references/few_step.py) and the
// single-file tiny-ldm-* checkpoints (tools/references/single_file.py),
// reproduced on every golden plugin (golden_plugins.h): the latents after each step
// within float32 reordering noise of diffusers' trajectory (where the fixture has one; tiny-sdxl's does
// not), and the 8-bit image within one level of the reference's.
#include "golden_plugins.h"
#include "pipeline/generator_factory.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sdw::testing {
namespace {

Generator &generator_for(const GoldenPlugin &plugin, const std::string &model) {
    static PerPluginCache<Generator> cache;
    return cache.get(plugin, model, [](const GoldenPlugin &p, const std::string &m) {
        GeneratorConfig config;
        config.plugin = p.file;
        config.plugin_options_json = p.options_json;
        config.model_path = model_dir(m);
        config.tokenizers_dir = SDW_TOKENIZERS_DIR;  // for the single-file checkpoints
        return make_generator(config);
    });
}

double relative_l2(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; ++i) {
        num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
        den += double(b[i]) * b[i];
    }
    return std::sqrt(num / std::max(den, 1e-30));
}

class GoldenPipeline : public ::testing::TestWithParam<GoldenRun> {};

TEST_P(GoldenPipeline, MatchesDiffusers) {
    const GoldenRun &run = GetParam();
    const GoldenCase golden = find_golden_case(run.id);

    std::vector<std::vector<float>> trajectory;
    GenerationCallbacks callbacks;
    callbacks.on_latents = [&](int, const std::vector<int64_t> &shape, const float *latents) {
        size_t n = 1;
        for (int64_t d : shape) n *= d;
        trajectory.emplace_back(latents, latents + n);
    };
    int last_step = 0, total = 0;
    callbacks.on_step = [&](int step, int t) {
        EXPECT_EQ(step, last_step + 1);
        last_step = step;
        total = t;
    };
    const GenerationResult result =
        generator_for(run.plugin, run.id.model).generate(golden.request, callbacks);
    EXPECT_EQ(last_step, total);

    if (!golden.step_latents.empty()) {
        const size_t steps = static_cast<size_t>(golden.step_latents_shape.at(0));
        ASSERT_EQ(trajectory.size(), steps);
        const size_t per_step = golden.step_latents.size() / steps;
        for (size_t s = 0; s < steps; ++s) {
            ASSERT_EQ(trajectory[s].size(), per_step);
            EXPECT_LT(relative_l2(trajectory[s].data(), golden.step_latents.data() + s * per_step,
                                  per_step),
                      1e-4)
                << "latents after step " << s + 1;
        }
    }

    ASSERT_EQ(result.images.size(), static_cast<size_t>(golden.request.num_images));
    size_t offset = 0, off_by_one = 0;
    int worst = 0;
    for (const GeneratedImage &g : result.images) {
        const Image &img = g.image;
        for (size_t i = 0; i < img.pixels.size(); ++i) {
            const int expected = static_cast<int>(std::nearbyint(golden.image[offset + i] * 255.0f));
            const int diff = std::abs(expected - static_cast<int>(img.pixels[i]));
            worst = std::max(worst, diff);
            off_by_one += diff == 1;
        }
        offset += img.pixels.size();
    }
    EXPECT_EQ(offset, golden.image.size());
    EXPECT_LE(worst, 1) << "largest difference from the reference, in 8-bit levels";
    RecordProperty("pixels_off_by_one", static_cast<int>(off_by_one));
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenPipeline, ::testing::ValuesIn(all_golden_runs()),
                         [](const auto &param_info) { return golden_run_test_name(param_info.param); });

}  // namespace
}  // namespace sdw::testing
