// sdw-make-model: the models it writes have exactly the tensor names and shapes of the real
// checkpoints (tests/fixtures/golden/keys, plus the "text_model." prefix the real text encoders
// carry) and open with the model folder reader.
//
// Size/speed trade-off: a full SD 1.5 at f16 is 2.1 GB; generating it takes ~5 s of CPU but
// writing it took ~40 s on the shared CI disk. So the full-size folders of all three families
// are written with --zeros (same files, names, shapes, configs and headers; the data section is
// a sparse-file hole), which checks every full-size name and shape through the real files in
// milliseconds; and the random values themselves are checked on the smallest full-size
// component (the SD VAE, 167 MB) written for real.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "model/half_float.h"
#include "model/model_folder.h"
#include "model_families.h"
#include "random_weights.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;
using namespace sdw::make_model;
using Shapes = std::map<std::string, std::vector<int64_t>>;

Shapes key_file(const std::string& name) {
    std::ifstream in(fs::path(SDW_TEST_FIXTURES) / "golden" / "keys" / name);
    const nlohmann::json keys = nlohmann::json::parse(in);
    Shapes shapes;
    for (const auto& [key, shape] : keys.items()) shapes[key] = shape.get<std::vector<int64_t>>();
    return shapes;
}

// Real checkpoints (transformers 4) name the CLIP text transformer's tensors "text_model.<rest>";
// the ViT-L/14 key list has transformers 5's prefix-less names.
Shapes with_text_model_prefix(const Shapes& shapes) {
    Shapes prefixed;
    for (const auto& [name, shape] : shapes) prefixed["text_model." + name] = shape;
    return prefixed;
}

// Names that lack the prefix, apart from CLIPTextModelWithProjection's text_projection.weight.
std::vector<std::string> unprefixed_names(const std::vector<std::string>& names) {
    std::vector<std::string> out;
    for (const std::string& name : names)
        if (name.rfind("text_model.", 0) != 0 && name != "text_projection.weight") out.push_back(name);
    return out;
}

std::vector<std::string> names_in_file(const sdw::ModelComponent& component) {
    std::vector<std::string> names;
    for (const sdw::SafetensorsFile& file : component.files())
        for (const sdw::TensorInfo& t : file.tensors()) names.push_back(t.name);
    return names;
}

Shapes shapes_of(const std::vector<sdw::TensorSpec>& tensors) {
    Shapes shapes;
    for (const auto& t : tensors) shapes[t.name] = t.shape;
    return shapes;
}

Shapes shapes_of(const sdw::ModelComponent& component) {
    Shapes shapes;
    for (const sdw_tensor_view& v : component.weights())
        shapes[v.name] = std::vector<int64_t>(v.shape, v.shape + v.ndim);
    return shapes;
}

const ComponentPlan& component(const ModelPlan& plan, const std::string& folder) {
    for (const ComponentPlan& c : plan.components)
        if (c.folder == folder) return c;
    throw std::runtime_error("no component " + folder);
}

int run_tool(const std::string& arguments) {
    const std::string command = std::string(SDW_BINARY_DIR) + "/sdw-make-model " + arguments +
                                " > /dev/null";
    return std::system(command.c_str());
}

TEST(MakeModelPlan, Sd15MatchesTheKeyFiles) {
    const ModelPlan plan = plan_model(Family::Sd15, sdw::DType::F16);
    EXPECT_EQ(shapes_of(component(plan, "unet").tensors), key_file("sd15-unet-diffusers.json"));
    EXPECT_EQ(shapes_of(component(plan, "vae").tensors), key_file("sd-vae-diffusers.json"));
    EXPECT_EQ(shapes_of(component(plan, "text_encoder").tensors),
              with_text_model_prefix(key_file("clip-vit-l14-text-diffusers.json")));
    for (const ComponentPlan& c : plan.components)
        for (const auto& t : c.tensors) EXPECT_EQ(t.dtype, sdw::DType::F16);
}

TEST(MakeModelPlan, SdxlMatchesTheKeyFiles) {
    const ModelPlan plan = plan_model(Family::Sdxl, sdw::DType::F32);
    EXPECT_EQ(shapes_of(component(plan, "unet").tensors), key_file("sdxl-unet-diffusers.json"));
    EXPECT_EQ(shapes_of(component(plan, "vae").tensors), key_file("sd-vae-diffusers.json"));
    EXPECT_EQ(shapes_of(component(plan, "text_encoder").tensors),
              with_text_model_prefix(key_file("clip-vit-l14-text-diffusers.json")));
}

TEST(MakeModelPlan, TextEncodersCarryTheTextModelPrefixOfRealCheckpoints) {
    for (const Family family : {Family::Sd15, Family::Sd21, Family::Sdxl}) {
        const ModelPlan plan = plan_model(family, sdw::DType::F16);
        for (const char* folder : {"text_encoder", "text_encoder_2"}) {
            if (family != Family::Sdxl && std::string(folder) == "text_encoder_2") continue;
            std::vector<std::string> names;
            for (const auto& t : component(plan, folder).tensors) names.push_back(t.name);
            EXPECT_EQ(unprefixed_names(names), std::vector<std::string>{}) << folder;
            EXPECT_NE(std::find(names.begin(), names.end(), "text_model.final_layer_norm.weight"),
                      names.end())
                << folder;
        }
    }
    // SDXL's second encoder projects the pooled state outside text_model, as the real file has.
    const ModelPlan sdxl = plan_model(Family::Sdxl, sdw::DType::F16);
    EXPECT_EQ(component(sdxl, "text_encoder_2").tensors.back().name, "text_projection.weight");
}

TEST(MakeModelPlan, DerivedClipMatchesTheVitL14KeyFile) {
    // The generator used for OpenCLIP ViT-H and ViT-bigG (no key files) reproduces ViT-L/14's.
    const ClipTextShape vit_l{768, 3072, 12, 49408, 77, std::nullopt};
    EXPECT_EQ(shapes_of(clip_text_tensors(vit_l, sdw::DType::F16, "")),
              key_file("clip-vit-l14-text-diffusers.json"));
}

TEST(MakeModelPlan, Sd21UnetDiffersFromSd15OnlyWhereItsArchitectureDoes) {
    const Shapes sd15 = key_file("sd15-unet-diffusers.json");
    const Shapes sd21 = shapes_of(component(plan_model(Family::Sd21, sdw::DType::F16), "unet").tensors);
    ASSERT_EQ(sd21.size(), sd15.size());
    int projections = 0, contexts = 0;
    for (const auto& [name, shape] : sd15) {
        ASSERT_TRUE(sd21.count(name)) << name;
        const std::vector<int64_t>& other = sd21.at(name);
        if (other == shape) continue;
        if (name.find(".proj_in.weight") != std::string::npos ||
            name.find(".proj_out.weight") != std::string::npos) {
            EXPECT_EQ(other, (std::vector<int64_t>{shape[0], shape[1]})) << name;  // linear
            ++projections;
        } else if (name.find(".attn2.to_k.weight") != std::string::npos ||
                   name.find(".attn2.to_v.weight") != std::string::npos) {
            EXPECT_EQ(other, (std::vector<int64_t>{shape[0], 1024})) << name;
            ++contexts;
        } else {
            ADD_FAILURE() << "unexpected difference in " << name;
        }
    }
    EXPECT_EQ(projections, 2 * 16);  // 16 transformer blocks (6 down, 1 mid, 9 up)
    EXPECT_EQ(contexts, 2 * 16);
}

TEST(MakeModelTool, RejectsBadArguments) {
    EXPECT_NE(run_tool("--family sd14 --dtype f16 --out /nonexistent 2>/dev/null"), 0);
    EXPECT_NE(run_tool("--family sd15 --dtype q8 --out /nonexistent 2>/dev/null"), 0);
    EXPECT_NE(run_tool("--family sd15 --dtype f16 2>/dev/null"), 0);
}

TEST(MakeModelTool, FullSizeSd15OpensWithEveryKeyFileTensor) {
    sdw_test::TempDir dir;
    ASSERT_EQ(run_tool("--family sd15 --dtype f16 --zeros --out " + dir.path().string()), 0);
    const sdw::ModelFolder folder = sdw::ModelFolder::open(dir.path());
    EXPECT_EQ(shapes_of(folder.unet()), key_file("sd15-unet-diffusers.json"));
    EXPECT_EQ(shapes_of(folder.vae()), key_file("sd-vae-diffusers.json"));
    EXPECT_EQ(shapes_of(folder.text_encoder()), key_file("clip-vit-l14-text-diffusers.json"));
    // Written with the prefix real checkpoints carry; the reader strips it.
    EXPECT_EQ(unprefixed_names(names_in_file(folder.text_encoder())), std::vector<std::string>{});
    EXPECT_NE(folder.text_encoder().files().front().find("text_model.embeddings.token_embedding.weight"),
              nullptr);
    for (const auto* c : {&folder.unet(), &folder.vae(), &folder.text_encoder()})
        for (const sdw_tensor_view& v : c->weights()) EXPECT_EQ(v.dtype, SDW_DTYPE_F16) << v.name;
    EXPECT_EQ(folder.unet_summary().cross_attention_dim, 768);
    EXPECT_EQ(folder.unet_summary().sample_height, 64);
    EXPECT_EQ(folder.vae_summary().downscale_factor, 8);
    EXPECT_EQ(folder.text_encoder_summary().num_hidden_layers, 12);
    EXPECT_EQ(folder.scheduler_config().at("_class_name"), "PNDMScheduler");
    EXPECT_EQ(folder.scheduler_config().at("steps_offset"), 1);
    // The real CLIP tokenizer was copied.
    EXPECT_EQ(fs::file_size(folder.tokenizer().vocab),
              fs::file_size(fs::path(SDW_DEFAULT_MODEL) / "tokenizer" / "vocab.json"));
}

TEST(MakeModelTool, FullSizeSdxlOpensWithEveryKeyFileTensor) {
    sdw_test::TempDir dir;
    ASSERT_EQ(run_tool("--family sdxl --dtype f16 --zeros --out " + dir.path().string()), 0);
    const sdw::ModelFolder folder = sdw::ModelFolder::open(dir.path());
    EXPECT_EQ(shapes_of(folder.unet()), key_file("sdxl-unet-diffusers.json"));
    EXPECT_EQ(shapes_of(folder.vae()), key_file("sd-vae-diffusers.json"));
    EXPECT_EQ(shapes_of(folder.text_encoder()), key_file("clip-vit-l14-text-diffusers.json"));
    EXPECT_EQ(unprefixed_names(names_in_file(folder.text_encoder())), std::vector<std::string>{});
    ASSERT_NE(folder.text_encoder_2(), nullptr);
    ASSERT_NE(folder.tokenizer_2(), nullptr);
    EXPECT_EQ(folder.tokenizer_2()->special_tokens_map.at("pad_token"), "!");
    // The second encoder was written with transformers' "text_model." prefix; the reader strips it.
    const sdw::ModelComponent& te2 = *folder.text_encoder_2();
    EXPECT_NE(te2.files().front().find("text_model.final_layer_norm.weight"), nullptr);
    EXPECT_NE(te2.files().front().find("text_projection.weight"), nullptr);  // never prefixed
    EXPECT_EQ(unprefixed_names(names_in_file(te2)), std::vector<std::string>{});
    EXPECT_NE(te2.find("final_layer_norm.weight"), nullptr);
    EXPECT_NE(te2.find("text_projection.weight"), nullptr);
    EXPECT_EQ(te2.weights().size(), 2u + 32u * 16u + 2u + 1u);
    EXPECT_EQ(folder.text_encoder_2_summary()->pooled_dim, 1280);
    EXPECT_EQ(folder.unet_summary().cross_attention_dim, 2048);
    EXPECT_EQ(folder.time_id_count(), 6);
}

TEST(MakeModelTool, FullSizeSd21Opens) {
    sdw_test::TempDir dir;
    ASSERT_EQ(run_tool("--family sd21 --dtype f32 --zeros --out " + dir.path().string()), 0);
    const sdw::ModelFolder folder = sdw::ModelFolder::open(dir.path());
    EXPECT_EQ(folder.text_encoder_summary().hidden_size, 1024);
    EXPECT_EQ(folder.text_encoder_summary().num_hidden_layers, 23);
    EXPECT_EQ(folder.text_encoder_summary().hidden_act, "gelu");
    EXPECT_EQ(unprefixed_names(names_in_file(folder.text_encoder())), std::vector<std::string>{});
    EXPECT_NE(folder.text_encoder().find("encoder.layers.22.mlp.fc2.weight"), nullptr);
    EXPECT_TRUE(folder.unet_summary().use_linear_projection);
    EXPECT_EQ(folder.unet_summary().attention_head_dim, (std::vector<int64_t>{5, 10, 20, 20}));
    EXPECT_EQ(folder.scheduler_config().at("prediction_type"), "v_prediction");
    EXPECT_EQ(folder.unet().find("conv_in.weight")->dtype, SDW_DTYPE_F32);
}

TEST(MakeModelTool, RandomWeightsHaveTheIntendedStatistics) {
    sdw_test::TempDir dir;
    ASSERT_EQ(run_tool("--family sd15 --dtype f16 --seed 7 --only vae --out " + dir.path().string()), 0);
    const auto file = sdw::SafetensorsFile::open(
        (dir.path() / "vae" / "diffusion_pytorch_model.safetensors").string());
    EXPECT_EQ(shapes_of([&] {
                  std::vector<sdw::TensorSpec> specs;
                  for (const auto& t : file.tensors()) specs.push_back({t.name, t.dtype, t.shape});
                  return specs;
              }()),
              key_file("sd-vae-diffusers.json"));
    for (const sdw::TensorInfo& t : file.tensors()) {
        const std::vector<float> values = sdw::to_f32(t);
        const sdw::TensorSpec spec{t.name, t.dtype, t.shape};
        const WeightInit init = weight_init(spec);
        if (init.stddev == 0.0f) {
            for (float v : values) ASSERT_EQ(v, init.constant) << t.name;
            continue;
        }
        double sum = 0, squares = 0;
        for (float v : values) {
            ASSERT_TRUE(std::isfinite(v)) << t.name;
            sum += v;
            squares += double(v) * v;
        }
        const double n = static_cast<double>(values.size());
        const double mean = sum / n, stddev = std::sqrt(squares / n - mean * mean);
        EXPECT_NEAR(stddev / init.stddev, 1.0, 0.1 + 5.0 / std::sqrt(n)) << t.name;
        EXPECT_NEAR(mean / init.stddev, 0.0, 5.0 / std::sqrt(n)) << t.name;
    }
    EXPECT_EQ(sdw::to_f32(file.at("decoder.mid_block.resnets.0.norm1.weight")).front(), 1.0f);
    EXPECT_EQ(sdw::to_f32(file.at("decoder.conv_out.bias")).front(), 0.0f);
    // The components not asked for have configs but no weights.
    EXPECT_TRUE(fs::exists(dir.path() / "unet" / "config.json"));
    EXPECT_FALSE(fs::exists(dir.path() / "unet" / "diffusion_pytorch_model.safetensors"));
}

TEST(RandomWeightFiller, DependsOnlyOnSeedAndName) {
    const sdw::TensorSpec spec{"down_blocks.0.resnets.0.conv1.weight", sdw::DType::F16, {64, 32, 3, 3}};
    auto fill = [&](uint64_t seed, size_t chunk) {
        RandomWeightFiller filler(seed);
        std::vector<std::byte> bytes(spec.byte_size());
        for (size_t first = 0; first < bytes.size(); first += chunk)
            filler(spec, first, std::span(bytes).subspan(first, std::min(chunk, bytes.size() - first)));
        return bytes;
    };
    const auto whole = fill(3, spec.byte_size());
    EXPECT_EQ(fill(3, 4096), whole);  // chunking does not matter
    EXPECT_NE(fill(4, spec.byte_size()), whole);
}

TEST(HalfFloat, RoundTripsEveryHalfAndRoundsToNearestEven) {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const float f = sdw::f16_to_f32(static_cast<uint16_t>(h));
        if (std::isnan(f)) {
            EXPECT_TRUE(std::isnan(sdw::f16_to_f32(sdw::f32_to_f16(f))));
            continue;
        }
        ASSERT_EQ(sdw::f32_to_f16(f), h) << std::hex << h;
    }
    // 1 + 2^-11 is halfway between 1 and the next half (1 + 2^-10): ties go to even (1).
    EXPECT_EQ(sdw::f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
    EXPECT_EQ(sdw::f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
    EXPECT_EQ(sdw::f32_to_f16(65520.0f), 0x7c00);  // rounds up to infinity
    EXPECT_EQ(sdw::f32_to_f16(65519.0f), 0x7bff);
    EXPECT_EQ(sdw::f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // tie between 0 and 2^-24: even
    EXPECT_EQ(sdw::f32_to_f16(std::ldexp(3.0f, -25)), 0x0002);
    EXPECT_EQ(sdw::f32_to_bf16(3.140625f), 0x4049);
}

}  // namespace
