#include "clip_text_encoder.h"

#include "config_reader.h"
#include "layers.h"

#include <sdw/nn/component.h>

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

// Device inputs: token ids, their positions, and the row of each sequence's EOS token
// in the flattened [B * L] states (for pooled), all computed on the host from input_ids.
enum ClipInput { kIds, kPositions, kEosRows };

class ClipTextEncoder final : public Network {
public:
    ClipTextEncoder(Ops &ops, const sdw_component_desc &desc) : act_(ops.compute_dtype()) {
        const ConfigReader cfg(desc.config_json, kName);
        const WeightStore ws(ops, desc, kName, act_);
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

    const char *kind() const override { return kName; }
    std::vector<std::string> input_names() const override { return {"input_ids"}; }
    std::vector<std::string> output_names() const override {
        return {"last_hidden_state", "hidden_state", "hidden_state_normed", "pooled"};
    }
    std::vector<std::string> default_outputs() const override { return {"last_hidden_state", "pooled"}; }

    Signature bind(const IoRequest &io) const override {
        const sdw_tensor_view &ids = io.require("input_ids");
        if ((ids.dtype != SDW_DTYPE_I32 && ids.dtype != SDW_DTYPE_I64) || ids.ndim != 2)
            io.fail("input input_ids must be I32 of rank 2");
        const int64_t batch = ids.shape[0], length = ids.shape[1];
        if (batch <= 0 || length <= 0 || length > c_.max_positions)
            io.fail("input_ids must be [B, L] with 1 <= L <= " + std::to_string(c_.max_positions) + ", got " +
                    shape_str(view_shape(ids)));
        Signature s;
        // hidden_states[-clip_skip] in transformers' numbering: the output of layer
        // layers - clip_skip + 1 (1-based).
        s.clip_skip = std::max(io.clip_skip, 1);
        const bool hidden = io.wants("hidden_state") || io.wants("hidden_state_normed");
        if (hidden && s.clip_skip > c_.layers)
            io.fail("clip_skip " + std::to_string(s.clip_skip) + " exceeds the " + std::to_string(c_.layers) +
                    " encoder layers");
        if (!hidden) s.clip_skip = 1;  // no output depends on it: one plan for all values
        s.inputs = {{"input_ids", DType::I32, {batch * length}},
                    {"position_ids", DType::I32, {batch * length}},
                    {"eos_rows", DType::I32, {batch}}};
        const Shape states{batch, length, c_.hidden};
        for (const char *name : {"last_hidden_state", "hidden_state", "hidden_state_normed"})
            if (io.wants(name)) s.outputs.push_back({name, DType::F32, states});
        if (io.wants("pooled"))
            s.outputs.push_back({"pooled", DType::F32, {batch, c_.with_projection ? c_.projection_dim : c_.hidden}});
        return s;
    }

    StagedInputs stage(const IoRequest &io, const Signature &s) const override {
        const sdw_tensor_view &view = io.require("input_ids");
        const int64_t batch = s.inputs[kEosRows].shape[0], length = s.inputs[kIds].shape[0] / batch;
        std::vector<int32_t> ids(static_cast<size_t>(batch * length));
        for (size_t i = 0; i < ids.size(); ++i) {
            int64_t id = 0;
            if (view.dtype == SDW_DTYPE_I64) {
                id = static_cast<const int64_t *>(view.data)[i];
            } else {
                id = static_cast<const int32_t *>(view.data)[i];
            }
            if (id < 0 || id >= c_.vocab)
                io.fail("input_ids holds token " + std::to_string(id) + " outside the vocabulary of " +
                        std::to_string(c_.vocab));
            ids[i] = static_cast<int32_t>(id);
        }
        std::vector<int32_t> positions(ids.size()), eos_rows(static_cast<size_t>(batch));
        for (size_t i = 0; i < positions.size(); ++i)
            positions[i] = static_cast<int32_t>(static_cast<int64_t>(i) % length);
        for (int64_t b = 0; b < batch; ++b)
            eos_rows[static_cast<size_t>(b)] = static_cast<int32_t>(b * length + eos_position(ids, b, length));
        return {as_bytes(ids), as_bytes(positions), as_bytes(eos_rows)};
    }

    std::vector<Tensor> forward(Ops &ops, const Signature &s, const std::vector<Tensor> &in,
                                SegmentBoundary &) const override {
        const int64_t batch = s.inputs[kEosRows].shape[0], length = s.inputs[kIds].shape[0] / batch;
        const Shape states{batch, length, c_.hidden};
        auto wants = [&](const char *name) {
            return std::any_of(s.outputs.begin(), s.outputs.end(), [&](const TensorSpec &o) { return o.name == name; });
        };
        const bool need_final = wants("last_hidden_state") || wants("pooled");
        const int selected_layer = c_.layers - s.clip_skip + 1;
        const int layers_to_run = need_final ? c_.layers : selected_layer;

        Tensor x = ops.add(ops.gather_rows(token_embedding_, in[kIds]),
                           ops.gather_rows(position_embedding_, in[kPositions]));
        x = ops.reshape(ops.cast(x, act_), states);
        Tensor hidden, hidden_normed;
        for (int i = 1; i <= layers_to_run; ++i) {
            x = encoder_layer(ops, layers_[static_cast<size_t>(i - 1)], std::move(x));
            if (i == selected_layer) {
                if (wants("hidden_state")) hidden = x;
                if (wants("hidden_state_normed")) hidden_normed = final_norm_(ops, x);
            }
        }
        Tensor normed = need_final ? final_norm_(ops, x) : Tensor{};
        x = Tensor{};
        std::vector<Tensor> out;
        for (const TensorSpec &o : s.outputs) {
            if (o.name == "last_hidden_state") out.push_back(ops.cast(normed, DType::F32));
            if (o.name == "hidden_state") out.push_back(ops.cast(hidden, DType::F32));
            if (o.name == "hidden_state_normed") out.push_back(ops.cast(hidden_normed, DType::F32));
            if (o.name == "pooled") {
                Tensor pooled = ops.gather_rows(ops.reshape(normed, {batch * length, c_.hidden}), in[kEosRows]);
                if (c_.with_projection) pooled = projection_(ops, pooled);
                out.push_back(ops.cast(pooled, DType::F32));
            }
        }
        return out;
    }

private:
    Tensor encoder_layer(Ops &ops, const ClipLayer &layer, Tensor x) const {
        Tensor h = layer.norm1(ops, x);
        Tensor q = layer.q(ops, h), k = layer.k(ops, h), v = layer.v(ops, h);
        h = layer.out(ops, ops.attention(q, k, v, c_.heads, /*causal=*/true));
        q = k = v = Tensor{};
        x = ops.add(x, h);
        h = layer.fc1(ops, layer.norm2(ops, x));
        h = c_.quick_gelu ? ops.quick_gelu(h) : ops.gelu(h);
        return ops.add(x, layer.fc2(ops, h));
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

    DType act_;
    ClipConfig c_;
    Tensor token_embedding_, position_embedding_;
    std::vector<ClipLayer> layers_;
    LayerNorm final_norm_;
    Linear projection_;
};

}  // namespace

std::unique_ptr<Network> load_clip_text_encoder(Ops &ops, const sdw_component_desc &desc) {
    return std::make_unique<ClipTextEncoder>(ops, desc);
}

}  // namespace sdw::nn
