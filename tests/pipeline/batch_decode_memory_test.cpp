// A batch of images is decoded one image at a time, so a backend that can hold the
// decoder's activations for one full-size image only (eight 2048x2048 images at once
// would need tens of GB) still returns every image of the batch.
#include "pipeline/generator_factory.h"

#include <gtest/gtest.h>

namespace sdw {
namespace {

TEST(BatchDecode, ABackendThatDecodesOneImageAtATimeServesABatch) {
    GeneratorConfig config;
    config.plugin = std::string(SDW_PLUGIN_DIR) + "/libsdw_test_arith.so";
    config.plugin_options_json = R"({"max_decode_batch": 1})";
    config.model_path = std::string(SDW_TEST_FIXTURES) + "/models/tiny-sd";
    std::unique_ptr<Generator> generator = make_generator(config);

    GenerationRequest request;
    request.prompt = "a cat";
    request.steps = 2;
    request.num_images = 3;
    request.width = request.height = 64;
    const GenerationResult result = generator->generate(request, {});
    ASSERT_EQ(result.images.size(), 3u);
    for (const auto &image : result.images) {
        EXPECT_EQ(image.image.width, 64);
        EXPECT_EQ(image.image.height, 64);
    }
}

}  // namespace
}  // namespace sdw
