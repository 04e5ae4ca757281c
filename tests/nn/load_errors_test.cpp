// Loading refuses a wrong checkpoint or config with a message naming the problem.
#include "component_fixture.h"

#include <gtest/gtest.h>

#include <cstring>

namespace sdw::nn::test {
namespace {

ComponentError load_error(const sdw_component_desc &desc) {
    try {
        load_component(cpu_ops(), desc);
    } catch (const ComponentError &e) {
        return e;
    }
    ADD_FAILURE() << "load_component succeeded";
    return ComponentError(SDW_STATUS_OK, "");
}

ComponentFiles open_component(const char *name) {
    return ComponentFiles::open(fixtures_dir() + "/models/tiny-sd/" + name);
}

void drop_weight(ComponentFiles &files, const char *name) {
    std::erase_if(files.views, [&](const sdw_tensor_view &v) { return std::strcmp(v.name, name) == 0; });
}

sdw_tensor_view &find_weight(ComponentFiles &files, const char *name) {
    for (sdw_tensor_view &v : files.views)
        if (std::strcmp(v.name, name) == 0) return v;
    throw std::runtime_error(std::string("fixture lacks ") + name);
}

TEST(LoadErrors, MissingUnetWeightIsNamedWithItsExpectedShape) {
    ComponentFiles files = open_component("unet");
    drop_weight(files, "down_blocks.0.resnets.0.conv1.weight");
    const ComponentError e = load_error(files.desc("unet"));
    EXPECT_EQ(e.status(), SDW_STATUS_INVALID_ARGUMENT);
    EXPECT_STREQ(e.what(), "unet: missing weight down_blocks.0.resnets.0.conv1.weight (expected [32, 32, 3, 3])");
}

TEST(LoadErrors, MisshapenVaeWeightIsNamedWithBothShapes) {
    ComponentFiles files = open_component("vae");
    sdw_tensor_view &w = find_weight(files, "decoder.conv_in.weight");  // [64, 4, 3, 3]
    w.shape[0] = 32;
    w.shape[1] = 8;
    const ComponentError e = load_error(files.desc("vae_decoder"));
    EXPECT_EQ(e.status(), SDW_STATUS_INVALID_ARGUMENT);
    EXPECT_STREQ(e.what(), "vae_decoder: weight decoder.conv_in.weight has shape [32, 8, 3, 3], expected [64, 4, 3, 3]");
}

TEST(LoadErrors, MissingTextEncoderLayerIsNamed) {
    ComponentFiles files = open_component("text_encoder");
    drop_weight(files, "encoder.layers.2.mlp.fc2.bias");
    const ComponentError e = load_error(files.desc("text_encoder"));
    EXPECT_EQ(e.status(), SDW_STATUS_INVALID_ARGUMENT);
    EXPECT_STREQ(e.what(), "text_encoder: missing weight encoder.layers.2.mlp.fc2.bias (expected [32])");
}

TEST(LoadErrors, TextEncoderTakesTheNamesWithoutTheTextModelPrefix) {
    // The ABI hands CLIP weights without "text_model." (the host strips it once, on
    // reading the model); names that still carry it are refused by the first one missing.
    ComponentFiles files = open_component("text_encoder");
    std::vector<std::string> prefixed;
    prefixed.reserve(files.views.size());
    for (sdw_tensor_view &v : files.views) {
        prefixed.push_back("text_model." + std::string(v.name));
        v.name = prefixed.back().c_str();
    }
    const ComponentError e = load_error(files.desc("text_encoder"));
    EXPECT_EQ(e.status(), SDW_STATUS_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("missing weight embeddings.token_embedding.weight"), std::string::npos)
        << e.what();
}

TEST(LoadErrors, UnknownKindIsUnsupported) {
    ComponentFiles files = open_component("unet");
    const ComponentError e = load_error(files.desc("controlnet"));
    EXPECT_EQ(e.status(), SDW_STATUS_UNSUPPORTED);
    EXPECT_NE(std::string(e.what()).find("controlnet"), std::string::npos);
}

TEST(LoadErrors, UnsupportedConfigFeatureIsNamed) {
    ComponentFiles files = open_component("unet");
    const std::string key = "\"resnet_time_scale_shift\": \"default\"";
    const size_t at = files.config.find(key);
    ASSERT_NE(at, std::string::npos);
    files.config.replace(at, key.size(), "\"resnet_time_scale_shift\": \"scale_shift\"");
    const ComponentError e = load_error(files.desc("unet"));
    EXPECT_EQ(e.status(), SDW_STATUS_UNSUPPORTED);
    EXPECT_NE(std::string(e.what()).find("resnet_time_scale_shift"), std::string::npos) << e.what();
}

TEST(LoadErrors, MalformedConfigIsInvalid) {
    ComponentFiles files = open_component("vae");
    files.config = "{ not json";
    EXPECT_EQ(load_error(files.desc("vae_decoder")).status(), SDW_STATUS_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace sdw::nn::test
