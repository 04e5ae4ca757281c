#include "model/component_summaries.h"

#include "model/config_reader.h"

namespace sdw {
namespace {

std::optional<std::vector<double>> optional_number_list(const nlohmann::json& config,
                                                        const ConfigReader& reader,
                                                        const std::string& key) {
    if (!reader.has(key)) return std::nullopt;
    const nlohmann::json& v = config.at(key);
    if (!v.is_array()) reader.fail(key, "expected a list of numbers");
    std::vector<double> out;
    for (const auto& element : v) {
        if (!element.is_number()) reader.fail(key, "expected a list of numbers");
        out.push_back(element.get<double>());
    }
    return out;
}

void require_positive(const ConfigReader& reader, const std::string& key, int64_t value) {
    if (value <= 0) reader.fail(key, "must be positive, got " + std::to_string(value));
}

// Sizes from a model's JSON bound what the worker allocates: each is held to a range that
// every released checkpoint sits well inside, so that a corrupt value is refused at load
// naming the file and key instead of overflowing or exhausting memory at the first job.
void require_range(const ConfigReader& reader, const std::string& key, int64_t value, int64_t lo, int64_t hi) {
    if (value < lo || value > hi)
        reader.fail(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                             std::to_string(value));
}

}  // namespace

UNetSummary summarize_unet(const nlohmann::json& config, const std::filesystem::path& path) {
    const ConfigReader reader(config, path);
    UNetSummary s;
    s.in_channels = reader.required_int("in_channels");
    s.out_channels = reader.required_int("out_channels");
    require_positive(reader, "in_channels", s.in_channels);
    require_positive(reader, "out_channels", s.out_channels);
    if (!reader.has("sample_size")) reader.fail("sample_size", "missing");
    const std::vector<int64_t> sample = reader.int_or_list("sample_size", 0);
    if (sample.size() == 1) {
        s.sample_height = s.sample_width = sample[0];
    } else if (sample.size() == 2) {
        s.sample_height = sample[0];
        s.sample_width = sample[1];
    } else {
        reader.fail("sample_size", "expected an integer or [height, width]");
    }
    // Latent pixels: 1024 is an 8192-pixel default image, four times SDXL's.
    require_range(reader, "sample_size", s.sample_height, 1, 1024);
    require_range(reader, "sample_size", s.sample_width, 1, 1024);
    s.cross_attention_dim = reader.required_uniform_int("cross_attention_dim");
    s.block_out_channels = reader.required_int_list("block_out_channels");
    for (int64_t channels : s.block_out_channels)
        require_positive(reader, "block_out_channels", channels);
    s.layers_per_block = reader.int_or_list("layers_per_block", 2);
    s.attention_head_dim = reader.int_or_list("attention_head_dim", 8);
    if (reader.has("num_attention_heads"))
        s.num_attention_heads = reader.int_or_list("num_attention_heads", 0);
    s.transformer_layers_per_block = reader.int_or_list("transformer_layers_per_block", 1);
    s.use_linear_projection = reader.optional_bool("use_linear_projection", false);
    s.addition_embed_type = reader.optional_string("addition_embed_type");
    s.addition_time_embed_dim = reader.optional_int("addition_time_embed_dim");
    s.projection_class_embeddings_input_dim =
        reader.optional_int("projection_class_embeddings_input_dim");
    s.time_cond_proj_dim = reader.optional_int("time_cond_proj_dim");
    if (s.addition_embed_type == "text_time") {
        if (!s.addition_time_embed_dim)
            reader.fail("addition_time_embed_dim", "required when addition_embed_type is text_time");
        if (!s.projection_class_embeddings_input_dim)
            reader.fail("projection_class_embeddings_input_dim",
                        "required when addition_embed_type is text_time");
    }
    return s;
}

VaeSummary summarize_vae(const nlohmann::json& config, const std::filesystem::path& path) {
    const ConfigReader reader(config, path);
    VaeSummary s;
    s.in_channels = reader.optional_int("in_channels", 3);
    s.out_channels = reader.optional_int("out_channels", 3);
    s.latent_channels = reader.required_int("latent_channels");
    require_positive(reader, "latent_channels", s.latent_channels);
    s.block_out_channels = reader.required_int_list("block_out_channels");
    if (s.block_out_channels.size() > 16) reader.fail("block_out_channels", "too many levels");
    s.downscale_factor = int64_t{1} << (s.block_out_channels.size() - 1);
    s.sample_size = reader.optional_int("sample_size", 32);
    require_range(reader, "sample_size", s.sample_size, 1, 16384);
    s.scaling_factor = reader.optional_number("scaling_factor", 0.18215);
    s.shift_factor = reader.optional_number("shift_factor");
    s.force_upcast = reader.optional_bool("force_upcast", true);
    s.latents_mean = optional_number_list(config, reader, "latents_mean");
    s.latents_std = optional_number_list(config, reader, "latents_std");
    return s;
}

TextEncoderSummary summarize_text_encoder(const nlohmann::json& config,
                                          const std::filesystem::path& path, bool has_projection) {
    const ConfigReader reader(config, path);
    TextEncoderSummary s;
    s.hidden_size = reader.required_int("hidden_size");
    s.num_hidden_layers = reader.required_int("num_hidden_layers");
    s.num_attention_heads = reader.required_int("num_attention_heads");
    s.intermediate_size = reader.required_int("intermediate_size");
    require_positive(reader, "hidden_size", s.hidden_size);
    require_positive(reader, "num_hidden_layers", s.num_hidden_layers);
    require_positive(reader, "num_attention_heads", s.num_attention_heads);
    if (s.hidden_size % s.num_attention_heads != 0)
        reader.fail("num_attention_heads", "does not divide hidden_size");
    // transformers' CLIPTextConfig defaults.
    s.max_position_embeddings = reader.optional_int("max_position_embeddings", 77);
    s.vocab_size = reader.optional_int("vocab_size", 49408);
    require_range(reader, "max_position_embeddings", s.max_position_embeddings, 1, 4096);
    require_range(reader, "vocab_size", s.vocab_size, 1, 1 << 22);
    s.hidden_act = reader.optional_string("hidden_act").value_or("quick_gelu");
    s.layer_norm_eps = reader.optional_number("layer_norm_eps", 1e-5);
    s.has_projection = has_projection;
    s.pooled_dim = has_projection ? reader.required_int("projection_dim") : s.hidden_size;
    return s;
}

void check_scheduler_config(const nlohmann::json& config, const std::filesystem::path& path) {
    const ConfigReader reader(config, path);
    if (reader.has("num_train_timesteps"))
        require_range(reader, "num_train_timesteps", reader.required_int("num_train_timesteps"), 1, 100000);
    if (const auto schedule = reader.optional_string("beta_schedule")) {
        if (*schedule != "linear" && *schedule != "scaled_linear" && *schedule != "squaredcos_cap_v2")
            reader.fail("beta_schedule", "\"" + *schedule + "\" is not one of linear, scaled_linear, squaredcos_cap_v2");
    }
    for (const char* key : {"beta_start", "beta_end"})
        if (reader.has(key)) {
            const double beta = reader.required_number(key);
            if (!(beta > 0.0 && beta < 1.0)) reader.fail(key, "must be in (0, 1), got " + std::to_string(beta));
        }
}

}  // namespace sdw
