#include "unet_2d_condition.h"

#include "config_reader.h"
#include "layers.h"
#include "transformer_2d.h"

#include <sdw/nn/component.h>

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
    bool upcast_attention = false;  // SD 2.x: attention in float32 under half precision
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
    c.upcast_attention = cfg.get_bool("upcast_attention", false);
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

// Device inputs in signature order; text_embeds and time_ids only with text_time.
enum UnetInput { kSample, kTimestep, kContext, kTextEmbeds, kTimeIds };

class Unet2DCondition final : public Network {
public:
    Unet2DCondition(Ops &ops, const sdw_component_desc &desc) : act_(ops.compute_dtype()) {
        const ConfigReader cfg(desc.config_json, kName);
        c_ = read_config(cfg);
        const int64_t cross_dim = c_.cross_dims.front();
        if (!std::all_of(c_.cross_dims.begin(), c_.cross_dims.end(), [&](int d) { return d == cross_dim; }))
            cfg.fail_unsupported("per-block cross_attention_dim is not supported");
        const WeightStore ws(ops, desc, kName, act_);
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
                        c_.cross_dims[i], c_.groups, c_.linear_projection, c_.upcast_attention));
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
                                                      c_.linear_projection, c_.upcast_attention));
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
                        c_.cross_dims[mirror], c_.groups, c_.linear_projection, c_.upcast_attention));
            }
            block.resample = i + 1 < n;
            if (block.resample) block.upsample = Upsample2D::load(ws, p + ".upsamplers.0", out);
            up_.push_back(std::move(block));
        }

        norm_out_ = GroupNorm::load(ws, "conv_norm_out", c0, c_.groups, c_.eps);
        conv_out_ = Conv2d::load(ws, "conv_out", c0, c_.out_channels, c_.conv_out_kernel, 1, (c_.conv_out_kernel - 1) / 2);
    }

    const char *kind() const override { return kName; }
    std::vector<std::string> input_names() const override {
        return {"sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"};
    }
    std::vector<std::string> output_names() const override { return {"noise_pred"}; }
    std::vector<std::string> default_outputs() const override { return {"noise_pred"}; }

    Signature bind(const IoRequest &io) const override {
        const Shape shape = io.f32_shape("sample", 4);
        const int64_t batch = shape[0];
        if (batch <= 0 || shape[1] != c_.in_channels || shape[2] <= 0 || shape[3] <= 0)
            io.fail("sample must be [B, " + std::to_string(c_.in_channels) + ", h, w], got " + shape_str(shape));
        const Shape timestep = io.f32_shape("timestep", 1);
        if (timestep[0] != batch && timestep[0] != 1)
            io.fail("timestep must be [B] (or [1]), got " + shape_str(timestep));
        const Shape context = io.f32_shape("encoder_hidden_states", 3);
        const int64_t cross_dim = c_.cross_dims.front();
        if (context[0] != batch || context[1] <= 0 || context[2] != cross_dim)
            io.fail("encoder_hidden_states must be [" + std::to_string(batch) + ", L, " + std::to_string(cross_dim) +
                    "], got " + shape_str(context));
        Signature s;
        s.inputs = {{"sample", DType::F32, shape}, {"timestep", DType::F32, {batch}},
                    {"encoder_hidden_states", DType::F32, context}};
        if (!c_.text_time) {
            if (io.find("text_embeds") || io.find("time_ids"))
                io.fail("text_embeds and time_ids are only for UNets with addition_embed_type text_time");
        } else {
            const Shape text = io.f32_shape("text_embeds", 2), ids = io.f32_shape("time_ids", 2);
            if (text[0] != batch || ids[0] != batch || text[1] + ids[1] * c_.addition_time_embed_dim != c_.add_embedding_in)
                io.fail("text_embeds " + shape_str(text) + " and time_ids " + shape_str(ids) + " do not add up to the " +
                        std::to_string(c_.add_embedding_in) + " features of add_embedding");
            s.inputs.push_back({"text_embeds", DType::F32, text});
            s.inputs.push_back({"time_ids", DType::F32, ids});
        }
        s.outputs = {{"noise_pred", DType::F32, {batch, c_.out_channels, shape[2], shape[3]}}};
        return s;
    }

    StagedInputs stage(const IoRequest &io, const Signature &s) const override {
        StagedInputs staged;
        for (const TensorSpec &spec : s.inputs) staged.push_back(copy_bytes(io.require(spec.name)));
        // One timestep for the whole batch, as diffusers broadcasts it.
        const sdw_tensor_view &timestep = io.require("timestep");
        const int64_t batch = s.inputs[kSample].shape[0];
        if (timestep.shape[0] != batch)
            staged[kTimestep] = as_bytes(std::vector<float>(static_cast<size_t>(batch), *static_cast<const float *>(timestep.data)));
        return staged;
    }

    std::vector<Tensor> forward(Ops &ops, const Signature &, const std::vector<Tensor> &in,
                                SegmentBoundary &segments) const override {
        const Tensor temb_silu = ops.silu(time_embedding(ops, in));
        const Tensor context = ops.cast(in[kContext], act_);
        Tensor x = conv_in_(ops, ops.cast(in[kSample], act_));

        std::vector<Tensor> skips{x};
        for (const UnetBlock &block : down_) {
            for (size_t j = 0; j < block.resnets.size(); ++j) {
                x = block.resnets[j](ops, std::move(x), temb_silu);
                if (!block.attentions.empty()) x = block.attentions[j](ops, x, context);
                skips.push_back(x);
            }
            if (block.resample) {
                x = block.downsample(ops, std::move(x));
                skips.push_back(x);
            }
            segments.end_segment();
        }

        x = mid_.resnets[0](ops, std::move(x), temb_silu);
        x = mid_.attentions[0](ops, x, context);
        x = mid_.resnets[1](ops, std::move(x), temb_silu);
        segments.end_segment();

        for (const UnetBlock &block : up_) {
            for (size_t j = 0; j < block.resnets.size(); ++j) {
                Tensor skip = std::move(skips.back());
                skips.pop_back();
                x = ops.concat(x, skip, 1);
                skip = Tensor{};
                x = block.resnets[j](ops, std::move(x), temb_silu);
                if (!block.attentions.empty()) x = block.attentions[j](ops, x, context);
            }
            // Upsample to the size of the skip connection the next block takes: twice
            // the size, or one less where a stride-2 convolution rounded an odd size up.
            if (block.resample) x = block.upsample(ops, std::move(x), skips.back().dim(2), skips.back().dim(3));
            segments.end_segment();
        }

        x = conv_out_(ops, norm_out_(ops, x, /*silu=*/true));
        return {ops.cast(x, DType::F32)};
    }

private:
    // time_embedding(time_proj(t)) plus, for SDXL, add_embedding(text_embeds ++ time_proj(time_ids)).
    Tensor time_embedding(Ops &ops, const std::vector<Tensor> &in) const {
        const int64_t c0 = c_.channels.front();
        Tensor emb = ops.timestep_embedding(in[kTimestep], static_cast<int>(c0), c_.flip_sin_to_cos, c_.freq_shift);
        emb = time_linear_2_(ops, ops.silu(time_linear_1_(ops, ops.cast(emb, act_))));
        if (!c_.text_time) return emb;
        const int64_t batch = in[kTimeIds].dim(0), ids_dim = in[kTimeIds].dim(1) * c_.addition_time_embed_dim;
        Tensor ids = ops.timestep_embedding(ops.reshape(in[kTimeIds], {in[kTimeIds].numel()}),
                                            c_.addition_time_embed_dim, c_.flip_sin_to_cos, c_.freq_shift);
        Tensor aug = ops.concat(in[kTextEmbeds], ops.reshape(ids, {batch, ids_dim}), 1);
        aug = add_linear_2_(ops, ops.silu(add_linear_1_(ops, ops.cast(aug, act_))));
        return ops.add(emb, aug);
    }

    DType act_;
    UnetConfig c_;
    Conv2d conv_in_, conv_out_;
    Linear time_linear_1_, time_linear_2_, add_linear_1_, add_linear_2_;
    std::vector<UnetBlock> down_, up_;
    UnetBlock mid_;
    GroupNorm norm_out_;
};

}  // namespace

std::unique_ptr<Network> load_unet_2d_condition(Ops &ops, const sdw_component_desc &desc) {
    return std::make_unique<Unet2DCondition>(ops, desc);
}

}  // namespace sdw::nn
