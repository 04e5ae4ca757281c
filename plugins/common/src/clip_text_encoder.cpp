#include "clip_text_encoder.h"

#include "config_reader.h"
#include "layers.h"
#include "run_io.h"

#include <algorithm>

namespace sdw::nn {
namespace {

constexpr const char *kName = "text_encoder";

struct ClipConfig {
    int64_t hidden = 0, intermediate = 0, vocab = 0, max_positions = 0;
    int heads = 0, layers = 0;
    float eps = 1e-5f;
    bool quick_gelu = true;
    int64_t eos_token_id = 2;
    bool with_projection = false;
    int64_t projection_dim = 0;
};

ClipConfig read_config(const ConfigReader &cfg, const WeightStore &ws) {
    ClipConfig c;
    c.hidden = cfg.require_int("hidden_size");
    c.intermediate = cfg.require_int("intermediate_size");
    c.heads = cfg.require_int("num_attention_heads");
    c.layers = cfg.require_int("num_hidden_layers");
    c.vocab = cfg.get_int("vocab_size", 49408);
    c.max_positions = cfg.get_int("max_position_embeddings", 77);
    c.eps = static_cast<float>(cfg.get_float("layer_norm_eps", 1e-5));
    c.eos_token_id = cfg.get_int("eos_token_id", 2);
    if (c.hidden <= 0 || c.intermediate <= 0 || c.layers <= 0 || c.vocab <= 0 ||
        c.max_positions <= 0)
        cfg.fail_invalid("sizes must be positive");
    if (c.heads <= 0 || c.hidden % c.heads != 0)
        cfg.fail_invalid("hidden_size " + std::to_string(c.hidden) +
                         " is not divisible into num_attention_heads " + std::to_string(c.heads));
    const std::string act = cfg.get_string("hidden_act", "quick_gelu");
    if (act == "quick_gelu") {
        c.quick_gelu = true;
    } else if (act == "gelu") {
        c.quick_gelu = false;
    } else {
        cfg.fail_unsupported("hidden_act \"" + act + "\" is not supported (quick_gelu, gelu)");
    }
    bool declared_projection = false;
    if (cfg.is_set("architectures")) {
        for (const std::string &arch : cfg.require_strings("architectures"))
            declared_projection |= arch == "CLIPTextModelWithProjection";
    }
    c.with_projection = declared_projection || ws.has("text_projection.weight");
    if (c.with_projection)
        c.projection_dim = cfg.get_int("projection_dim", 512);
    return c;
}

struct ClipLayer {
    LayerNorm norm1, norm2;
    Linear q, k, v, out, fc1, fc2;
};

class ClipTextEncoder final : public Component {
public:
    ClipTextEncoder(Ops &ops, const sdw_component_desc &desc) : ops_(ops) {
        const ConfigReader cfg(desc.config_json, kName);
        const WeightStore ws(ops, desc, kName, "text_model.");
        c_ = read_config(cfg, ws);
        const int64_t d = c_.hidden;
        token_embedding_ = ws.take("embeddings.token_embedding.weight", {c_.vocab, d});
        position_embedding_ = ws.take("embeddings.position_embedding.weight", {c_.max_positions, d});
        for (int i = 0; i < c_.layers; ++i) {
            const std::string p = "encoder.layers." + std::to_string(i);
            ClipLayer layer;
            layer.norm1 = LayerNorm::load(ws, p + ".layer_norm1", d, c_.eps);
            layer.q = Linear::load(ws, p + ".self_attn.q_proj", d, d);
            layer.k = Linear::load(ws, p + ".self_attn.k_proj", d, d);
            layer.v = Linear::load(ws, p + ".self_attn.v_proj", d, d);
            layer.out = Linear::load(ws, p + ".self_attn.out_proj", d, d);
            layer.norm2 = LayerNorm::load(ws, p + ".layer_norm2", d, c_.eps);
            layer.fc1 = Linear::load(ws, p + ".mlp.fc1", d, c_.intermediate);
            layer.fc2 = Linear::load(ws, p + ".mlp.fc2", c_.intermediate, d);
            layers_.push_back(std::move(layer));
        }
        final_norm_ = LayerNorm::load(ws, "final_layer_norm", d, c_.eps);
        if (c_.with_projection)
            projection_ = Linear::load(ws, "text_projection", d, c_.projection_dim, false);
    }

    void run(const sdw_tensor_view *inputs, size_t input_count, sdw_tensor_view *outputs,
             size_t output_count, const RunOptions &options) override {
        const RunIo io(kName, inputs, input_count, outputs, output_count, {"input_ids"},
                       {"last_hidden_state", "hidden_state", "hidden_state_normed", "pooled"});
        const sdw_tensor_view &ids_view = io.input("input_ids");
        const std::vector<int32_t> ids = io.read_ids(ids_view, 2);
        const int64_t batch = ids_view.shape[0], length = ids_view.shape[1];
        if (batch <= 0 || length <= 0 || length > c_.max_positions)
            io.fail("input_ids must be [B, L] with 1 <= L <= " + std::to_string(c_.max_positions) +
                    ", got " + shape_str(view_shape(ids_view)));
        for (int32_t id : ids)
            if (id < 0 || id >= c_.vocab)
                io.fail("input_ids holds token " + std::to_string(id) + " outside the vocabulary of " +
                        std::to_string(c_.vocab));

        const Shape states{batch, length, c_.hidden};
        sdw_tensor_view *last = io.find_output("last_hidden_state");
        sdw_tensor_view *hidden = io.find_output("hidden_state");
        sdw_tensor_view *hidden_normed = io.find_output("hidden_state_normed");
        sdw_tensor_view *pooled = io.find_output("pooled");
        for (sdw_tensor_view *view : {last, hidden, hidden_normed})
            if (view) io.check_output(*view, states);
        if (pooled)
            io.check_output(*pooled, {batch, c_.with_projection ? c_.projection_dim : c_.hidden});

        // hidden_states[-clip_skip] in transformers' numbering: the output of layer
        // layers - clip_skip + 1 (1-based).
        const int clip_skip = std::max(options.clip_skip, 1);
        if ((hidden || hidden_normed) && clip_skip > c_.layers)
            io.fail("clip_skip " + std::to_string(clip_skip) + " exceeds the " +
                    std::to_string(c_.layers) + " encoder layers");
        const int selected_layer = c_.layers - clip_skip + 1;
        const bool need_final = last || pooled;
        const int layers_to_run = need_final ? c_.layers : selected_layer;

        Tensor x = embed(ids, batch, length);
        for (int i = 1; i <= layers_to_run; ++i) {
            check_cancelled(options);
            x = encoder_layer(layers_[static_cast<size_t>(i - 1)], std::move(x));
            if (i == selected_layer) {
                if (hidden) io.write(ops_, x, *hidden);
                if (hidden_normed) io.write(ops_, final_norm_(ops_, x), *hidden_normed);
            }
        }
        if (!need_final) return;
        Tensor normed = final_norm_(ops_, x);
        x = Tensor{};
        std::vector<float> host_states(static_cast<size_t>(normed.numel()));
        ops_.to_host(normed, host_states.data());
        if (last) io.write(host_states, *last);
        if (pooled) write_pooled(io, ids, host_states, batch, length, *pooled);
    }

private:
    Tensor embed(const std::vector<int32_t> &ids, int64_t batch, int64_t length) {
        std::vector<int32_t> positions(static_cast<size_t>(batch * length));
        for (size_t i = 0; i < positions.size(); ++i)
            positions[i] = static_cast<int32_t>(static_cast<int64_t>(i) % length);
        const Shape shape{batch, length, c_.hidden};
        Tensor tokens = ops_.reshape(ops_.embedding(ids, token_embedding_), shape);
        Tensor where = ops_.reshape(ops_.embedding(positions, position_embedding_), shape);
        return ops_.add(tokens, where);
    }

    Tensor encoder_layer(const ClipLayer &layer, Tensor x) {
        Tensor h = layer.norm1(ops_, x);
        Tensor q = layer.q(ops_, h), k = layer.k(ops_, h), v = layer.v(ops_, h);
        h = layer.out(ops_, ops_.attention(q, k, v, c_.heads, /*causal=*/true));
        q = k = v = Tensor{};
        x = ops_.add(x, h);
        h = layer.fc1(ops_, layer.norm2(ops_, x));
        h = c_.quick_gelu ? ops_.quick_gelu(h) : ops_.gelu(h);
        return ops_.add(x, layer.fc2(ops_, h));
    }

    // transformers picks the EOS position as the first occurrence of eos_token_id,
    // except for configs from before that field was right (eos_token_id == 2), where
    // it takes the largest id, which is EOS in the CLIP vocabulary.
    int64_t eos_position(const std::vector<int32_t> &ids, int64_t b, int64_t length) const {
        const int32_t *row = ids.data() + b * length;
        if (c_.eos_token_id == 2) return std::max_element(row, row + length) - row;
        for (int64_t i = 0; i < length; ++i)
            if (row[i] == c_.eos_token_id) return i;
        return 0;
    }

    void write_pooled(const RunIo &io, const std::vector<int32_t> &ids,
                      const std::vector<float> &states, int64_t batch, int64_t length,
                      sdw_tensor_view &out) {
        const int64_t d = c_.hidden;
        std::vector<float> rows(static_cast<size_t>(batch * d));
        for (int64_t b = 0; b < batch; ++b) {
            const int64_t at = eos_position(ids, b, length);
            std::copy_n(states.data() + (b * length + at) * d, d, rows.data() + b * d);
        }
        if (!c_.with_projection) {
            io.write(rows, out);
            return;
        }
        Tensor pooled = ops_.from_host(rows.data(), {batch, d});
        io.write(ops_, projection_(ops_, pooled), out);
    }

    Ops &ops_;
    ClipConfig c_;
    Tensor token_embedding_, position_embedding_;
    std::vector<ClipLayer> layers_;
    LayerNorm final_norm_;
    Linear projection_;
};

}  // namespace

std::unique_ptr<Component> load_clip_text_encoder(Ops &ops, const sdw_component_desc &desc) {
    return std::make_unique<ClipTextEncoder>(ops, desc);
}

}  // namespace sdw::nn
