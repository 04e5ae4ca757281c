// sdw/tensor_views.hpp on its own: what make_view, OwnedTensor and ComponentDescription
// put into the ABI structs, who owns what, and what they refuse.
#include <sdw/tensor_views.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace sp = sdw::plugin;

namespace {

std::vector<int64_t> shape_of(const sdw_tensor_view &view) {
    return std::vector<int64_t>(view.shape, view.shape + view.ndim);
}

TEST(TensorViews, MakeViewFillsSizesAndShape) {
    const std::vector<int32_t> ids(2 * 77, 7);
    const sdw_tensor_view view = sp::make_view("input_ids", SDW_DTYPE_I32, {2, 77}, ids.data());
    EXPECT_EQ(view.struct_size, sizeof(sdw_tensor_view));
    EXPECT_STREQ(view.name, "input_ids");
    EXPECT_EQ(view.dtype, SDW_DTYPE_I32);
    EXPECT_EQ(view.ndim, 2u);
    EXPECT_EQ(shape_of(view), (std::vector<int64_t>{2, 77}));
    EXPECT_EQ(view.byte_size, 2u * 77u * 4u);
    EXPECT_EQ(view.data, ids.data());

    const std::vector<int64_t> shape = {1, 4, 3, 5};
    const sdw_tensor_view half = sp::make_view("w", SDW_DTYPE_F16, shape, nullptr);
    EXPECT_EQ(half.byte_size, 60u * 2u);
    EXPECT_EQ(half.data, nullptr);  // a shape announcement, as component_prepare takes
    const sdw_tensor_view scalar = sp::make_view("s", SDW_DTYPE_I64, {}, nullptr);
    EXPECT_EQ(scalar.ndim, 0u);
    EXPECT_EQ(scalar.byte_size, 8u);
    const sdw_tensor_view empty = sp::make_view("e", SDW_DTYPE_F32, {3, 0}, nullptr);
    EXPECT_EQ(empty.byte_size, 0u);
    const std::vector<int64_t> eight(SDW_MAX_DIMS, 2);
    EXPECT_EQ(sp::make_view("x", SDW_DTYPE_U8, eight, nullptr).byte_size, 256u);
}

TEST(TensorViews, MakeViewRefusesWhatNoViewCanHold) {
    const std::vector<int64_t> nine(SDW_MAX_DIMS + 1, 1);
    EXPECT_THROW(sp::make_view("x", SDW_DTYPE_F32, nine, nullptr), std::invalid_argument);
    try {
        sp::make_view("latents", SDW_DTYPE_F32, {1, -4, 8, 8}, nullptr);
        FAIL() << "a negative dimension was accepted";
    } catch (const std::invalid_argument &e) {
        EXPECT_EQ(std::string(e.what()),
                  "tensor 'latents': shape [1, -4, 8, 8] has a negative dimension");
    }
    EXPECT_THROW(sp::make_view("x", static_cast<sdw_dtype>(42), {1}, nullptr),
                 std::invalid_argument);
    EXPECT_THROW(sp::make_view("x", SDW_DTYPE_F32, {int64_t{1} << 40, int64_t{1} << 40}, nullptr),
                 std::invalid_argument);
}

TEST(TensorViews, OwnedTensorStartsZeroedAndOwnsItsBytes) {
    sp::OwnedTensor image("image", SDW_DTYPE_F32, {1, 3, 4, 2});
    EXPECT_EQ(image.name(), "image");
    EXPECT_EQ(image.dtype(), SDW_DTYPE_F32);
    EXPECT_EQ(image.shape(), (std::vector<int64_t>{1, 3, 4, 2}));
    EXPECT_EQ(image.element_count(), 24u);
    EXPECT_EQ(image.byte_size(), 96u);
    for (float v : image.f32()) EXPECT_EQ(v, 0.0f);

    // An output view: the callee writes through it into the tensor.
    sdw_tensor_view out = image.view();
    EXPECT_STREQ(out.name, "image");
    EXPECT_EQ(out.byte_size, 96u);
    EXPECT_EQ(shape_of(out), image.shape());
    EXPECT_EQ(out.data, static_cast<void *>(image.bytes().data()));
    static_cast<float *>(out.data)[23] = 2.5f;
    EXPECT_EQ(image.f32()[23], 2.5f);

    // Copies are deep.
    sp::OwnedTensor copy = image;
    copy.f32()[23] = -1.0f;
    EXPECT_EQ(image.f32()[23], 2.5f);
    EXPECT_NE(copy.view().data, image.view().data);

    sp::OwnedTensor half("h", SDW_DTYPE_BF16, {3});
    EXPECT_EQ(half.byte_size(), 6u);
    EXPECT_EQ(half.data_as<uint16_t>().size(), 3u);
}

TEST(TensorViews, OwnedTensorFromValuesTakesItsDtypeFromTheElementType) {
    const sp::OwnedTensor ids("input_ids", {1, 3}, std::vector<int32_t>{49406, 320, 49407});
    EXPECT_EQ(ids.dtype(), SDW_DTYPE_I32);
    EXPECT_EQ(ids.i32()[2], 49407);
    const sdw_tensor_view in = ids.view();  // an input view of a const tensor
    EXPECT_EQ(in.byte_size, 12u);
    int32_t second = 0;
    std::memcpy(&second, static_cast<const char *>(in.data) + 4, 4);
    EXPECT_EQ(second, 320);

    const std::vector<float> values = {0.5f, -0.5f};
    const sp::OwnedTensor t("timestep", {2}, values);
    EXPECT_EQ(t.dtype(), SDW_DTYPE_F32);
    EXPECT_EQ(t.f32()[1], -0.5f);
    const std::vector<int64_t> wide = {1, 2, 3};
    EXPECT_EQ(sp::OwnedTensor("w", {3}, std::span<const int64_t>(wide)).dtype(), SDW_DTYPE_I64);
    EXPECT_EQ(sp::OwnedTensor("s", {}, std::vector<float>{4.0f}).byte_size(), 4u);
}

TEST(TensorViews, OwnedTensorRefusesMismatches) {
    EXPECT_THROW(sp::OwnedTensor("x", {2, 2}, std::vector<float>(3)), std::invalid_argument);
    EXPECT_THROW(sp::OwnedTensor("x", SDW_DTYPE_F32, {2, -1}), std::invalid_argument);
    sp::OwnedTensor ids("ids", SDW_DTYPE_I32, {4});
    EXPECT_THROW(ids.f32(), std::invalid_argument);
    EXPECT_THROW(ids.data_as<uint16_t>(), std::invalid_argument);
    EXPECT_THROW(sp::OwnedTensor("f", SDW_DTYPE_F32, {1}).i32(), std::invalid_argument);
}

TEST(TensorViews, ViewsOfListsOneViewPerTensorInOrder) {
    std::vector<sp::OwnedTensor> tensors;
    tensors.emplace_back("mean", SDW_DTYPE_F32, std::vector<int64_t>{1, 4, 2, 2});
    tensors.emplace_back("logvar", SDW_DTYPE_F32, std::vector<int64_t>{1, 4, 2, 2});
    const std::vector<sdw_tensor_view> views = sp::views_of(tensors);
    ASSERT_EQ(views.size(), 2u);
    EXPECT_STREQ(views[0].name, "mean");
    EXPECT_STREQ(views[1].name, "logvar");
    EXPECT_EQ(views[1].data, static_cast<void *>(tensors[1].bytes().data()));
}

TEST(TensorViews, MakeComponentDescPointsAtTheGivenArray) {
    const float w[2] = {1, 2};
    const sdw_tensor_view weights[] = {sp::make_view("a", SDW_DTYPE_F32, {2}, w)};
    const sdw_component_desc desc = sp::make_component_desc("unet", "{}", weights);
    EXPECT_EQ(desc.struct_size, sizeof(sdw_component_desc));
    EXPECT_STREQ(desc.kind, "unet");
    EXPECT_STREQ(desc.config_json, "{}");
    EXPECT_EQ(desc.weights, weights);
    EXPECT_EQ(desc.weight_count, 1u);
}

TEST(TensorViews, ComponentDescriptionHoldsNamesConfigAndOwnedWeights) {
    const std::vector<float> caller_owned(4 * 3, 1.0f);
    std::string name = "decoder.conv_in.weight";
    sp::ComponentDescription vae("vae_decoder", R"({"latent_channels": 4})");
    const sdw_component_desc &desc = vae.desc();
    EXPECT_EQ(desc.weight_count, 0u);

    vae.add_weight(name, SDW_DTYPE_F32, {4, 3}, caller_owned.data());
    vae.add_weight(sp::OwnedTensor("decoder.conv_in.bias", {4}, std::vector<float>{1, 2, 3, 4}));
    const sdw_tensor_view mapped = sp::make_view("decoder.conv_out.weight", SDW_DTYPE_F16, {3, 4},
                                                 caller_owned.data());
    vae.add_weight(mapped);
    name = "changed";  // names are copied

    // The reference taken before the additions sees them.
    EXPECT_EQ(desc.struct_size, sizeof(sdw_component_desc));
    EXPECT_STREQ(desc.kind, "vae_decoder");
    EXPECT_STREQ(desc.config_json, R"({"latent_channels": 4})");
    ASSERT_EQ(desc.weight_count, 3u);
    EXPECT_EQ(desc.weights, vae.weights().data());
    EXPECT_STREQ(desc.weights[0].name, "decoder.conv_in.weight");
    EXPECT_EQ(desc.weights[0].data, caller_owned.data());  // referenced, not copied
    EXPECT_EQ(desc.weights[0].byte_size, 48u);
    EXPECT_STREQ(desc.weights[1].name, "decoder.conv_in.bias");
    EXPECT_EQ(static_cast<const float *>(desc.weights[1].data)[3], 4.0f);  // owned copy
    EXPECT_NE(desc.weights[2].name, mapped.name);
    EXPECT_STREQ(desc.weights[2].name, "decoder.conv_out.weight");
    EXPECT_EQ(desc.weights[2].byte_size, 24u);
    EXPECT_EQ(desc.weights[2].dtype, SDW_DTYPE_F16);
    ASSERT_NE(vae.find_weight("decoder.conv_in.bias"), nullptr);
    EXPECT_EQ(vae.find_weight("decoder.conv_in.bias"), &desc.weights[1]);
    EXPECT_EQ(vae.find_weight("nope"), nullptr);
}

TEST(TensorViews, ComponentDescriptionSurvivesGrowthMovesAndCopies) {
    sp::ComponentDescription unet("unet", "{}");
    // Short names live inside std::string (SSO) and move with it: every view must follow.
    for (int i = 0; i < 40; ++i)
        unet.add_weight(
            sp::OwnedTensor("w" + std::to_string(i), {1}, std::vector<float>{float(i)}));
    unet.add_weight("b", SDW_DTYPE_F32, {}, nullptr);

    auto check = [](const sp::ComponentDescription &d) {
        const sdw_component_desc &desc = d.desc();
        ASSERT_EQ(desc.weight_count, 41u);
        EXPECT_STREQ(desc.kind, d.kind().c_str());
        EXPECT_EQ(desc.kind, d.kind().c_str());
        for (int i = 0; i < 40; ++i) {
            EXPECT_EQ(std::string(desc.weights[i].name), "w" + std::to_string(i));
            EXPECT_EQ(*static_cast<const float *>(desc.weights[i].data), float(i));
        }
        EXPECT_STREQ(desc.weights[40].name, "b");
    };
    check(unet);
    const sp::ComponentDescription copy = unet;
    check(copy);
    EXPECT_NE(copy.desc().weights[0].data, unet.desc().weights[0].data);  // owned weights copied
    EXPECT_EQ(copy.desc().weights[40].data, unet.desc().weights[40].data);
    sp::ComponentDescription moved = std::move(unet);
    check(moved);
    EXPECT_EQ(unet.desc().weight_count, 0u);  // NOLINT(bugprone-use-after-move): left empty
    sp::ComponentDescription assigned("vae_decoder", "{}");
    assigned = copy;
    check(assigned);
    assigned = std::move(moved);
    check(assigned);
}

TEST(TensorViews, ComponentDescriptionRefusesBadWeights) {
    sp::ComponentDescription te("text_encoder", "{}");
    te.add_weight("a", SDW_DTYPE_F32, {2}, nullptr);
    EXPECT_THROW(te.add_weight("a", SDW_DTYPE_F32, {2}, nullptr), std::invalid_argument);
    EXPECT_THROW(te.add_weight(sp::OwnedTensor("a", SDW_DTYPE_F32, {1})), std::invalid_argument);
    EXPECT_THROW(te.add_weight("b", SDW_DTYPE_F32, {-2}, nullptr), std::invalid_argument);

    sdw_tensor_view lying = sp::make_view("c", SDW_DTYPE_F32, {2, 2}, nullptr);
    lying.byte_size = 4;
    EXPECT_THROW(te.add_weight(lying), std::invalid_argument);
    sdw_tensor_view deep = sp::make_view("d", SDW_DTYPE_F32, {1}, nullptr);
    deep.ndim = SDW_MAX_DIMS + 1;
    EXPECT_THROW(te.add_weight(deep), std::invalid_argument);
    // Nothing of the refused weights was kept.
    EXPECT_EQ(te.desc().weight_count, 1u);
    EXPECT_STREQ(te.desc().weights[0].name, "a");
}

}  // namespace
