#include "golden_cases.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <fstream>
#include <stdexcept>

namespace sdw::testing {
namespace {

Image chw_to_image(const TensorInfo &t) {
    Image img;
    const int64_t c = t.shape.at(0), h = t.shape.at(1), w = t.shape.at(2);
    img.width = static_cast<int>(w);
    img.height = static_cast<int>(h);
    img.channels = static_cast<int>(c);
    img.pixels.resize(static_cast<size_t>(c * h * w));
    const auto *src = static_cast<const uint8_t *>(t.data);
    for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t i = 0; i < h * w; ++i) img.pixels[i * c + ch] = src[ch * h * w + i];
    return img;
}

Image hw_to_mask(const TensorInfo &t) {
    Image img;
    img.height = static_cast<int>(t.shape.at(0));
    img.width = static_cast<int>(t.shape.at(1));
    img.channels = 1;
    const auto *src = static_cast<const uint8_t *>(t.data);
    img.pixels.assign(src, src + t.byte_size);
    return img;
}

}  // namespace

std::string fixtures_dir() { return SDW_TEST_FIXTURES; }
std::string golden_dir(const std::string &set) { return fixtures_dir() + "/golden/" + set; }
std::string model_dir(const std::string &model) {
    if (model == "sd-shapes") return SDW_DEFAULT_MODEL;
    return fixtures_dir() + "/models/" + model;
}

std::vector<GoldenCase> load_golden_cases(const std::string &set) {
    std::ifstream in(golden_dir(set) + "/cases.json");
    if (!in) throw std::runtime_error("cannot read cases.json of " + set);
    const nlohmann::json doc = nlohmann::json::parse(in);
    const std::string model = doc.at("model").get<std::string>();
    const SafetensorsFile tensors = SafetensorsFile::open(golden_dir(set) + "/pipelines.safetensors");

    std::vector<GoldenCase> cases;
    for (const auto &c : doc.at("cases")) {
        GoldenCase g;
        g.name = c.at("name").get<std::string>();
        g.model = model;
        GenerationRequest &r = g.request;
        // "txt2img", "img2img", "inpaint", or with a model family first ("sdxl txt2img").
        std::string pipeline = c.at("pipeline").get<std::string>();
        if (const size_t space = pipeline.rfind(' '); space != std::string::npos)
            pipeline.erase(0, space + 1);
        r.operation = pipeline.rfind("txt2img", 0) == 0   ? Operation::txt2img
                      : pipeline.rfind("img2img", 0) == 0 ? Operation::img2img
                                                          : Operation::inpaint;
        r.prompt = c.at("prompt").get<std::string>();
        if (c.contains("negative_prompt") && !c["negative_prompt"].is_null())
            r.negative_prompt = c["negative_prompt"].get<std::string>();
        if (c.contains("width")) r.width = c["width"].get<int>();
        if (c.contains("height")) r.height = c["height"].get<int>();
        r.steps = c.at("steps").get<int>();
        r.guidance_scale = c.at("guidance_scale").get<float>();
        r.seed = c.at("seed").get<uint64_t>();
        r.scheduler = c.at("scheduler").get<std::string>();
        if (c.contains("num_images_per_prompt")) r.num_images = c["num_images_per_prompt"].get<int>();
        if (c.contains("strength")) r.strength = c["strength"].get<float>();
        if (const TensorInfo *t = tensors.find(g.name + ".init_image")) r.init_image = chw_to_image(*t);
        if (const TensorInfo *t = tensors.find(g.name + ".mask")) r.mask = hw_to_mask(*t);

        g.image = to_f32(tensors.at(g.name + ".image"));
        if (const TensorInfo *t = tensors.find(g.name + ".step_latents")) {
            g.step_latents = to_f32(*t);
            g.step_latents_shape = t->shape;
        }
        cases.push_back(std::move(g));
    }
    return cases;
}

std::vector<GoldenCaseId> all_golden_case_ids() {
    std::vector<GoldenCaseId> ids;
    for (const std::string set : {"tiny-sd", "tiny-sd-inpaint", "sd-shapes", "tiny-sdxl",
                                  "tiny-sdxl-edits", "tiny-sdxl-inpaint", "tiny-sdxl-refiner", "tiny-sd-turbo",
                                  "tiny-sdxl-turbo", "tiny-ldm-sd15", "tiny-ldm-sd2-v", "tiny-ldm-sdxl"})
        for (const GoldenCase &c : load_golden_cases(set)) ids.push_back({set, c.model, c.name});
    return ids;
}

GoldenCase find_golden_case(const GoldenCaseId &id) {
    for (GoldenCase &c : load_golden_cases(id.set))
        if (c.name == id.case_name) return std::move(c);
    throw std::runtime_error("no golden case " + id.set + "/" + id.case_name);
}

std::string golden_case_test_name(const GoldenCaseId &id) {
    std::string s = id.set + "_" + id.case_name;
    for (char &ch : s)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return s;
}

void PrintTo(const GoldenCaseId &id, std::ostream *os) { *os << id.set << "/" << id.case_name; }

}  // namespace sdw::testing
