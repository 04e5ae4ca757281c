#include "flop_count.h"

#include <string>
#include <vector>

namespace sdw::bench {
namespace {

// FLOPs of the layers, for ONE batch item.
double conv(int64_t cin, int64_t cout, int64_t k, int64_t out_h, int64_t out_w) {
    return 2.0 * cin * cout * k * k * out_h * out_w;
}
double linear(int64_t rows, int64_t in, int64_t out) { return 2.0 * rows * in * out; }
// QK^T and PV over all heads: each is rows x keys x channels multiply-adds.
double attention_matmuls(int64_t q_rows, int64_t keys, int64_t channels) {
    return 2.0 * 2.0 * q_rows * keys * channels;
}

// A ResnetBlock2D at n = h*w pixels.
double resnet(int64_t in, int64_t out, int64_t temb, int64_t h, int64_t w) {
    double f = conv(in, out, 3, h, w) + conv(out, out, 3, h, w);
    if (temb > 0) f += linear(1, temb, out);
    if (in != out) f += conv(in, out, 1, h, w);
    return f;
}

// Transformer2DModel with `layers` BasicTransformerBlocks (self-attention, cross-attention,
// GEGLU feed-forward of 4C) and proj_in/proj_out (1x1 conv or linear: the same count).
double transformer(int64_t c, int64_t layers, int64_t n, int64_t context_len, int64_t context_dim) {
    double f = 2 * linear(n, c, c);
    for (int64_t l = 0; l < layers; ++l) {
        f += 4 * linear(n, c, c) + attention_matmuls(n, n, c);                  // attn1
        f += 2 * linear(n, c, c) + 2 * linear(context_len, context_dim, c) +    // attn2
             attention_matmuls(n, context_len, c);
        f += linear(n, c, 8 * c) + linear(n, 4 * c, c);                         // ff
    }
    return f;
}

std::vector<int64_t> per_block(const nlohmann::json &config, const char *key, size_t n,
                               int64_t fallback) {
    std::vector<int64_t> values(n, fallback);
    if (!config.contains(key) || config[key].is_null()) return values;
    if (config[key].is_array())
        for (size_t i = 0; i < n; ++i) values[i] = config[key][i].get<int64_t>();
    else
        values.assign(n, config[key].get<int64_t>());
    return values;
}

}  // namespace

double unet_flops(const nlohmann::json &config, int64_t batch, int64_t latent_h,
                  int64_t latent_w, int64_t context_len) {
    const auto channels = config.at("block_out_channels").get<std::vector<int64_t>>();
    const size_t n = channels.size();
    const auto down_types = config.at("down_block_types").get<std::vector<std::string>>();
    const auto up_types = config.at("up_block_types").get<std::vector<std::string>>();
    const auto layers = per_block(config, "layers_per_block", n, 2);
    const auto tlayers = per_block(config, "transformer_layers_per_block", n, 1);
    const auto context_dims = per_block(config, "cross_attention_dim", n, 768);
    const int64_t c0 = channels.front();
    const int64_t in = config.value("in_channels", 4), out_channels = config.value("out_channels", 4);
    const int64_t temb = config.contains("time_embedding_dim") && !config["time_embedding_dim"].is_null()
                             ? config["time_embedding_dim"].get<int64_t>()
                             : 4 * c0;
    int64_t h = latent_h, w = latent_w;

    double f = linear(1, c0, temb) + linear(1, temb, temb);
    f += conv(in, c0, config.value("conv_in_kernel", 3), h, w);
    int64_t prev = c0;
    for (size_t i = 0; i < n; ++i) {
        const int64_t c = channels[i];
        for (int64_t j = 0; j < layers[i]; ++j) {
            f += resnet(j == 0 ? prev : c, c, temb, h, w);
            if (down_types[i].rfind("CrossAttn", 0) == 0)
                f += transformer(c, tlayers[i], h * w, context_len, context_dims[i]);
        }
        prev = c;
        if (i + 1 < n) {
            h /= 2;
            w /= 2;
            f += conv(c, c, 3, h, w);
        }
    }
    const int64_t top = channels.back();
    f += 2 * resnet(top, top, temb, h, w) + transformer(top, tlayers.back(), h * w, context_len, context_dims.back());
    for (size_t i = 0; i < n; ++i) {
        const size_t mirror = n - 1 - i;
        const int64_t c = channels[mirror], skip = channels[mirror == 0 ? 0 : mirror - 1];
        const int64_t count = layers[mirror] + 1;
        for (int64_t j = 0; j < count; ++j) {
            const int64_t res_in = (j == 0 ? prev : c) + (j == count - 1 ? skip : c);
            f += resnet(res_in, c, temb, h, w);
            if (up_types[i].rfind("CrossAttn", 0) == 0)
                f += transformer(c, tlayers[mirror], h * w, context_len, context_dims[mirror]);
        }
        prev = c;
        if (i + 1 < n) {
            h *= 2;
            w *= 2;
            f += conv(c, c, 3, h, w);
        }
    }
    f += conv(c0, out_channels, config.value("conv_out_kernel", 3), h, w);
    return f * static_cast<double>(batch);
}

double vae_decoder_flops(const nlohmann::json &config, int64_t batch, int64_t latent_h,
                         int64_t latent_w) {
    const auto channels = config.at("block_out_channels").get<std::vector<int64_t>>();
    const size_t n = channels.size();
    const int64_t layers = config.value("layers_per_block", 2);
    const int64_t latent = config.value("latent_channels", 4);
    const int64_t out_channels = config.value("out_channels", 3);
    int64_t h = latent_h, w = latent_w;
    const int64_t top = channels.back();
    double f = conv(latent, latent, 1, h, w) + conv(latent, top, 3, h, w);
    // Mid block: resnet, single-head attention over every pixel, resnet.
    f += 2 * resnet(top, top, 0, h, w) + 4 * linear(h * w, top, top) + attention_matmuls(h * w, h * w, top);
    int64_t prev = top;
    for (size_t i = 0; i < n; ++i) {
        const int64_t c = channels[n - 1 - i];
        for (int64_t j = 0; j <= layers; ++j) f += resnet(j == 0 ? prev : c, c, 0, h, w);
        prev = c;
        if (i + 1 < n) {
            h *= 2;
            w *= 2;
            f += conv(c, c, 3, h, w);
        }
    }
    f += conv(channels.front(), out_channels, 3, h, w);
    return f * static_cast<double>(batch);
}

double text_encoder_flops(const nlohmann::json &config, int64_t batch, int64_t tokens) {
    const int64_t c = config.value("hidden_size", 768), ff = config.value("intermediate_size", 3072);
    const int64_t layers = config.value("num_hidden_layers", 12);
    const double per_layer = 4 * linear(tokens, c, c) + attention_matmuls(tokens, tokens, c) +
                             linear(tokens, c, ff) + linear(tokens, ff, c);
    return per_layer * static_cast<double>(layers * batch);
}

}  // namespace sdw::bench
