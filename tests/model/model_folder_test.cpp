// Model folder reader on the fixture models, and on folders crafted from them to exercise name
// normalization, sharding and every error path.
#include "model/model_folder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

#include "model/safetensors.h"
#include "model/safetensors_writer.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;
using sdw::ModelFolder;

const fs::path kTinySd = fs::path(SDW_TEST_FIXTURES) / "models" / "tiny-sd";
const fs::path kTinySdInpaint = fs::path(SDW_TEST_FIXTURES) / "models" / "tiny-sd-inpaint";
const fs::path kSdShapes = fs::path(SDW_DEFAULT_MODEL);

size_t abi_dtype_size(sdw_dtype dtype) {
    switch (dtype) {
        case SDW_DTYPE_F32: case SDW_DTYPE_I32: return 4;
        case SDW_DTYPE_F16: case SDW_DTYPE_BF16: return 2;
        case SDW_DTYPE_I64: return 8;
        case SDW_DTYPE_U8: return 1;
        case SDW_DTYPE_FORCE_32BIT: break;
    }
    return 0;
}

// Every view is consistent with itself and with the file it came from.
void expect_views_match_files(const sdw::ModelComponent& component) {
    size_t stored = 0;
    for (const auto& file : component.files()) stored += file.tensors().size();
    EXPECT_EQ(component.weights().size(), stored);
    std::set<std::string> names;
    for (const sdw_tensor_view& view : component.weights()) {
        EXPECT_EQ(view.struct_size, sizeof(sdw_tensor_view));
        uint64_t numel = 1;
        for (uint32_t d = 0; d < view.ndim; ++d) numel *= static_cast<uint64_t>(view.shape[d]);
        EXPECT_EQ(view.byte_size, numel * abi_dtype_size(view.dtype)) << view.name;
        EXPECT_TRUE(names.insert(view.name).second) << "duplicate " << view.name;
        EXPECT_EQ(component.find(view.name), &view);
    }
}

std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const std::runtime_error& error) {
        return error.what();
    }
    return "(no error)";
}

TEST(ModelFolder, TinySd) {
    const ModelFolder folder = ModelFolder::open(kTinySd);
    EXPECT_EQ(folder.pipeline_class(), "StableDiffusionPipeline");
    EXPECT_EQ(folder.text_encoder_2(), nullptr);
    EXPECT_EQ(folder.tokenizer_2(), nullptr);
    EXPECT_FALSE(folder.has_text_time_conditioning());

    // Values from tiny-sd's config files.
    const sdw::UNetSummary& unet = folder.unet_summary();
    EXPECT_EQ(unet.in_channels, 4);
    EXPECT_EQ(unet.out_channels, 4);
    EXPECT_EQ(unet.sample_height, 8);
    EXPECT_EQ(unet.sample_width, 8);
    EXPECT_EQ(unet.cross_attention_dim, 32);
    EXPECT_EQ(unet.block_out_channels, (std::vector<int64_t>{32, 64, 64, 64}));
    EXPECT_EQ(unet.attention_head_dim, (std::vector<int64_t>{8}));
    EXPECT_FALSE(unet.use_linear_projection);
    EXPECT_FALSE(unet.addition_embed_type.has_value());

    const sdw::VaeSummary& vae = folder.vae_summary();
    EXPECT_DOUBLE_EQ(vae.scaling_factor, 0.18215);
    EXPECT_FALSE(vae.shift_factor.has_value());
    EXPECT_EQ(vae.latent_channels, 4);
    EXPECT_EQ(vae.downscale_factor, 8);

    const sdw::TextEncoderSummary& te = folder.text_encoder_summary();
    EXPECT_EQ(te.hidden_size, 32);
    EXPECT_EQ(te.num_hidden_layers, 3);
    EXPECT_EQ(te.num_attention_heads, 4);
    EXPECT_EQ(te.intermediate_size, 131);
    EXPECT_EQ(te.hidden_act, "quick_gelu");
    EXPECT_FALSE(te.has_projection);
    EXPECT_EQ(te.pooled_dim, 32);

    EXPECT_EQ(folder.scheduler_config().at("_class_name"), "DDIMScheduler");
    EXPECT_NE(folder.scheduler_config_text().find("scaled_linear"), std::string::npos);
    EXPECT_TRUE(fs::exists(folder.tokenizer().vocab));
    EXPECT_TRUE(fs::exists(folder.tokenizer().merges));
    EXPECT_EQ(folder.tokenizer().special_tokens_map.at("eos_token"), "<|endoftext|>");

    for (const auto* component : {&folder.unet(), &folder.vae(), &folder.text_encoder()})
        expect_views_match_files(*component);
    const sdw_tensor_view* embedding = folder.text_encoder().find("embeddings.token_embedding.weight");
    ASSERT_NE(embedding, nullptr);
    EXPECT_EQ(embedding->dtype, SDW_DTYPE_F32);
    ASSERT_EQ(embedding->ndim, 2u);
    EXPECT_EQ(embedding->shape[0], 49408);
    EXPECT_EQ(embedding->shape[1], 32);
    EXPECT_NE(folder.vae().find("decoder.mid_block.attentions.0.to_q.weight"), nullptr);

    const sdw_component_desc desc = folder.unet().describe("unet");
    EXPECT_STREQ(desc.kind, "unet");
    EXPECT_EQ(desc.weight_count, folder.unet().weights().size());
    EXPECT_EQ(std::string(desc.config_json), folder.unet().config_text());
}

TEST(ModelFolder, ViewsSurviveMovingTheFolder) {
    ModelFolder folder = ModelFolder::open(kTinySd);
    const sdw_tensor_view* before = &folder.unet().weights().front();
    const std::string name = before->name;
    const ModelFolder moved = std::move(folder);
    EXPECT_EQ(&moved.unet().weights().front(), before);
    EXPECT_EQ(std::string(before->name), name);
}

TEST(ModelFolder, TinySdInpaintTakesNineChannels) {
    const ModelFolder folder = ModelFolder::open(kTinySdInpaint);
    EXPECT_EQ(folder.unet_summary().in_channels, 9);
    EXPECT_EQ(folder.unet_summary().out_channels, 4);
    const sdw_tensor_view* conv_in = folder.unet().find("conv_in.weight");
    ASSERT_NE(conv_in, nullptr);
    EXPECT_EQ(conv_in->shape[1], 9);
}

TEST(ModelFolder, RefinerConditionsOnTheSecondEncoderAlone) {
    const ModelFolder folder =
        ModelFolder::open(fs::path(SDW_TEST_FIXTURES) / "models" / "tiny-sdxl-refiner");
    EXPECT_FALSE(folder.has_text_encoder());
    EXPECT_THROW(folder.text_encoder(), std::logic_error);
    EXPECT_THROW(folder.tokenizer(), std::logic_error);
    EXPECT_THROW(folder.text_encoder_summary(), std::logic_error);
    ASSERT_NE(folder.text_encoder_2(), nullptr);
    ASSERT_NE(folder.tokenizer_2(), nullptr);
    // cross_attention_dim is the second encoder's width alone; 5 time ids (sizes, crop,
    // aesthetic score) beside its pooled output.
    EXPECT_EQ(folder.unet_summary().cross_attention_dim, folder.text_encoder_2_summary()->hidden_size);
    EXPECT_EQ(folder.time_id_count(), 5);
}

TEST(ModelFolder, SdShapesHalfWeightsPassedAsStored) {
    const ModelFolder folder = ModelFolder::open(kSdShapes);
    EXPECT_EQ(folder.unet_summary().block_out_channels, (std::vector<int64_t>{64, 128, 256}));
    EXPECT_EQ(folder.text_encoder_summary().num_hidden_layers, 2);
    for (const auto* component : {&folder.unet(), &folder.vae(), &folder.text_encoder()}) {
        expect_views_match_files(*component);
        for (const sdw_tensor_view& view : component->weights())
            EXPECT_EQ(view.dtype, SDW_DTYPE_F16) << view.name;
    }
}

// A model folder made of symlinks to tiny-sd's components, with some replaced.
class CraftedFolder : public ::testing::Test {
protected:
    void SetUp() override {
        for (const auto& entry : fs::directory_iterator(kTinySd)) {
            const fs::path target = root() / entry.path().filename();
            if (entry.is_directory())
                fs::create_directory_symlink(entry.path(), target);
            else
                fs::copy_file(entry.path(), target);
        }
    }
    fs::path root() const { return dir_.path(); }
    // Replaces the symlink `name` by a real folder holding a copy of the original config.
    fs::path own_component(const std::string& name) {
        fs::remove(root() / name);
        fs::create_directory(root() / name);
        if (fs::exists(kTinySd / name / "config.json"))
            fs::copy_file(kTinySd / name / "config.json", root() / name / "config.json");
        return root() / name;
    }
    static void write_text(const fs::path& path, const std::string& text) {
        std::ofstream(path, std::ios::binary) << text;
    }
    // tiny-sd's text encoder tensors, renamed by `rename`.
    static std::vector<sdw::TensorBytes> text_encoder_tensors(
        const std::function<std::string(const std::string&)>& rename) {
        const auto file = sdw::SafetensorsFile::open((kTinySd / "text_encoder" / "model.safetensors").string());
        std::vector<sdw::TensorBytes> out;
        for (const auto& t : file.tensors())
            out.push_back({{rename(t.name), t.dtype, t.shape},
                           std::string(static_cast<const char*>(t.data), t.byte_size)});
        return out;
    }

    sdw_test::TempDir dir_;
};

TEST_F(CraftedFolder, PrefixedTextEncoderNamesAreNormalized) {
    auto tensors = text_encoder_tensors([](const std::string& n) { return "text_model." + n; });
    // What a transformers 4 checkpoint also carries: the position_ids buffer, and for
    // CLIPTextModelWithProjection an unprefixed projection.
    std::string ids(77 * 8, '\0');
    for (int64_t i = 0; i < 77; ++i) std::memcpy(ids.data() + i * 8, &i, 8);
    tensors.push_back({{"text_model.embeddings.position_ids", sdw::DType::I64, {1, 77}}, ids});
    tensors.push_back({{"text_projection.weight", sdw::DType::F32, {512, 32}},
                       std::string(512 * 32 * 4, '\0')});
    sdw::write_safetensors(own_component("text_encoder") / "model.safetensors", tensors);

    const ModelFolder crafted = ModelFolder::open(root());
    const ModelFolder original = ModelFolder::open(kTinySd);
    const auto& te = crafted.text_encoder();
    EXPECT_EQ(te.weights().size(), original.text_encoder().weights().size() + 1);
    for (const sdw_tensor_view& view : original.text_encoder().weights()) {
        const sdw_tensor_view* same = te.find(view.name);
        ASSERT_NE(same, nullptr) << view.name;
        ASSERT_EQ(same->byte_size, view.byte_size);
        EXPECT_EQ(std::memcmp(same->data, view.data, view.byte_size), 0) << view.name;
    }
    EXPECT_NE(te.find("text_projection.weight"), nullptr);
    EXPECT_EQ(te.find("embeddings.position_ids"), nullptr);
    EXPECT_EQ(te.find("text_model.embeddings.position_ids"), nullptr);
    for (const sdw_tensor_view& view : te.weights())
        EXPECT_NE(std::string(view.name).rfind("text_model.", 0), 0u) << view.name;
    EXPECT_TRUE(crafted.text_encoder_summary().has_projection);
    EXPECT_EQ(crafted.text_encoder_summary().pooled_dim, 512);  // projection_dim in its config
}

TEST_F(CraftedFolder, BothSpellingsOfOneTensorIsAnError) {
    auto tensors = text_encoder_tensors([](const std::string& n) { return n; });
    tensors.push_back({{"text_model.final_layer_norm.bias", sdw::DType::F32, {32}},
                       std::string(32 * 4, '\0')});
    sdw::write_safetensors(own_component("text_encoder") / "model.safetensors", tensors);
    const std::string message = error_of([&] { ModelFolder::open(root()); });
    EXPECT_NE(message.find("model.safetensors"), std::string::npos) << message;
    EXPECT_NE(message.find("duplicates 'final_layer_norm.bias'"), std::string::npos) << message;
}

TEST_F(CraftedFolder, ShardedTextEncoder) {
    auto tensors = text_encoder_tensors([](const std::string& n) { return n; });
    const fs::path dir = own_component("text_encoder");
    const size_t half = tensors.size() / 2;
    nlohmann::json weight_map;
    std::vector<sdw::TensorBytes> first(tensors.begin(), tensors.begin() + half);
    std::vector<sdw::TensorBytes> second(tensors.begin() + half, tensors.end());
    for (const auto& t : first) weight_map[t.spec.name] = "model-00001-of-00002.safetensors";
    for (const auto& t : second) weight_map[t.spec.name] = "model-00002-of-00002.safetensors";
    sdw::write_safetensors(dir / "model-00001-of-00002.safetensors", first);
    sdw::write_safetensors(dir / "model-00002-of-00002.safetensors", second);
    write_text(dir / "model.safetensors.index.json",
               nlohmann::json{{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}}.dump());

    const ModelFolder folder = ModelFolder::open(root());
    EXPECT_EQ(folder.text_encoder().files().size(), 2u);
    EXPECT_EQ(folder.text_encoder().weights().size(), tensors.size());
    expect_views_match_files(folder.text_encoder());

    // An index that names a tensor its shard lacks is a broken download.
    weight_map["embeddings.extra.weight"] = "model-00001-of-00002.safetensors";
    write_text(dir / "model.safetensors.index.json", nlohmann::json{{"weight_map", weight_map}}.dump());
    std::string message = error_of([&] { ModelFolder::open(root()); });
    EXPECT_NE(message.find("'embeddings.extra.weight' is not in model-00001-of-00002.safetensors"),
              std::string::npos) << message;

    // Shard names are plain file names next to the index.
    write_text(dir / "model.safetensors.index.json",
               R"({"weight_map": {"a": "../unet/diffusion_pytorch_model.safetensors"}})");
    message = error_of([&] { ModelFolder::open(root()); });
    EXPECT_NE(message.find("not a plain file name"), std::string::npos) << message;
}

TEST_F(CraftedFolder, LegacyVaeAttentionNamesAreRenamed) {
    const auto file = sdw::SafetensorsFile::open(
        (kTinySd / "vae" / "diffusion_pytorch_model.safetensors").string());
    std::vector<sdw::TensorBytes> tensors;
    auto legacy = [](std::string name) {
        for (const auto& [now, old] : {std::pair{".to_q.", ".query."}, std::pair{".to_k.", ".key."},
                                      std::pair{".to_v.", ".value."},
                                      std::pair{".to_out.0.", ".proj_attn."}}) {
            const size_t at = name.find(now);
            if (at != std::string::npos) name.replace(at, std::strlen(now), old);
        }
        return name;
    };
    for (const auto& t : file.tensors())
        tensors.push_back({{legacy(t.name), t.dtype, t.shape},
                           std::string(static_cast<const char*>(t.data), t.byte_size)});
    ASSERT_TRUE(std::any_of(tensors.begin(), tensors.end(), [](const auto& t) {
        return t.spec.name.find(".proj_attn.") != std::string::npos;
    }));
    sdw::write_safetensors(own_component("vae") / "diffusion_pytorch_model.safetensors", tensors);

    const ModelFolder folder = ModelFolder::open(root());
    const ModelFolder original = ModelFolder::open(kTinySd);
    ASSERT_EQ(folder.vae().weights().size(), original.vae().weights().size());
    for (const sdw_tensor_view& view : original.vae().weights())
        EXPECT_NE(folder.vae().find(view.name), nullptr) << view.name;
}

TEST_F(CraftedFolder, HalfVariantWeightsAreFound) {
    const fs::path dir = own_component("unet");
    fs::copy_file(kTinySd / "unet" / "diffusion_pytorch_model.safetensors",
                  dir / "diffusion_pytorch_model.fp16.safetensors");
    const ModelFolder folder = ModelFolder::open(root());
    EXPECT_EQ(folder.unet().files().front().path(),
              (dir / "diffusion_pytorch_model.fp16.safetensors").string());
}

TEST_F(CraftedFolder, MissingFolder) {
    const std::string message = error_of([&] { ModelFolder::open(root() / "nope"); });
    EXPECT_NE(message.find((root() / "nope").string() + ": model folder not found"), std::string::npos)
        << message;
}

TEST_F(CraftedFolder, MissingModelIndex) {
    fs::remove(root() / "model_index.json");
    const std::string message = error_of([&] { ModelFolder::open(root()); });
    EXPECT_NE(message.find((root() / "model_index.json").string() + ": file not found"),
              std::string::npos) << message;
}

TEST_F(CraftedFolder, ModelIndexWithoutUnet) {
    write_text(root() / "model_index.json",
               R"({"_class_name": "StableDiffusionPipeline", "text_encoder": ["transformers", "CLIPTextModel"],
                   "tokenizer": ["transformers", "CLIPTokenizer"], "vae": ["diffusers", "AutoencoderKL"],
                   "scheduler": ["diffusers", "DDIMScheduler"], "unet": [null, null]})");
    const std::string message = error_of([&] { ModelFolder::open(root()); });
    EXPECT_NE(message.find("model_index.json: unet: missing"), std::string::npos) << message;
}

TEST_F(CraftedFolder, ModelIndexWithoutAnyTextEncoder) {
    write_text(root() / "model_index.json",
               R"({"_class_name": "StableDiffusionPipeline", "text_encoder": [null, null],
                   "tokenizer": [null, null], "vae": ["diffusers", "AutoencoderKL"],
                   "scheduler": ["diffusers", "DDIMScheduler"], "unet": ["diffusers", "UNet2DConditionModel"]})");
    const std::string message = error_of([&] { ModelFolder::open(root()); });
    EXPECT_NE(message.find("model_index.json: text_encoder: missing"), std::string::npos) << message;
}

TEST_F(CraftedFolder, MissingSchedulerConfig) {
    fs::remove(root() / "scheduler");
    const std::string message = error_of([&] { ModelFolder::open(root()); });
    EXPECT_NE(message.find((root() / "scheduler" / "scheduler_config.json").string()),
              std::string::npos) << message;
}

// Values every released checkpoint keeps well inside: a corrupt one stops the load with
// the file, the key and the value, not the first job (or every job) after it.
TEST_F(CraftedFolder, OutOfRangeConfigValuesAreRefusedAtLoadNamingFileKeyAndValue) {
    struct Case {
        std::string component, file, key;
        nlohmann::json value;
        std::string says;
    };
    for (const Case& c : {Case{"scheduler", "scheduler_config.json", "num_train_timesteps", 1000000000, "1000000000"},
                          Case{"scheduler", "scheduler_config.json", "num_train_timesteps", 0, "got 0"},
                          Case{"scheduler", "scheduler_config.json", "beta_schedule", "cosine", "\"cosine\""},
                          Case{"scheduler", "scheduler_config.json", "beta_end", 2.0, "(0, 1)"},
                          Case{"unet", "config.json", "sample_size", 1000000000, "1000000000"},
                          Case{"vae", "config.json", "sample_size", -4, "got -4"},
                          Case{"text_encoder", "config.json", "max_position_embeddings", 1 << 30, "4096"}}) {
        const fs::path dir = own_component(c.component);
        for (const auto& entry : fs::directory_iterator(kTinySd / c.component))
            if (entry.path().filename() != c.file) fs::create_symlink(entry.path(), dir / entry.path().filename());
        nlohmann::json config = nlohmann::json::parse(std::ifstream(kTinySd / c.component / c.file));
        config[c.key] = c.value;
        write_text(dir / c.file, config.dump());
        const std::string message = error_of([&] { ModelFolder::open(root()); });
        EXPECT_NE(message.find((dir / c.file).string() + ": " + c.key + ": "), std::string::npos) << message;
        EXPECT_NE(message.find(c.says), std::string::npos) << message;
        // Back to the original for the next case.
        fs::remove_all(dir);
        fs::create_directory_symlink(kTinySd / c.component, dir);
    }
}

TEST_F(CraftedFolder, MissingVocab) {
    const fs::path dir = own_component("tokenizer");
    fs::copy_file(kTinySd / "tokenizer" / "merges.txt", dir / "merges.txt");
    const std::string message = error_of([&] { ModelFolder::open(root()); });
    EXPECT_NE(message.find((dir / "vocab.json").string() + ": file not found"), std::string::npos)
        << message;
}

TEST_F(CraftedFolder, MissingWeights) {
    const fs::path dir = own_component("vae");
    const std::string message = error_of([&] { ModelFolder::open(root()); });
    EXPECT_NE(message.find(dir.string() + ": no weights"), std::string::npos) << message;
}

TEST_F(CraftedFolder, MissingConfigKey) {
    const fs::path dir = own_component("unet");
    fs::create_symlink(kTinySd / "unet" / "diffusion_pytorch_model.safetensors",
                       dir / "diffusion_pytorch_model.safetensors");
    nlohmann::json config = nlohmann::json::parse(std::ifstream(kTinySd / "unet" / "config.json"));
    config.erase("in_channels");
    write_text(dir / "config.json", config.dump());
    const std::string message = error_of([&] { ModelFolder::open(root()); });
    EXPECT_NE(message.find((dir / "config.json").string() + ": in_channels: missing"),
              std::string::npos) << message;
}

TEST_F(CraftedFolder, ConfigNotJson) {
    const fs::path dir = own_component("vae");
    write_text(dir / "config.json", "{\"latent_channels\": ");
    const std::string message = error_of([&] { ModelFolder::open(root()); });
    EXPECT_NE(message.find((dir / "config.json").string() + ": not valid JSON"), std::string::npos)
        << message;
}

TEST_F(CraftedFolder, VaeWithoutNewerKeysGetsDiffusersDefaults) {
    // SD 1.5's published VAE config predates scaling_factor; diffusers then uses 0.18215.
    const fs::path dir = own_component("vae");
    fs::create_symlink(kTinySd / "vae" / "diffusion_pytorch_model.safetensors",
                       dir / "diffusion_pytorch_model.safetensors");
    nlohmann::json config = nlohmann::json::parse(std::ifstream(kTinySd / "vae" / "config.json"));
    config.erase("scaling_factor");
    config.erase("shift_factor");
    config.erase("force_upcast");
    write_text(dir / "config.json", config.dump());
    const ModelFolder folder = ModelFolder::open(root());
    EXPECT_DOUBLE_EQ(folder.vae_summary().scaling_factor, 0.18215);
    EXPECT_FALSE(folder.vae_summary().shift_factor.has_value());
}

TEST_F(CraftedFolder, MismatchedCrossAttentionWidth) {
    const fs::path dir = own_component("unet");
    fs::create_symlink(kTinySd / "unet" / "diffusion_pytorch_model.safetensors",
                       dir / "diffusion_pytorch_model.safetensors");
    nlohmann::json config = nlohmann::json::parse(std::ifstream(kTinySd / "unet" / "config.json"));
    config["cross_attention_dim"] = 768;
    write_text(dir / "config.json", config.dump());
    const std::string message = error_of([&] { ModelFolder::open(root()); });
    EXPECT_NE(message.find("cross_attention_dim 768 does not match the text encoder hidden size 32"),
              std::string::npos) << message;
}

TEST(TensorNames, CanonicalForms) {
    using sdw::ComponentKind;
    EXPECT_EQ(sdw::canonical_tensor_name(ComponentKind::TextEncoder, "text_model.encoder.layers.0.mlp.fc1.weight"),
              "encoder.layers.0.mlp.fc1.weight");
    EXPECT_EQ(sdw::canonical_tensor_name(ComponentKind::TextEncoder, "encoder.layers.0.mlp.fc1.weight"),
              "encoder.layers.0.mlp.fc1.weight");
    EXPECT_EQ(sdw::canonical_tensor_name(ComponentKind::TextEncoder, "text_projection.weight"),
              "text_projection.weight");
    EXPECT_EQ(sdw::canonical_tensor_name(ComponentKind::TextEncoder, "text_model.embeddings.position_ids"),
              std::nullopt);
    EXPECT_EQ(sdw::canonical_tensor_name(ComponentKind::Vae, "encoder.mid_block.attentions.0.proj_attn.bias"),
              "encoder.mid_block.attentions.0.to_out.0.bias");
    EXPECT_EQ(sdw::canonical_tensor_name(ComponentKind::Vae, "decoder.mid_block.attentions.0.key.weight"),
              "decoder.mid_block.attentions.0.to_k.weight");
    // UNet names (which also contain "attentions") are left alone.
    EXPECT_EQ(sdw::canonical_tensor_name(ComponentKind::UNet, "mid_block.attentions.0.proj_in.weight"),
              "mid_block.attentions.0.proj_in.weight");
}

}  // namespace
