// Single-file (A1111 / LDM) checkpoints opened as models: on the tiny-ldm-* fixtures, every weight
// gets the name and shape diffusers' from_single_file gives it and every derived config value is
// diffusers' (both recorded in <file>.diffusers.json by tools/references/single_file.py); the
// same holds for the full-size SD 1.5 (and inpainting), SD 2.1 (512 and 768-v), SDXL base and refiner layouts (sparse files with the
// tensors of tests/fixtures/keys/ldm-*.json, whose SD 1.5 names are the real checkpoint's); the
// prediction type follows the file, then the option; files that are not checkpoints of a known
// family fail with a message naming what is wrong. The pictures are the golden tests' concern.
#include "model/model_folder.h"
#include "model/safetensors.h"
#include "model/safetensors_writer.h"
#include "model/tensor_names.h"
#include "temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sdw::ModelFolder;
using sdw::SingleFileOptions;

const fs::path kModels = fs::path(SDW_TEST_FIXTURES) / "models";

SingleFileOptions options() {
    SingleFileOptions o;
    o.tokenizers_dir = SDW_TOKENIZERS_DIR;
    return o;
}

json diffusers_view(const std::string& name) {
    std::ifstream in(kModels / (name + ".diffusers.json"));
    if (!in) throw std::runtime_error("cannot read " + name + ".diffusers.json");
    return json::parse(in);
}

const sdw::ModelComponent* component(const ModelFolder& model, const std::string& name) {
    if (name == "unet") return &model.unet();
    if (name == "vae") return &model.vae();
    if (name == "text_encoder") return model.has_text_encoder() ? &model.text_encoder() : nullptr;
    if (name == "text_encoder_2") return model.text_encoder_2();
    return nullptr;
}

sdw::ComponentKind kind_of(const std::string& name) {
    if (name == "unet") return sdw::ComponentKind::UNet;
    if (name == "vae") return sdw::ComponentKind::Vae;
    return sdw::ComponentKind::TextEncoder;
}

// A scalar that a per-block list repeats compares equal to that list.
bool same_value(const json& ours, const json& theirs) {
    if (ours == theirs) return true;
    if (ours.is_number() && theirs.is_number()) return ours.get<double>() == theirs.get<double>();
    const auto repeats = [](const json& list, const json& scalar) {
        if (!list.is_array() || list.is_array() == scalar.is_array() || list.empty()) return false;
        for (const json& item : list)
            if (item != scalar) return false;
        return true;
    };
    return repeats(ours, theirs) || repeats(theirs, ours);
}

constexpr const char* kComponents[] = {"unet", "vae", "text_encoder", "text_encoder_2"};

// `weights`: per component, diffusers' {name: shape} (transformers' spelling as it saves them).
void expect_weights(const ModelFolder& model, const json& weights) {
    for (const std::string name : kComponents) {
        SCOPED_TRACE(name);
        const sdw::ModelComponent* ours = component(model, name);
        ASSERT_EQ(ours != nullptr, weights.contains(name));
        if (ours == nullptr) continue;
        std::map<std::string, std::vector<int64_t>> expected, got;
        for (const auto& [weight, shape] : weights[name].items())
            if (auto canonical = sdw::canonical_tensor_name(kind_of(name), weight))
                expected[*canonical] = shape.get<std::vector<int64_t>>();
        for (const sdw_tensor_view& weight : ours->weights())
            got[weight.name] = std::vector<int64_t>(weight.shape, weight.shape + weight.ndim);
        EXPECT_EQ(got, expected);
    }
}

// Every key both configs have agrees.
void expect_config(const json& ours, const json& theirs, const std::string& what) {
    size_t compared = 0;
    for (const auto& [key, value] : ours.items()) {
        // architectures: what transformers records of a saved model (null for one built in memory).
        if (!theirs.contains(key) || key == "_diffusers_version" || key == "architectures") continue;
        EXPECT_TRUE(same_value(value, theirs[key]))
            << what << "." << key << ": ours " << value << ", diffusers " << theirs[key];
        ++compared;
    }
    EXPECT_GE(compared, 8u) << what;  // the keys that matter are there on both sides
}

class SingleFileFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(SingleFileFixture, EveryWeightHasTheNameAndShapeDiffusersGivesIt) {
    const ModelFolder model = ModelFolder::open(kModels / (GetParam() + ".safetensors"), options());
    json weights = json::object();
    const json view = diffusers_view(GetParam());
    for (const auto& [name, part] : view.items())
        if (part.contains("weights")) weights[name] = part["weights"];
    expect_weights(model, weights);
}

TEST_P(SingleFileFixture, DerivedConfigsAgreeWithDiffusers) {
    const ModelFolder model = ModelFolder::open(kModels / (GetParam() + ".safetensors"), options());
    const json view = diffusers_view(GetParam());
    for (const std::string name : kComponents)
        if (const sdw::ModelComponent* ours = component(model, name))
            expect_config(ours->config(), view[name]["config"], name);
    expect_config(model.scheduler_config(), view["scheduler"]["config"], "scheduler");
}

std::string fixture_test_name(const ::testing::TestParamInfo<std::string>& param) {
    std::string name = param.param;
    for (char& c : name)
        if (c == '-') c = '_';
    return name;
}

INSTANTIATE_TEST_SUITE_P(TinyLdm, SingleFileFixture,
                         ::testing::Values("tiny-ldm-sd15", "tiny-ldm-sd2-v", "tiny-ldm-sdxl"), fixture_test_name);

json read_json(const fs::path& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    return json::parse(in);
}

const fs::path kKeys = fs::path(SDW_TEST_FIXTURES) / "keys";

class FullSizeLayout : public ::testing::TestWithParam<std::string> {};

// A sparse file (zeros, no disk) with a real family's tensors: names, shapes and the family's
// sizes come out as diffusers has them.
TEST_P(FullSizeLayout, MapsAsDiffusersDoes) {
    const json keys = read_json(kKeys / ("ldm-" + GetParam() + ".json"));
    sdw_test::TempDir dir;
    const fs::path path = dir.path() / (GetParam() + ".safetensors");
    sdw::SafetensorsWriter writer;
    for (const auto& [name, shape] : keys["checkpoint"].items()) {
        const bool ids = name.size() > 12 && name.compare(name.size() - 12, 12, "position_ids") == 0;
        writer.add({name, ids ? sdw::DType::I64 : sdw::DType::F16, shape.get<std::vector<int64_t>>()});
    }
    writer.write(path, {});
    SingleFileOptions o = options();
    if (GetParam() == "sd21-v") o.prediction_type = "v_prediction";  // as SD 2.1 768's users say it
    const ModelFolder model = ModelFolder::open(path, o);
    expect_weights(model, keys["diffusers"]);
    for (const std::string name : kComponents)
        if (const sdw::ModelComponent* ours = component(model, name))
            expect_config(ours->config(), keys["configs"][name], name);
}

INSTANTIATE_TEST_SUITE_P(Families, FullSizeLayout, ::testing::Values("sd15", "sd15-inpaint", "sd21-base", "sd21-v", "sdxl", "sdxl-refiner"),
                         fixture_test_name);

TEST(FullSizeLayout, Sd15NamesAreTheRealCheckpoints) {
    std::set<std::string> real;
    for (const char* list : {"sd15-unet-original-names.json", "sd-vae-original-names.json"})
        for (const json& name : read_json(kKeys / list)) real.insert(name.get<std::string>());
    std::set<std::string> ours;
    const json keys = read_json(kKeys / "ldm-sd15.json");
    for (const auto& [name, shape] : keys["checkpoint"].items())
        if (name.rfind("model.diffusion_model.", 0) == 0 || name.rfind("first_stage_model.", 0) == 0)
            ours.insert(name);
    EXPECT_EQ(ours, real);
}

TEST(SingleFileCheckpoint, FamiliesOpenAsTheirPipelines) {
    const ModelFolder sd15 = ModelFolder::open(kModels / "tiny-ldm-sd15.safetensors", options());
    EXPECT_EQ(sd15.single_file_family(), sdw::CheckpointFamily::sd1);
    EXPECT_EQ(sd15.pipeline_class(), "StableDiffusionPipeline");
    EXPECT_EQ(sd15.tokenizer().dir, fs::path(SDW_TOKENIZERS_DIR) / "clip");
    EXPECT_EQ(sd15.tokenizer_2(), nullptr);
    EXPECT_EQ(sd15.text_encoder_summary().hidden_act, "quick_gelu");

    const ModelFolder sd2 = ModelFolder::open(kModels / "tiny-ldm-sd2-v.safetensors", options());
    EXPECT_EQ(sd2.single_file_family(), sdw::CheckpointFamily::sd2);
    EXPECT_EQ(sd2.tokenizer().dir, fs::path(SDW_TOKENIZERS_DIR) / "open-clip");
    // 24 resblocks stored, the penultimate layer's output used: a 23-layer encoder.
    EXPECT_EQ(sd2.text_encoder_summary().num_hidden_layers, 23);
    EXPECT_EQ(sd2.text_encoder().find("text_projection.weight"), nullptr);

    const ModelFolder sdxl = ModelFolder::open(kModels / "tiny-ldm-sdxl.safetensors", options());
    EXPECT_EQ(sdxl.single_file_family(), sdw::CheckpointFamily::sdxl_base);
    EXPECT_EQ(sdxl.pipeline_class(), "StableDiffusionXLPipeline");
    EXPECT_EQ(sdxl.time_id_count(), 6);
    ASSERT_NE(sdxl.tokenizer_2(), nullptr);
    EXPECT_EQ(sdxl.tokenizer_2()->dir, fs::path(SDW_TOKENIZERS_DIR) / "open-clip");

    // A folder opens as before through the same entry point.
    EXPECT_FALSE(ModelFolder::open(kModels / "tiny-sd", options()).single_file_family().has_value());
}

TEST(SingleFileCheckpoint, PredictionTypeFromTheFileThenTheOption) {
    const auto prediction = [](const std::string& name, std::optional<std::string> option) {
        SingleFileOptions o = options();
        o.prediction_type = std::move(option);
        return ModelFolder::open(kModels / (name + ".safetensors"), o).scheduler_config()["prediction_type"];
    };
    EXPECT_EQ(prediction("tiny-ldm-sd15", std::nullopt), "epsilon");
    EXPECT_EQ(prediction("tiny-ldm-sd2-v", std::nullopt), "v_prediction");  // modelspec.prediction_type
    EXPECT_EQ(prediction("tiny-ldm-sd15", "v_prediction"), "v_prediction");
    EXPECT_EQ(prediction("tiny-ldm-sd2-v", "epsilon"), "epsilon");
    EXPECT_THROW(prediction("tiny-ldm-sd15", "sample"), std::invalid_argument);
}

// The fixture's tensors, changed by `edit` (which may rename, drop or add), written to `path`.
void rewrite(const fs::path& source, const fs::path& path,
             const std::function<void(std::vector<sdw::TensorBytes>&)>& edit) {
    const sdw::SafetensorsFile file = sdw::SafetensorsFile::open(source.string());
    std::vector<sdw::TensorBytes> tensors;
    for (const sdw::TensorInfo& t : file.tensors())
        tensors.push_back({{t.name, t.dtype, t.shape},
                           std::string(static_cast<const char*>(t.data), t.byte_size)});
    edit(tensors);
    sdw::write_safetensors(path, tensors);
}

std::string open_error(const fs::path& path, const SingleFileOptions& o = options()) {
    try {
        ModelFolder::open(path, o);
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(opened)";
}

TEST(SingleFileCheckpoint, AVPredTensorMarksVPrediction) {
    sdw_test::TempDir dir;
    const fs::path path = dir.path() / "marked.safetensors";
    rewrite(kModels / "tiny-ldm-sd15.safetensors", path, [](std::vector<sdw::TensorBytes>& t) {
        t.push_back({{"v_pred", sdw::DType::F32, {}}, std::string(4, '\0')});
    });
    EXPECT_EQ(ModelFolder::open(path, options()).scheduler_config()["prediction_type"], "v_prediction");
}

TEST(SingleFileCheckpoint, RefusesWhatIsNotAKnownCheckpoint) {
    sdw_test::TempDir dir;
    const fs::path source = kModels / "tiny-ldm-sd15.safetensors";

    const fs::path lora = dir.path() / "lora.safetensors";
    sdw::write_safetensors(lora, {{{"lora_unet_down.weight", sdw::DType::F32, {1}}, std::string(4, '\0')}});

    EXPECT_NE(open_error(lora).find("no text encoder in a known layout"), std::string::npos) << open_error(lora);

    const fs::path no_unet = dir.path() / "no-unet.safetensors";
    rewrite(source, no_unet, [](std::vector<sdw::TensorBytes>& t) {
        std::erase_if(t, [](const sdw::TensorBytes& b) { return b.spec.name.rfind("model.diffusion_model.", 0) == 0; });
    });
    EXPECT_NE(open_error(no_unet).find("no tensor starts with model.diffusion_model."), std::string::npos)
        << open_error(no_unet);

    const fs::path stray = dir.path() / "stray.safetensors";
    rewrite(source, stray, [](std::vector<sdw::TensorBytes>& t) {
        t.push_back({{"model.diffusion_model.input_blocks.1.7.weight", sdw::DType::F32, {1}}, std::string(4, '\0')});
    });
    EXPECT_NE(open_error(stray).find("'model.diffusion_model.input_blocks.1.7.weight' is not a UNet weight"),
              std::string::npos)
        << open_error(stray);

    const fs::path no_vae = dir.path() / "no-vae.safetensors";
    rewrite(source, no_vae, [](std::vector<sdw::TensorBytes>& t) {
        std::erase_if(t, [](const sdw::TensorBytes& b) { return b.spec.name.rfind("first_stage_model.", 0) == 0; });
    });
    EXPECT_NE(open_error(no_vae).find("no tensor starts with first_stage_model."), std::string::npos)
        << open_error(no_vae);

    // SDXL's base UNet under a refiner's encoder layout: 6 time ids do not divide as 5.
    const fs::path mixed = dir.path() / "mixed.safetensors";
    rewrite(kModels / "tiny-ldm-sdxl.safetensors", mixed, [](std::vector<sdw::TensorBytes>& t) {
        std::erase_if(t, [](const sdw::TensorBytes& b) { return b.spec.name.rfind("conditioner.embedders.0.", 0) == 0; });
        for (sdw::TensorBytes& b : t)
            if (b.spec.name.rfind("conditioner.embedders.1.", 0) == 0) b.spec.name[22] = '0';
    });
    EXPECT_NE(open_error(mixed).find("plus 5 time-id embeddings"), std::string::npos) << open_error(mixed);

    SingleFileOptions no_tokenizers = options();
    no_tokenizers.tokenizers_dir = dir.path() / "nowhere";
    EXPECT_NE(open_error(source, no_tokenizers).find("nowhere/clip: tokenizer folder not found"), std::string::npos)
        << open_error(source, no_tokenizers);

    const fs::path text = dir.path() / "model.ckpt";
    std::ofstream(text) << "pickle";
    EXPECT_NE(open_error(text).find("expected a diffusers folder or a .safetensors single-file checkpoint"),
              std::string::npos)
        << open_error(text);
}

}  // namespace
