#include "autoencoder_kl.h"

#include "config_reader.h"
#include "layers.h"
#include "transformer_2d.h"

#include <sdw/nn/component.h>

#include <algorithm>

namespace sdw::nn {
namespace {

// The VAE's resnets and attention use a fixed epsilon, not a config value.
constexpr float kVaeEps = 1e-6f;

struct VaeConfig {
    std::vector<int> channels;  // block_out_channels
    int layers_per_block = 1;
    int groups = 32;
    int64_t in_channels = 3, out_channels = 3, latent_channels = 4;
    bool mid_attention = true;
    bool quant_conv = true, post_quant_conv = true;
    // diffusers runs such a VAE in float32 whatever the pipeline's dtype (SD 1.x/2.x
    // and SDXL VAEs overflow in half precision).
    bool force_upcast = true;

    int64_t scale() const { return int64_t{1} << (channels.size() - 1); }
};

VaeConfig read_config(const ConfigReader &cfg, bool encoder) {
    VaeConfig c;
    c.channels = cfg.require_ints("block_out_channels");
    c.layers_per_block = cfg.get_int("layers_per_block", 1);
    c.groups = cfg.get_int("norm_num_groups", 32);
    c.in_channels = cfg.get_int("in_channels", 3);
    c.out_channels = cfg.get_int("out_channels", 3);
    c.latent_channels = cfg.get_int("latent_channels", 4);
    c.mid_attention = cfg.get_bool("mid_block_add_attention", true);
    c.quant_conv = cfg.get_bool("use_quant_conv", true);
    c.post_quant_conv = cfg.get_bool("use_post_quant_conv", true);
    c.force_upcast = cfg.get_bool("force_upcast", true);
    cfg.require_default("act_fn", "silu");
    const char *key = encoder ? "down_block_types" : "up_block_types";
    const char *expected = encoder ? "DownEncoderBlock2D" : "UpDecoderBlock2D";
    const std::vector<std::string> types = cfg.require_strings(key);
    for (const std::string &type : types)
        if (type != expected) cfg.fail_unsupported(std::string(key) + " entry " + type + " is not supported");
    if (types.size() != c.channels.size())
        cfg.fail_invalid(std::string(key) + " and block_out_channels differ in length");
    if (c.layers_per_block <= 0 || c.latent_channels <= 0 || c.in_channels <= 0 ||
        c.out_channels <= 0 || std::any_of(c.channels.begin(), c.channels.end(), [](int v) { return v <= 0; }))
        cfg.fail_invalid("sizes must be positive");
    return c;
}

// UNetMidBlock2D without time embedding: resnet, [single-head attention], resnet.
struct VaeMidBlock {
    ResnetBlock2D first, second;
    bool has_attention = false;
    GroupNorm attn_norm;
    Attention attn;

    static VaeMidBlock load(const WeightStore &ws, const std::string &prefix, int64_t channels,
                            int groups, bool with_attention) {
        VaeMidBlock mid;
        mid.first = ResnetBlock2D::load(ws, prefix + ".resnets.0", channels, channels, 0, groups, kVaeEps, 1.0f);
        mid.has_attention = with_attention;
        if (with_attention) {
            const std::string a = prefix + ".attentions.0";
            mid.attn_norm = GroupNorm::load(ws, a + ".group_norm", channels, groups, kVaeEps);
            if (ws.has(a + ".query.weight")) {
                // diffusers' names before 0.14 (query/key/value/proj_attn), which
                // diffusers itself still converts on load.
                mid.attn.to_q = Linear::load(ws, a + ".query", channels, channels);
                mid.attn.to_k = Linear::load(ws, a + ".key", channels, channels);
                mid.attn.to_v = Linear::load(ws, a + ".value", channels, channels);
                mid.attn.to_out = Linear::load(ws, a + ".proj_attn", channels, channels);
                mid.attn.heads = 1;
            } else {
                mid.attn = Attention::load(ws, a, channels, channels, 1, channels, /*qkv_bias=*/true);
            }
        }
        mid.second = ResnetBlock2D::load(ws, prefix + ".resnets.1", channels, channels, 0, groups, kVaeEps, 1.0f);
        return mid;
    }

    Tensor operator()(Ops &ops, Tensor x) const {
        x = first(ops, std::move(x), Tensor{});
        if (has_attention) {
            const int64_t h = x.dim(2), w = x.dim(3);
            Tensor tokens = ops.nchw_to_nlc(attn_norm(ops, x, false));
            Tensor attended = ops.nlc_to_nchw(attn(ops, tokens, Tensor{}), h, w);
            tokens = Tensor{};
            x = ops.add(attended, x);
        }
        return second(ops, std::move(x), Tensor{});
    }
};

struct VaeLevel {
    std::vector<ResnetBlock2D> resnets;
    Downsample2D downsample;
    Upsample2D upsample;
    bool resample = false;
};

// The dtype a VAE computes in: float32 when its config forces the upcast.
DType vae_dtype(const Ops &ops, const VaeConfig &c) { return c.force_upcast ? DType::F32 : ops.compute_dtype(); }

class VaeDecoder final : public Network {
public:
    VaeDecoder(Ops &ops, const sdw_component_desc &desc) {
        const ConfigReader cfg(desc.config_json, "vae_decoder");
        c_ = read_config(cfg, false);
        act_ = vae_dtype(ops, c_);
        const WeightStore ws(ops, desc, "vae_decoder", act_);
        const int64_t top = c_.channels.back(), g = c_.groups;
        if (c_.post_quant_conv)
            post_quant_conv_ = Conv2d::load(ws, "post_quant_conv", c_.latent_channels, c_.latent_channels, 1, 1, 0);
        conv_in_ = Conv2d::load(ws, "decoder.conv_in", c_.latent_channels, top, 3, 1, 1);
        mid_ = VaeMidBlock::load(ws, "decoder.mid_block", top, c_.groups, c_.mid_attention);
        int64_t out = top;
        const size_t n = c_.channels.size();
        for (size_t i = 0; i < n; ++i) {
            const std::string p = "decoder.up_blocks." + std::to_string(i);
            const int64_t in = out;
            out = c_.channels[n - 1 - i];
            VaeLevel level;
            for (int j = 0; j <= c_.layers_per_block; ++j)
                level.resnets.push_back(ResnetBlock2D::load(ws, p + ".resnets." + std::to_string(j),
                                                            j == 0 ? in : out, out, 0, c_.groups, kVaeEps, 1.0f));
            level.resample = i + 1 < n;
            if (level.resample) level.upsample = Upsample2D::load(ws, p + ".upsamplers.0", out);
            levels_.push_back(std::move(level));
        }
        norm_out_ = GroupNorm::load(ws, "decoder.conv_norm_out", c_.channels.front(), static_cast<int>(g), kVaeEps);
        conv_out_ = Conv2d::load(ws, "decoder.conv_out", c_.channels.front(), c_.out_channels, 3, 1, 1);
    }

    const char *kind() const override { return "vae_decoder"; }
    std::vector<std::string> input_names() const override { return {"latents"}; }
    std::vector<std::string> output_names() const override { return {"image"}; }
    std::vector<std::string> default_outputs() const override { return {"image"}; }

    Signature bind(const IoRequest &io) const override {
        const Shape in = io.f32_shape("latents", 4);
        if (in[1] != c_.latent_channels || in[0] <= 0 || in[2] <= 0 || in[3] <= 0)
            io.fail("latents must be [B, " + std::to_string(c_.latent_channels) + ", h, w], got " + shape_str(in));
        Signature s;
        s.inputs = {{"latents", DType::F32, in}};
        s.outputs = {{"image", DType::F32, {in[0], c_.out_channels, in[2] * c_.scale(), in[3] * c_.scale()}}};
        return s;
    }

    StagedInputs stage(const IoRequest &io, const Signature &) const override {
        return {copy_bytes(io.require("latents"))};
    }

    std::vector<Tensor> forward(Ops &ops, const Signature &, const std::vector<Tensor> &in,
                                SegmentBoundary &segments) const override {
        Tensor x = ops.cast(in[0], act_);
        if (c_.post_quant_conv) x = post_quant_conv_(ops, x);
        x = conv_in_(ops, x);
        x = mid_(ops, std::move(x));
        segments.end_segment();
        for (const VaeLevel &level : levels_) {
            for (const ResnetBlock2D &resnet : level.resnets) x = resnet(ops, std::move(x), Tensor{});
            if (level.resample) x = level.upsample(ops, std::move(x));
            segments.end_segment();
        }
        x = conv_out_(ops, norm_out_(ops, x, /*silu=*/true));
        return {ops.cast(x, DType::F32)};
    }

private:
    VaeConfig c_;
    DType act_ = DType::F32;
    Conv2d post_quant_conv_, conv_in_, conv_out_;
    VaeMidBlock mid_;
    std::vector<VaeLevel> levels_;
    GroupNorm norm_out_;
};

class VaeEncoder final : public Network {
public:
    VaeEncoder(Ops &ops, const sdw_component_desc &desc) {
        const ConfigReader cfg(desc.config_json, "vae_encoder");
        c_ = read_config(cfg, true);
        act_ = vae_dtype(ops, c_);
        const WeightStore ws(ops, desc, "vae_encoder", act_);
        const int64_t moments = 2 * c_.latent_channels;
        conv_in_ = Conv2d::load(ws, "encoder.conv_in", c_.in_channels, c_.channels.front(), 3, 1, 1);
        int64_t out = c_.channels.front();
        const size_t n = c_.channels.size();
        for (size_t i = 0; i < n; ++i) {
            const std::string p = "encoder.down_blocks." + std::to_string(i);
            const int64_t in = out;
            out = c_.channels[i];
            VaeLevel level;
            for (int j = 0; j < c_.layers_per_block; ++j)
                level.resnets.push_back(ResnetBlock2D::load(ws, p + ".resnets." + std::to_string(j),
                                                            j == 0 ? in : out, out, 0, c_.groups, kVaeEps, 1.0f));
            level.resample = i + 1 < n;
            if (level.resample) level.downsample = Downsample2D::load(ws, p + ".downsamplers.0", out, 0);
            levels_.push_back(std::move(level));
        }
        const int64_t top = c_.channels.back();
        mid_ = VaeMidBlock::load(ws, "encoder.mid_block", top, c_.groups, c_.mid_attention);
        norm_out_ = GroupNorm::load(ws, "encoder.conv_norm_out", top, c_.groups, kVaeEps);
        conv_out_ = Conv2d::load(ws, "encoder.conv_out", top, moments, 3, 1, 1);
        if (c_.quant_conv) quant_conv_ = Conv2d::load(ws, "quant_conv", moments, moments, 1, 1, 0);
    }

    const char *kind() const override { return "vae_encoder"; }
    std::vector<std::string> input_names() const override { return {"image"}; }
    std::vector<std::string> output_names() const override { return {"mean", "logvar"}; }
    std::vector<std::string> default_outputs() const override { return {"mean", "logvar"}; }

    Signature bind(const IoRequest &io) const override {
        const Shape in = io.f32_shape("image", 4);
        const int64_t scale = c_.scale();
        if (in[1] != c_.in_channels || in[0] <= 0 || in[2] <= 0 || in[3] <= 0 || in[2] % scale != 0 ||
            in[3] % scale != 0)
            io.fail("image must be [B, " + std::to_string(c_.in_channels) + ", H, W] with H and W multiples of " +
                    std::to_string(scale) + ", got " + shape_str(in));
        const Shape latent{in[0], c_.latent_channels, in[2] / scale, in[3] / scale};
        Signature s;
        s.inputs = {{"image", DType::F32, in}};
        for (const char *name : {"mean", "logvar"})
            if (io.wants(name)) s.outputs.push_back({name, DType::F32, latent});
        return s;
    }

    StagedInputs stage(const IoRequest &io, const Signature &) const override {
        return {copy_bytes(io.require("image"))};
    }

    std::vector<Tensor> forward(Ops &ops, const Signature &s, const std::vector<Tensor> &in,
                                SegmentBoundary &segments) const override {
        Tensor x = conv_in_(ops, ops.cast(in[0], act_));
        for (const VaeLevel &level : levels_) {
            for (const ResnetBlock2D &resnet : level.resnets) x = resnet(ops, std::move(x), Tensor{});
            if (level.resample) x = level.downsample(ops, std::move(x));
            segments.end_segment();
        }
        x = mid_(ops, std::move(x));
        x = conv_out_(ops, norm_out_(ops, x, /*silu=*/true));
        if (c_.quant_conv) x = quant_conv_(ops, x);
        // Moments are [B, 2 * latent, h, w]: mean channels first, then logvar (torch.chunk).
        x = ops.cast(x, DType::F32);
        std::vector<Tensor> out;
        for (const TensorSpec &o : s.outputs) {
            if (o.name == "mean") out.push_back(ops.narrow(x, 1, 0, c_.latent_channels));
            if (o.name == "logvar")
                out.push_back(ops.clamp(ops.narrow(x, 1, c_.latent_channels, c_.latent_channels), -30.0f, 20.0f));
        }
        return out;
    }

private:
    VaeConfig c_;
    DType act_ = DType::F32;
    Conv2d conv_in_, conv_out_, quant_conv_;
    std::vector<VaeLevel> levels_;
    VaeMidBlock mid_;
    GroupNorm norm_out_;
};

}  // namespace

std::unique_ptr<Network> load_vae_decoder(Ops &ops, const sdw_component_desc &desc) {
    return std::make_unique<VaeDecoder>(ops, desc);
}

std::unique_ptr<Network> load_vae_encoder(Ops &ops, const sdw_component_desc &desc) {
    return std::make_unique<VaeEncoder>(ops, desc);
}

}  // namespace sdw::nn
