// The public API reproduces diffusers: each golden case (all_golden_case_ids(): tiny-sd,
// tiny-sd-inpaint, sd-shapes, tiny-sdxl and the few-step turbo models), on every golden
// plugin (golden_plugins.h, chosen by plugin.name with plugin.options), goes through
// POST /v1/jobs (init images and masks as base64 PNGs), is followed over its event
// stream, and its PNGs are compared with the reference.
#include "golden_plugins.h"
#include "http_test_client.h"
#include "worker_process.h"

#include "image/base64.h"
#include "image/png.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

namespace sdw::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string png_base64(const Image &image) {
    const std::vector<uint8_t> png = encode_png(image);
    return base64_encode(png.data(), png.size());
}

const char *operation_name(Operation op) {
    switch (op) {
    case Operation::txt2img: return "txt2img";
    case Operation::img2img: return "img2img";
    case Operation::inpaint: return "inpaint";
    }
    return "?";
}

json request_body(const GenerationRequest &r) {
    json body{{"operation", operation_name(r.operation)},
              {"prompt", r.prompt},
              {"steps", r.steps},
              {"guidance_scale", r.guidance_scale},
              {"seed", r.seed},
              {"scheduler", r.scheduler},
              {"num_images", r.num_images}};
    if (!r.negative_prompt.empty()) body["negative_prompt"] = r.negative_prompt;
    if (r.width) body["width"] = r.width;
    if (r.height) body["height"] = r.height;
    if (r.operation != Operation::txt2img) body["strength"] = r.strength;
    if (r.init_image) body["init_image"] = png_base64(*r.init_image);
    if (r.mask) body["mask"] = png_base64(*r.mask);
    return body;
}

// One sd-worker process on one plugin and model.
class Worker {
public:
    Worker(const GoldenPlugin &plugin, const std::string &model) {
        dir_ = fs::temp_directory_path() /
               ("sdw-http-golden-" + std::to_string(::getpid()) + "-" + plugin.name + "-" + model);
        fs::create_directories(dir_);
        const json config{
            {"listen", {{"host", "127.0.0.1"}, {"port", 0}}},
            {"plugin",
             {{"name", plugin.name},
              {"options", json::parse(plugin.options_json)},
              {"search_paths", {fs::path(plugin.file).parent_path().string()}}}},
            {"model", {{"path", model_dir(model)}, {"tokenizers", SDW_TOKENIZERS_DIR}}}};
        std::ofstream(dir_ / "config.json") << config.dump(2);
        process_ = std::make_unique<test::WorkerProcess>(
            std::vector<std::string>{"--config", (dir_ / "config.json").string()});
        port_ = process_->wait_for_port();
        if (port_ == 0 || !process_->wait_ready(port_, 60s))
            throw std::runtime_error("sd-worker did not become ready:\n" + process_->log());
    }
    ~Worker() {
        process_.reset();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    uint16_t port() const { return port_; }
    std::string log() const { return process_->log(); }

private:
    fs::path dir_;
    std::unique_ptr<test::WorkerProcess> process_;
    uint16_t port_ = 0;
};

Worker &worker_for(const GoldenPlugin &plugin, const std::string &model) {
    static PerPluginCache<Worker> workers;
    return workers.get(plugin, model, [](const GoldenPlugin &p, const std::string &m) {
        return std::make_unique<Worker>(p, m);
    });
}

class HttpGolden : public ::testing::TestWithParam<GoldenRun> {};

TEST_P(HttpGolden, PngMatchesDiffusers) {
    const GoldenRun &run = GetParam();
    const GoldenCase golden = find_golden_case(run.id);
    Worker &worker = worker_for(run.plugin, run.id.model);

    const test::HttpResult accepted =
        test::http_request(worker.port(), "POST", "/v1/jobs", request_body(golden.request).dump());
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    const json job = accepted.json();
    EXPECT_EQ(job["seed"], golden.request.seed);

    // Generous: the sanitizer build runs the sd-shapes cases many times slower.
    const test::SseResult stream = test::read_sse(worker.port(), job["sse_url"], {}, 600s);
    ASSERT_GE(stream.events.size(), 2u) << stream.error << stream.raw;
    const test::SseEvent &terminal = stream.events[stream.events.size() - 2];
    ASSERT_EQ(terminal.event, "completed") << terminal.data << "\n" << worker.log();

    const json status = test::http_request(worker.port(), "GET", job["status_url"]).json();
    ASSERT_EQ(status["images"].size(), static_cast<size_t>(golden.request.num_images));
    size_t offset = 0;
    for (const json &entry : status["images"]) {
        const test::HttpResult png = test::http_request(worker.port(), "GET", entry["url"]);
        ASSERT_EQ(png.status, 200);
        const Image image =
            decode_png(reinterpret_cast<const uint8_t *>(png.body.data()), png.body.size());
        ASSERT_EQ(image.pixels.size() + offset <= golden.image.size(), true);
        int worst = 0;
        for (size_t i = 0; i < image.pixels.size(); ++i) {
            const int expected = static_cast<int>(std::nearbyint(golden.image[offset + i] * 255.0f));
            worst = std::max(worst, std::abs(expected - static_cast<int>(image.pixels[i])));
        }
        EXPECT_LE(worst, 1) << "image " << entry["index"] << ": largest difference in 8-bit levels";
        offset += image.pixels.size();
    }
    EXPECT_EQ(offset, golden.image.size());
}

INSTANTIATE_TEST_SUITE_P(Cases, HttpGolden, ::testing::ValuesIn(all_golden_runs()),
                         [](const auto &param_info) { return golden_run_test_name(param_info.param); });

}  // namespace
}  // namespace sdw::testing
