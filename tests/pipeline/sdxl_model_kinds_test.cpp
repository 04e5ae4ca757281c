// Which SDXL-style folders the generator factory takes, before any plugin is loaded: the
// base (two encoders, 6 time ids) and a refiner (the second encoder, 5 time ids with
// requires_aesthetics_score); a UNet whose time ids disagree with model_index.json is
// refused naming both, instead of a shape error in the plugin at the first job.
#include "pipeline/generator_factory.h"

#include "../model/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

namespace sdw {
namespace {

namespace fs = std::filesystem;

// A copy of fixture model `name` in `root` (components symlinked) with model_index.json's
// requires_aesthetics_score set to `flag`.
fs::path with_aesthetics_flag(const fs::path &root, const std::string &name, bool flag) {
    const fs::path source = fs::path(SDW_TEST_FIXTURES) / "models" / name;
    for (const auto &entry : fs::directory_iterator(source)) {
        if (entry.path().filename() == "model_index.json") continue;
        fs::create_directory_symlink(fs::canonical(entry.path()), root / entry.path().filename());
    }
    nlohmann::json index = nlohmann::json::parse(std::ifstream(source / "model_index.json"));
    index["requires_aesthetics_score"] = flag;
    std::ofstream(root / "model_index.json") << index.dump(1);
    return root;
}

std::string load_error(const fs::path &model) {
    GeneratorConfig config;
    config.plugin = std::string(SDW_PLUGIN_DIR) + "/libsdw_test_arith.so";
    config.model_path = model.string();
    try {
        make_generator(config);
    } catch (const std::exception &e) {
        return e.what();
    }
    return "(loaded)";
}

TEST(SdxlModelKinds, RefinerTimeIdsWithoutTheAestheticFlagAreRefusedAtLoad) {
    sdw_test::TempDir dir;
    const std::string message = load_error(with_aesthetics_flag(dir.path(), "tiny-sdxl-refiner", false));
    EXPECT_NE(message.find("the UNet takes 5 time ids"), std::string::npos) << message;
    EXPECT_NE(message.find("does not set requires_aesthetics_score"), std::string::npos) << message;
}

TEST(SdxlModelKinds, BaseTimeIdsWithTheAestheticFlagAreRefusedAtLoad) {
    sdw_test::TempDir dir;
    const std::string message = load_error(with_aesthetics_flag(dir.path(), "tiny-sdxl", true));
    EXPECT_NE(message.find("the UNet takes 6 time ids"), std::string::npos) << message;
    EXPECT_NE(message.find("sets requires_aesthetics_score"), std::string::npos) << message;
}

}  // namespace
}  // namespace sdw
