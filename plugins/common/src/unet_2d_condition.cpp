#include "unet_2d_condition.h"

#include "config_reader.h"
#include "layers.h"
#include "run_io.h"
#include "timestep_embedding.h"
#include "transformer_2d.h"

#include <algorithm>

namespace sdw::nn {
namespace {

constexpr const char *kName = "unet";

struct UnetConfig {
    int64_t in_channels = 4, out_channels = 4;
    std::vector<int> channels;                    // block_out_channels
    std::vector<std::string> down_types, up_types;
    std::vector<int> layers_per_block, heads, transformer_layers, cross_dims;
    std::vector<int> up_transformer_layers;       // per up block, in up-block order
    int groups = 32;
    float eps = 1e-5f;
    bool flip_sin_to_cos = true;
    float freq_shift = 0.0f;
    bool linear_projection = false;
    int conv_in_kernel = 3, conv_out_kernel = 3;
    int downsample_padding = 1;
    float mid_scale = 1.0f, resnet_scale = 1.0f;
    int64_t time_embed_dim = 0;
    // SDXL addition_embed_type "text_time".
    bool text_time = false;
    int addition_time_embed_dim = 0;
    int64_t add_embedding_in = 0;
};

UnetConfig read_config(const ConfigReader &cfg) {
    UnetConfig c;
    c.in_channels = cfg.get_int("in_channels", 4);
    c.out_channels = cfg.get_int("out_channels", 4);
    c.channels = cfg.require_ints("block_out_channels");
    const size_t n = c.channels.size();
    c.down_types = cfg.require_strings("down_block_types");
    c.up_types = cfg.require_strings("up_block_types");
    if (c.down_types.size() != n || c.up_types.size() != n)
        cfg.fail_invalid("down_block_types, up_block_types and block_out_channels differ in length");
    for (const std::string &t : c.down_types)
        if (t != "CrossAttnDownBlock2D" && t != "DownBlock2D")
            cfg.fail_unsupported("down block type " + t + " is not supported");
    for (const std::string &t : c.up_types)
        if (t != "CrossAttnUpBlock2D" && t != "UpBlock2D")
            cfg.fail_unsupported("up block type " + t + " is not supported");
    const std::string mid = cfg.get_string("mid_block_type", "UNetMidBlock2DCrossAttn");
    if (mid != "UNetMidBlock2DCrossAttn") cfg.fail_unsupported("mid_block_type " + mid + " is not supported");

    c.layers_per_block = cfg.int_or_list("layers_per_block", n, 2);
    // diffusers' naming quirk: without num_attention_heads, attention_head_dim is the
    // number of heads (SD 1.x: 8; SDXL: [5, 10, 20]).
    c.heads = cfg.is_set("num_attention_heads") ? cfg.int_or_list("num_attention_heads", n, 8)
                                                : cfg.int_or_list("attention_head_dim", n, 8);
    c.transformer_layers = cfg.int_or_list("transformer_layers_per_block", n, 1);
    c.up_transformer_layers = cfg.is_set("reverse_transformer_layers_per_block")
                                  ? cfg.int_or_list("reverse_transformer_layers_per_block", n, 1)
                                  : std::vector<int>(c.transformer_layers.rbegin(), c.transformer_layers.rend());
    c.cross_dims = cfg.int_or_list("cross_attention_dim", n, 1280);
    if (!cfg.is_set("norm_num_groups")) cfg.fail_unsupported("norm_num_groups = null is not supported");
    c.groups = cfg.get_int("norm_num_groups", 32);
    c.eps = static_cast<float>(cfg.get_float("norm_eps", 1e-5));
    c.flip_sin_to_cos = cfg.get_bool("flip_sin_to_cos", true);
    c.freq_shift = static_cast<float>(cfg.get_float("freq_shift", 0));
    c.linear_projection = cfg.get_bool("use_linear_projection", false);
    c.conv_in_kernel = cfg.get_int("conv_in_kernel", 3);
    c.conv_out_kernel = cfg.get_int("conv_out_kernel", 3);
    if (c.conv_in_kernel % 2 == 0 || c.conv_out_kernel % 2 == 0 || c.conv_in_kernel <= 0 || c.conv_out_kernel <= 0)
        cfg.fail_unsupported("even conv_in_kernel / conv_out_kernel are not supported");
    c.downsample_padding = cfg.get_int("downsample_padding", 1);
    c.mid_scale = static_cast<float>(cfg.get_float("mid_block_scale_factor", 1.0));
    c.resnet_scale = static_cast<float>(cfg.get_float("resnet_out_scale_factor", 1.0));

    cfg.require_default("act_fn", "silu");
    cfg.require_default("time_embedding_type", "positional");
    cfg.require_default("resnet_time_scale_shift", "default");
    cfg.require_default("attention_type", "default");
    cfg.require_default("class_embed_type", nullptr);
    cfg.require_default("num_class_embeds", nullptr);
    cfg.require_default("encoder_hid_dim_type", nullptr);
    cfg.require_default("time_cond_proj_dim", nullptr);
    cfg.require_default("time_embedding_act_fn", nullptr);
    cfg.require_default("timestep_post_act", nullptr);
    cfg.require_default("cross_attention_norm", nullptr);
    cfg.require_default("center_input_sample", false);
    cfg.require_default("dual_cross_attention", false);
    cfg.require_default("resnet_skip_time_act", false);
    cfg.require_default("class_embeddings_concat", false);
    cfg.require_default("mid_block_only_cross_attention", false);
    cfg.require_default("only_cross_attention", false);

    c.time_embed_dim = cfg.is_set("time_embedding_dim") ? cfg.get_int("time_embedding_dim", 0)
                                                        : int64_t{c.channels.front()} * 4;
    const std::string addition = cfg.get_string("addition_embed_type", "");
    if (addition == "text_time") {
        c.text_time = true;
        if (!cfg.is_set("addition_time_embed_dim") || !cfg.is_set("projection_class_embeddings_input_dim"))
            cfg.fail_invalid("addition_embed_type text_time needs addition_time_embed_dim and "
                             "projection_class_embeddings_input_dim");
        c.addition_time_embed_dim = cfg.get_int("addition_time_embed_dim", 0);
        c.add_embedding_in = cfg.get_int("projection_class_embeddings_input_dim", 0);
    } else if (!addition.empty()) {
        cfg.fail_unsupported("addition_embed_type " + addition + " is not supported (only text_time)");
    }
    for (size_t i = 0; i < n; ++i)
        if (c.channels[i] <= 0 || c.layers_per_block[i] <= 0 || c.heads[i] <= 0 ||
            c.transformer_layers[i] <= 0 || c.up_transformer_layers[i] <= 0 || c.cross_dims[i] <= 0)
            cfg.fail_invalid("block sizes must be positive");
    return c;
}

struct UnetBlock {
    std::vector<ResnetBlock2D> resnets;
    std::vector<Transformer2D> attentions;  // empty for DownBlock2D / UpBlock2D
    bool resample = false;
    Downsample2D downsample;
    Upsample2D upsample;
};

class Unet2DCondition final : public Component {
public:
    Unet2DCondition(Ops &ops, const sdw_component_desc &desc) : ops_(ops) {
        const ConfigReader cfg(desc.config_json, kName);
        c_ = read_config(cfg);
        const WeightStore ws(ops, desc, kName);
        const size_t n = c_.channels.size();
        const int64_t temb = c_.time_embed_dim, c0 = c_.channels.front();

        conv_in_ = Conv2d::load(ws, "conv_in", c_.in_channels, c0, c_.conv_in_kernel, 1, (c_.conv_in_kernel - 1) / 2);
        time_linear_1_ = Linear::load(ws, "time_embedding.linear_1", c0, temb);
        time_linear_2_ = Linear::load(ws, "time_embedding.linear_2", temb, temb);
        if (c_.text_time) {
            add_linear_1_ = Linear::load(ws, "add_embedding.linear_1", c_.add_embedding_in, temb);
            add_linear_2_ = Linear::load(ws, "add_embedding.linear_2", temb, temb);
        }

        int64_t out = c0;
        for (size_t i = 0; i < n; ++i) {
            const std::string p = "down_blocks." + std::to_string(i);
            const int64_t in = out;
            out = c_.channels[i];
            UnetBlock block;
            const bool cross = c_.down_types[i] == "CrossAttnDownBlock2D";
            for (int j = 0; j < c_.layers_per_block[i]; ++j) {
                const std::string r = p + ".resnets." + std::to_string(j);
                block.resnets.push_back(ResnetBlock2D::load(ws, r, j == 0 ? in : out, out, temb, c_.groups, c_.eps,
                                                            c_.resnet_scale));
                if (cross)
                    block.attentions.push_back(Transformer2D::load(
                        ws, p + ".attentions." + std::to_string(j), out, c_.heads[i], c_.transformer_layers[i],
                        c_.cross_dims[i], c_.groups, c_.linear_projection));
            }
            block.resample = i + 1 < n;
            if (block.resample)
                block.downsample = Downsample2D::load(ws, p + ".downsamplers.0", out, c_.downsample_padding);
            down_.push_back(std::move(block));
        }

        const int64_t top = c_.channels.back();
        mid_.resnets.push_back(ResnetBlock2D::load(ws, "mid_block.resnets.0", top, top, temb, c_.groups, c_.eps, c_.mid_scale));
        mid_.attentions.push_back(Transformer2D::load(ws, "mid_block.attentions.0", top, c_.heads.back(),
                                                      c_.transformer_layers.back(), c_.cross_dims.back(), c_.groups,
                                                      c_.linear_projection));
        mid_.resnets.push_back(ResnetBlock2D::load(ws, "mid_block.resnets.1", top, top, temb, c_.groups, c_.eps, c_.mid_scale));

        // Up block i mirrors down block n-1-i; its resnets take the running features
        // concatenated with the skip connections popped from the down path.
        out = top;
        for (size_t i = 0; i < n; ++i) {
            const std::string p = "up_blocks." + std::to_string(i);
            const size_t mirror = n - 1 - i;
            const int64_t prev_out = out;
            out = c_.channels[mirror];
            const int64_t skip_in = c_.channels[mirror == 0 ? 0 : mirror - 1];
            const int layers = c_.layers_per_block[mirror] + 1;
            UnetBlock block;
            const bool cross = c_.up_types[i] == "CrossAttnUpBlock2D";
            for (int j = 0; j < layers; ++j) {
                const int64_t res_skip = j == layers - 1 ? skip_in : out;
                const int64_t res_in = j == 0 ? prev_out : out;
                block.resnets.push_back(ResnetBlock2D::load(ws, p + ".resnets." + std::to_string(j), res_in + res_skip,
                                                            out, temb, c_.groups, c_.eps, c_.resnet_scale));
                if (cross)
                    block.attentions.push_back(Transformer2D::load(
                        ws, p + ".attentions." + std::to_string(j), out, c_.heads[mirror], c_.up_transformer_layers[i],
                        c_.cross_dims[mirror], c_.groups, c_.linear_projection));
            }
            block.resample = i + 1 < n;
            if (block.resample) block.upsample = Upsample2D::load(ws, p + ".upsamplers.0", out);
            up_.push_back(std::move(block));
        }

        norm_out_ = GroupNorm::load(ws, "conv_norm_out", c0, c_.groups, c_.eps);
        conv_out_ = Conv2d::load(ws, "conv_out", c0, c_.out_channels, c_.conv_out_kernel, 1, (c_.conv_out_kernel - 1) / 2);
    }

    void run(const sdw_tensor_view *inputs, size_t input_count, sdw_tensor_view *outputs,
             size_t output_count, const RunOptions &options) override {
        const RunIo io(kName, inputs, input_count, outputs, output_count,
                       {"sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"}, {"noise_pred"});
        const sdw_tensor_view &sample_view = io.input("sample");
        const Shape shape = view_shape(sample_view);
        const std::vector<float> sample = io.read_f32(sample_view, 4);
        const int64_t batch = shape[0];
        if (batch <= 0 || shape[1] != c_.in_channels || shape[2] <= 0 || shape[3] <= 0)
            io.fail("sample must be [B, " + std::to_string(c_.in_channels) + ", h, w], got " + shape_str(shape));

        const sdw_tensor_view &timestep_view = io.input("timestep");
        std::vector<float> timesteps = io.read_f32(timestep_view, 1);
        if (timesteps.size() == 1 && batch > 1) timesteps.assign(static_cast<size_t>(batch), timesteps[0]);
        if (static_cast<int64_t>(timesteps.size()) != batch)
            io.fail("timestep must be [B] (or [1]), got " + shape_str(view_shape(timestep_view)));

        const sdw_tensor_view &context_view = io.input("encoder_hidden_states");
        const Shape context_shape = view_shape(context_view);
        const std::vector<float> context_values = io.read_f32(context_view, 3);
        const int64_t cross_dim = c_.cross_dims.front();
        if (!std::all_of(c_.cross_dims.begin(), c_.cross_dims.end(), [&](int d) { return d == cross_dim; }))
            throw ComponentError(SDW_STATUS_UNSUPPORTED, "unet: per-block cross_attention_dim is not supported");
        if (context_shape[0] != batch || context_shape[1] <= 0 || context_shape[2] != cross_dim)
            io.fail("encoder_hidden_states must be [" + std::to_string(batch) + ", L, " + std::to_string(cross_dim) +
                    "], got " + shape_str(context_shape));

        sdw_tensor_view &noise_pred = *io.find_output("noise_pred");
        io.check_output(noise_pred, {batch, c_.out_channels, shape[2], shape[3]});

        const Tensor temb_silu = ops_.silu(time_embedding(io, timesteps, batch));
        const Tensor context = ops_.from_host(context_values.data(), context_shape);
        Tensor x = conv_in_(ops_, ops_.from_host(sample.data(), shape));

        std::vector<Tensor> skips{x};
        for (const UnetBlock &block : down_) {
            for (size_t j = 0; j < block.resnets.size(); ++j) {
                check_cancelled(options);
                x = block.resnets[j](ops_, std::move(x), temb_silu);
                if (!block.attentions.empty()) x = block.attentions[j](ops_, x, context);
                skips.push_back(x);
            }
            if (block.resample) {
                x = block.downsample(ops_, std::move(x));
                skips.push_back(x);
            }
        }

        check_cancelled(options);
        x = mid_.resnets[0](ops_, std::move(x), temb_silu);
        x = mid_.attentions[0](ops_, x, context);
        x = mid_.resnets[1](ops_, std::move(x), temb_silu);

        for (const UnetBlock &block : up_) {
            for (size_t j = 0; j < block.resnets.size(); ++j) {
                check_cancelled(options);
                Tensor skip = std::move(skips.back());
                skips.pop_back();
                x = ops_.concat_channels(x, skip);
                skip = Tensor{};
                x = block.resnets[j](ops_, std::move(x), temb_silu);
                if (!block.attentions.empty()) x = block.attentions[j](ops_, x, context);
            }
            // Upsample to the size of the skip connection the next block takes: twice
            // the size, or one less where a stride-2 convolution rounded an odd size up.
            if (block.resample) x = block.upsample(ops_, std::move(x), skips.back().dim(2), skips.back().dim(3));
        }

        x = conv_out_(ops_, norm_out_(ops_, x, /*silu=*/true));
        io.write(ops_, x, noise_pred);
    }

private:
    // time_embedding(time_proj(t)) plus, for SDXL, add_embedding(text_embeds ++ time_proj(time_ids)).
    Tensor time_embedding(const RunIo &io, const std::vector<float> &timesteps, int64_t batch) {
        const int64_t c0 = c_.channels.front();
        const std::vector<float> projected =
            timestep_embedding(timesteps, static_cast<int>(c0), c_.flip_sin_to_cos, c_.freq_shift);
        Tensor emb = ops_.from_host(projected.data(), {batch, c0});
        emb = time_linear_2_(ops_, ops_.silu(time_linear_1_(ops_, emb)));
        if (!c_.text_time) {
            if (io.find_input("text_embeds") || io.find_input("time_ids"))
                io.fail("text_embeds and time_ids are only for UNets with addition_embed_type text_time");
            return emb;
        }
        const sdw_tensor_view &text_view = io.input("text_embeds");
        const sdw_tensor_view &ids_view = io.input("time_ids");
        const std::vector<float> text = io.read_f32(text_view, 2);
        const std::vector<float> ids = io.read_f32(ids_view, 2);
        const int64_t text_dim = text_view.shape[1], id_count = ids_view.shape[1];
        if (text_view.shape[0] != batch || ids_view.shape[0] != batch ||
            text_dim + id_count * c_.addition_time_embed_dim != c_.add_embedding_in)
            io.fail("text_embeds " + shape_str(view_shape(text_view)) + " and time_ids " +
                    shape_str(view_shape(ids_view)) + " do not add up to the " + std::to_string(c_.add_embedding_in) +
                    " features of add_embedding");
        const std::vector<float> ids_projected =
            timestep_embedding(ids, c_.addition_time_embed_dim, c_.flip_sin_to_cos, c_.freq_shift);
        const int64_t ids_dim = id_count * c_.addition_time_embed_dim;
        std::vector<float> added(static_cast<size_t>(batch * c_.add_embedding_in));
        for (int64_t b = 0; b < batch; ++b) {
            float *row = added.data() + b * c_.add_embedding_in;
            std::copy_n(text.data() + b * text_dim, text_dim, row);
            std::copy_n(ids_projected.data() + b * ids_dim, ids_dim, row + text_dim);
        }
        Tensor aug = ops_.from_host(added.data(), {batch, c_.add_embedding_in});
        aug = add_linear_2_(ops_, ops_.silu(add_linear_1_(ops_, aug)));
        return ops_.add(emb, aug);
    }

    Ops &ops_;
    UnetConfig c_;
    Conv2d conv_in_, conv_out_;
    Linear time_linear_1_, time_linear_2_, add_linear_1_, add_linear_2_;
    std::vector<UnetBlock> down_, up_;
    UnetBlock mid_;
    GroupNorm norm_out_;
};

}  // namespace

std::unique_ptr<Component> load_unet_2d_condition(Ops &ops, const sdw_component_desc &desc) {
    return std::make_unique<Unet2DCondition>(ops, desc);
}

}  // namespace sdw::nn
