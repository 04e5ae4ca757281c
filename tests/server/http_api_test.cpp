// The HTTP API end to end: the real Beast server on an ephemeral loopback port, the
// real job queue, a fake Generator whose steps sleep and honour cancellation.
#include "http_api_fixture.h"

#include <gtest/gtest.h>

#include <future>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <random>
#include <set>
#include <thread>

namespace sdw {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using test::eventually;
using test::FakeGenerator;
using test::http_request;
using test::read_sse;

using test::HttpApi;
using test::png_base64;
using test::queue_with;

std::vector<std::string> names(const test::SseResult &stream) {
    std::vector<std::string> out;
    for (const auto &event : stream.events) out.push_back(event.event);
    return out;
}

// ---------------------------------------------------------------- health, ready, info

TEST_F(HttpApi, HealthAndReadyWhenTheModelIsLoaded) {
    start();
    auto health = http_request(port, "GET", "/health");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(health.json()["status"], "ok");
    auto ready = http_request(port, "GET", "/ready");
    EXPECT_EQ(ready.status, 200);
    EXPECT_EQ(ready.json()["status"], "ready");
}

TEST_F(HttpApi, NotReadyWhileTheModelLoads) {
    start(default_options(), {}, /*ready=*/false);
    EXPECT_EQ(http_request(port, "GET", "/health").status, 200);
    auto ready = http_request(port, "GET", "/ready");
    EXPECT_EQ(ready.status, 503);
    EXPECT_EQ(ready.json()["status"], "loading");
    auto refused = post_job({{"prompt", "x"}});
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.json()["error"]["code"], "not_ready");
}

TEST_F(HttpApi, InfoDescribesPluginModelLimitsAndQueue) {
    start(default_options(), queue_with(5));
    auto info = http_request(port, "GET", "/v1/info");
    ASSERT_EQ(info.status, 200);
    auto body = info.json();
    EXPECT_EQ(body["plugin"]["name"], "fake");
    EXPECT_EQ(body["plugin"]["abi"], "1.0");
    EXPECT_EQ(body["plugin"]["device"], "test CPU");
    ASSERT_TRUE(body["plugin"].contains("memory"));
    EXPECT_TRUE(body["plugin"]["memory"].is_null());  // this generator reports none
    EXPECT_EQ(body["plugin"]["contexts"], json::parse(R"([{"device": "test CPU", "memory": null}])"));
    EXPECT_EQ(body["device"], "test CPU");
    EXPECT_EQ(body["model"]["name"], "fake-model");
    EXPECT_EQ(body["model"]["default_width"], 64);
    EXPECT_EQ(body["schedulers"], json({"ddim", "euler", "euler_a"}));
    EXPECT_EQ(body["limits"]["max_steps"], 150);
    EXPECT_EQ(body["limits"]["body_limit_bytes"], 1u << 20);
    EXPECT_EQ(body["queue"]["capacity"], 5);
}

TEST_F(HttpApi, InfoShowsThePluginsMemoryAsLastReported) {
    generator->report_memory(BackendMemory{1000, 200, 30});
    start();
    auto first = http_request(port, "GET", "/v1/info").json();
    EXPECT_EQ(first["plugin"]["memory"],
              json::parse(R"({"weights_bytes": 1000, "plans_bytes": 200, "cache_bytes": 30})"));
    ASSERT_EQ(first["plugin"]["contexts"].size(), 1u);
    EXPECT_EQ(first["plugin"]["contexts"][0]["memory"], first["plugin"]["memory"]);
    // Read live from the generator's cached report, not from the description at start-up.
    generator->report_memory(BackendMemory{1000, 4096, 31});
    auto second = http_request(port, "GET", "/v1/info").json();
    EXPECT_EQ(second["plugin"]["memory"]["plans_bytes"], 4096);
    EXPECT_EQ(second["plugin"]["memory"]["cache_bytes"], 31);
}

// ---------------------------------------------------------------- submit, stream, status

TEST_F(HttpApi, SubmitStreamAndDownloadAJob) {
    start();
    auto accepted = post_job({{"prompt", "a red circle"}, {"steps", 3}, {"seed", 1234}});
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    auto body = accepted.json();
    std::string id = body["job_id"];
    EXPECT_EQ(body["status_url"], "/v1/jobs/" + id);
    EXPECT_EQ(body["sse_url"], "/v1/jobs/" + id + "/stream");
    EXPECT_EQ(body["seed"], 1234);
    EXPECT_EQ(body["queue_position"], 1);
    EXPECT_EQ(accepted.header("location"), "/v1/jobs/" + id);

    auto stream = read_sse(port, body["sse_url"]);
    ASSERT_EQ(stream.status, 200) << stream.error;
    EXPECT_EQ(stream.headers["content-type"], "text/event-stream; charset=utf-8");
    EXPECT_EQ(stream.headers["cache-control"], "no-cache");
    EXPECT_TRUE(stream.closed_by_server) << stream.error;
    EXPECT_EQ(names(stream), (std::vector<std::string>{"queued", "started", "progress", "progress",
                                                       "progress", "completed", "message"}));
    for (size_t i = 0; i + 1 < stream.events.size(); ++i)
        EXPECT_EQ(stream.events[i].id, std::to_string(i + 1));
    EXPECT_EQ(stream.events.back().data, "[DONE]");
    auto progress = json::parse(stream.events[4].data);
    EXPECT_EQ(progress["step"], 3);
    EXPECT_EQ(progress["total"], 3);
    auto completed = json::parse(stream.events[5].data);
    ASSERT_EQ(completed["images"].size(), 1u);
    EXPECT_EQ(completed["images"][0]["seed"], 1234);
    auto png = base64_decode(completed["images"][0]["png_base64"].get<std::string>());
    ASSERT_TRUE(png);
    Image image = decode_png(png->data(), png->size());
    EXPECT_EQ(image.width, 64);  // the model's default size
    EXPECT_EQ(image.height, 64);

    json st = status(id);
    EXPECT_EQ(st["state"], "completed");
    EXPECT_EQ(st["seed"], 1234);
    EXPECT_EQ(st["step"], 3);
    EXPECT_EQ(st["total"], 3);
    EXPECT_TRUE(st["error"].is_null());
    EXPECT_TRUE(st["queue_position"].is_null());
    EXPECT_FALSE(st["finished_at"].is_null());
    ASSERT_EQ(st["images"].size(), 1u);
    EXPECT_TRUE(st["timings_ms"].contains("total"));

    auto download = http_request(port, "GET", st["images"][0]["url"]);
    ASSERT_EQ(download.status, 200);
    EXPECT_EQ(download.header("content-type"), "image/png");
    ASSERT_GE(download.body.size(), 8u);
    EXPECT_TRUE(looks_like_png(reinterpret_cast<const uint8_t *>(download.body.data()),
                               download.body.size()));
    EXPECT_EQ(std::vector<uint8_t>(download.body.begin(), download.body.end()), *png);
    auto text = read_png_text(png->data(), png->size());
    EXPECT_NE(text["parameters"].find("Seed: 1234"), std::string::npos);

    EXPECT_EQ(http_request(port, "GET", "/v1/jobs/" + id + "/images/1.png").status, 404);
    EXPECT_EQ(http_request(port, "GET", "/v1/jobs/" + id + "/images/x.png").status, 404);
    // One name per image: leading zeros name none.
    EXPECT_EQ(http_request(port, "GET", "/v1/jobs/" + id + "/images/00.png").status, 404);
}

TEST_F(HttpApi, AnOmittedSeedIsDrawnAtRandomWithin53Bits) {
    start();
    std::set<uint64_t> seeds;
    for (int i = 0; i < 3; ++i) {
        auto result = post_job({{"prompt", "x"}, {"steps", 1}});
        ASSERT_EQ(result.status, 202);
        uint64_t seed = result.json()["seed"];
        EXPECT_LT(seed, uint64_t{1} << 53);
        seeds.insert(seed);
    }
    EXPECT_EQ(seeds.size(), 3u);
    auto minus_one = post_job({{"prompt", "x"}, {"steps", 1}, {"seed", -1}});
    ASSERT_EQ(minus_one.status, 202);
    EXPECT_LT(minus_one.json()["seed"].get<uint64_t>(), uint64_t{1} << 53);
}

TEST_F(HttpApi, AFailingGeneratorFailsTheJobAndTheServerKeepsServing) {
    start();
    generator->fail_message = "out of device memory";
    std::string id = submit({{"prompt", "x"}, {"steps", 1}});
    auto stream = read_sse(port, "/v1/jobs/" + id + "/stream");
    ASSERT_GE(stream.events.size(), 2u);
    auto failed = stream.events[stream.events.size() - 2];
    EXPECT_EQ(failed.event, "failed");
    EXPECT_EQ(json::parse(failed.data)["error"]["message"], "out of device memory");
    json st = status(id);
    EXPECT_EQ(st["state"], "failed");
    EXPECT_EQ(st["error"]["code"], "generation_failed");
    generator->fail_message.clear();
    std::string next = submit({{"prompt", "x"}, {"steps", 1}});
    read_sse(port, "/v1/jobs/" + next + "/stream");
    EXPECT_EQ(state_of(next), "completed");
}

// ---------------------------------------------------------------- cancel

TEST_F(HttpApi, CancellingAQueuedJob) {
    start();
    generator->hold();
    std::string running = submit({{"prompt", "running"}});
    ASSERT_TRUE(eventually([&] { return state_of(running) == "running"; }));
    std::string queued = submit({{"prompt", "queued"}});
    EXPECT_EQ(status(queued)["queue_position"], 1);

    auto cancelled = http_request(port, "DELETE", "/v1/jobs/" + queued);
    ASSERT_EQ(cancelled.status, 200);
    EXPECT_EQ(cancelled.json()["state"], "cancelled");
    EXPECT_EQ(cancelled.json()["cancel_reason"], "cancelled by the client");
    auto again = http_request(port, "DELETE", "/v1/jobs/" + queued);
    EXPECT_EQ(again.status, 409);
    EXPECT_EQ(again.json()["error"]["code"], "already_finished");

    auto stream = read_sse(port, "/v1/jobs/" + queued + "/stream");
    EXPECT_EQ(names(stream), (std::vector<std::string>{"queued", "cancelled", "message"}));
    EXPECT_EQ(json::parse(stream.events[1].data)["reason"], "cancelled by the client");
}

TEST_F(HttpApi, CancellingARunningJobStopsItBeforeItsNextStep) {
    start();
    generator->step_delay = 20ms;
    std::string id = submit({{"prompt", "long"}, {"steps", 150}});
    auto stream_future = std::async(std::launch::async, [&] {
        return read_sse(port, "/v1/jobs/" + id + "/stream", {}, 10s);
    });
    ASSERT_TRUE(eventually([&] { return status(id)["step"].get<int>() >= 2; }));
    auto cancel = http_request(port, "DELETE", "/v1/jobs/" + id);
    ASSERT_EQ(cancel.status, 200);
    EXPECT_TRUE(cancel.json()["cancel_requested"].get<bool>());
    auto stream = stream_future.get();
    ASSERT_GE(stream.events.size(), 3u) << stream.error;
    auto terminal = stream.events[stream.events.size() - 2];
    EXPECT_EQ(terminal.event, "cancelled");
    EXPECT_EQ(stream.events.back().data, "[DONE]");
    json st = status(id);
    EXPECT_EQ(st["state"], "cancelled");
    EXPECT_LT(st["step"].get<int>(), 150);
}

// ---------------------------------------------------------------- queue full

TEST_F(HttpApi, AFullQueueAnswers429WithRetryAfter) {
    start(default_options(), queue_with(1));
    generator->hold();
    std::string running = submit({{"prompt", "a"}});
    ASSERT_TRUE(eventually([&] { return state_of(running) == "running"; }));
    submit({{"prompt", "b"}});
    auto refused = post_job({{"prompt", "c"}});
    EXPECT_EQ(refused.status, 429);
    EXPECT_EQ(refused.json()["error"]["code"], "queue_full");
    std::string retry_after = refused.header("retry-after");
    ASSERT_FALSE(retry_after.empty());
    EXPECT_GE(std::stoi(retry_after), 1);
}

// ---------------------------------------------------------------- bad requests

struct BadInput {
    const char *name;
    std::function<std::string()> body;  // raw request body
    const char *field;                  // nullptr: "field": null
};

// Names the case in test listings instead of dumping the struct's bytes.
void PrintTo(const BadInput &input, std::ostream *os) { *os << input.name; }

json base_request() { return {{"prompt", "a cat"}}; }
std::function<std::string()> with(const char *key, json value) {
    return [=] {
        json body = base_request();
        body[key] = value;
        return body.dump();
    };
}
std::function<std::string()> raw(std::string text) {
    return [=] { return text; };
}
std::function<std::string()> op(const char *operation, json extra) {
    return [=] {
        json body = base_request();
        body["operation"] = operation;
        for (auto &item : extra.items()) body[item.key()] = item.value();
        return body.dump();
    };
}

class BadRequest : public HttpApi, public ::testing::WithParamInterface<BadInput> {};

TEST_P(BadRequest, IsRefusedWith400NamingTheField) {
    start();
    auto result = http_request(port, "POST", "/v1/jobs", GetParam().body());
    ASSERT_EQ(result.status, 400) << result.body;
    auto error = result.json()["error"];
    EXPECT_EQ(error["code"], "invalid_field");
    EXPECT_FALSE(error["message"].get<std::string>().empty());
    ASSERT_TRUE(error.contains("field"));
    if (GetParam().field) EXPECT_EQ(error["field"], GetParam().field) << error.dump();
    else EXPECT_TRUE(error["field"].is_null()) << error.dump();
    EXPECT_EQ(generator->calls.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    HttpApi, BadRequest,
    ::testing::Values(
        BadInput{"not_json", raw("prompt=a cat"), nullptr},
        BadInput{"truncated_json", raw(R"({"prompt": "a)"), nullptr},
        BadInput{"number_beyond_double", raw(R"({"prompt": "a", "guidance_scale": 1e309})"), "guidance_scale"},
        BadInput{"json_array", raw(R"(["a cat"])"), nullptr},
        BadInput{"utf8_byte_order_mark", raw("\xEF\xBB\xBF{\"prompt\": \"a cat\"}"), nullptr},
        BadInput{"largest_sizes_images_and_steps_together",
                 [] {
                     json b = base_request();
                     b.update({{"width", 2048}, {"height", 2048}, {"num_images", 8}, {"steps", 150}});
                     return b.dump();
                 },
                 "steps"},
        BadInput{"unknown_field", with("sampler_name", "euler"), "sampler_name"},
        BadInput{"missing_prompt", raw(R"({"steps": 10})"), "prompt"},
        BadInput{"prompt_not_string", with("prompt", 42), "prompt"},
        BadInput{"negative_prompt_not_string", with("negative_prompt", json::array()), "negative_prompt"},
        BadInput{"operation_unknown", with("operation", "upscale"), "operation"},
        BadInput{"width_not_multiple_of_8", with("width", 100), "width"},
        BadInput{"width_too_large", with("width", 4096), "width"},
        BadInput{"height_too_small", with("height", 32), "height"},
        BadInput{"width_fractional", with("width", 64.5), "width"},
        BadInput{"width_string", with("width", "64"), "width"},
        BadInput{"steps_zero", with("steps", 0), "steps"},
        BadInput{"steps_too_many", with("steps", 151), "steps"},
        BadInput{"guidance_too_high", with("guidance_scale", 30.5), "guidance_scale"},
        BadInput{"guidance_negative", with("guidance_scale", -1), "guidance_scale"},
        BadInput{"guidance_string", with("guidance_scale", "7"), "guidance_scale"},
        BadInput{"seed_negative", with("seed", -5), "seed"},
        BadInput{"seed_fractional", with("seed", 1.5), "seed"},
        BadInput{"seed_string", with("seed", "42"), "seed"},
        BadInput{"scheduler_unknown", with("scheduler", "heun"), "scheduler"},
        BadInput{"num_images_zero", with("num_images", 0), "num_images"},
        BadInput{"num_images_too_many", with("num_images", 9), "num_images"},
        BadInput{"strength_zero", with("strength", 0), "strength"},
        BadInput{"strength_above_one", with("strength", 1.5), "strength"},
        BadInput{"clip_skip_zero", with("clip_skip", 0), "clip_skip"},
        BadInput{"clip_skip_too_large", with("clip_skip", 13), "clip_skip"},
        BadInput{"rng_unknown", with("rng", "gpu"), "rng"},
        BadInput{"txt2img_with_init_image",
                 [] { json b = base_request(); b["init_image"] = png_base64(64, 64); return b.dump(); },
                 "init_image"},
        BadInput{"img2img_without_init_image", op("img2img", json::object()), "init_image"},
        BadInput{"img2img_with_mask",
                 [] { return op("img2img", {{"init_image", png_base64(64, 64)},
                                            {"mask", png_base64(64, 64)}})(); },
                 "mask"},
        BadInput{"inpaint_without_init_image",
                 [] { return op("inpaint", {{"mask", png_base64(64, 64)}})(); }, "init_image"},
        BadInput{"inpaint_without_mask",
                 [] { return op("inpaint", {{"init_image", png_base64(64, 64)}})(); }, "mask"},
        BadInput{"init_image_bad_base64", op("img2img", {{"init_image", "%%% not base64 %%%"}}),
                 "init_image"},
        BadInput{"init_image_not_png", op("img2img", {{"init_image", "aGVsbG8gd29ybGQ="}}),
                 "init_image"},
        BadInput{"init_image_truncated_png",
                 [] {
                     auto bytes = *base64_decode(png_base64(64, 64));
                     bytes.resize(bytes.size() / 2);
                     return op("img2img", {{"init_image", base64_encode(bytes)}})();
                 },
                 "init_image"},
        BadInput{"init_image_size_not_multiple_of_8",
                 [] { return op("img2img", {{"init_image", png_base64(60, 64)}})(); }, "init_image"},
        BadInput{"mask_size_differs",
                 [] { return op("inpaint", {{"init_image", png_base64(64, 64)},
                                            {"mask", png_base64(64, 72)}})(); },
                 "mask"},
        BadInput{"mask_not_png",
                 [] { return op("inpaint", {{"init_image", png_base64(64, 64)}, {"mask", "aGVsbG8="}})(); },
                 "mask"},
        BadInput{"width_differs_from_init_image",
                 [] { return op("img2img", {{"init_image", png_base64(64, 64)}, {"width", 128}})(); },
                 "width"}),
    [](const ::testing::TestParamInfo<BadInput> &param_info) { return std::string(param_info.param.name); });

TEST_F(HttpApi, ARequestsPixelStepsAreCappedByTheConfiguredLimit) {
    ServerOptions options = default_options();
    options.api.limits.max_pixel_steps = 64 * 128 * 2 * 10;
    start(options);
    EXPECT_EQ(http_request(port, "GET", "/v1/info").json()["limits"]["max_pixel_steps"], 64 * 128 * 2 * 10);
    json at_limit = base_request();
    at_limit.update({{"width", 128}, {"num_images", 2}, {"steps", 10}});
    EXPECT_EQ(post_job(at_limit).status, 202);

    for (auto [name, value] : {std::pair{"steps", 11}, std::pair{"num_images", 3}, std::pair{"height", 72}}) {
        json over = at_limit;
        over[name] = value;
        auto result = post_job(over);
        ASSERT_EQ(result.status, 400) << name;
        auto error = result.json()["error"];
        EXPECT_EQ(error["field"], "steps") << name;
        EXPECT_NE(error["message"].get<std::string>().find("limits.max_pixel_steps"), std::string::npos)
            << error["message"];
    }
}

TEST_F(HttpApi, AModelDefaultSizeOutsideTheLimitsIsNotUsedSilently) {
    start(default_options(), {}, /*ready=*/false);
    ModelDescription model = generator->describe();
    model.default_width = 8192;  // a unet sample_size of 1024 with a VAE scale of 8
    state.set_ready(model, {generator});

    auto refused = post_job(base_request());
    ASSERT_EQ(refused.status, 400) << refused.body;
    EXPECT_EQ(refused.json()["error"]["field"], "width");
    EXPECT_NE(refused.json()["error"]["message"].get<std::string>().find("8192"), std::string::npos);
    json sized = base_request();
    sized["width"] = 512;
    EXPECT_EQ(post_job(sized).status, 202);
}

TEST_F(HttpApi, ClipSkipBeyondTheModelsTextEncoderDepthIsRefused) {
    start(default_options(), {}, /*ready=*/false);
    ModelDescription model = generator->describe();
    model.max_clip_skip = 2;  // a two-layer text encoder
    state.set_ready(model, {generator});
    EXPECT_EQ(http_request(port, "GET", "/v1/info").json()["model"]["max_clip_skip"], 2);

    json deepest = base_request();
    deepest["clip_skip"] = 2;
    EXPECT_EQ(post_job(deepest).status, 202);
    json beyond = base_request();
    beyond["clip_skip"] = 3;
    auto refused = post_job(beyond);
    ASSERT_EQ(refused.status, 400) << refused.body;
    EXPECT_EQ(refused.json()["error"]["field"], "clip_skip");
    EXPECT_NE(refused.json()["error"]["message"].get<std::string>().find("[1, 2]"), std::string::npos);
}

TEST_F(HttpApi, ValidImg2ImgAndInpaintRequestsAreAccepted) {
    start();
    auto img2img = post_job({{"prompt", "x"},
                             {"operation", "img2img"},
                             {"steps", 1},
                             {"init_image", "data:image/png;base64," + png_base64(72, 64)}});
    ASSERT_EQ(img2img.status, 202) << img2img.body;
    auto inpaint = post_job({{"prompt", "x"},
                             {"operation", "inpaint"},
                             {"steps", 1},
                             {"strength", 1.0},
                             {"init_image", png_base64(64, 64)},
                             {"mask", png_base64(64, 64, 255)}});
    ASSERT_EQ(inpaint.status, 202) << inpaint.body;
    std::string id = img2img.json()["job_id"];
    read_sse(port, "/v1/jobs/" + id + "/stream");
    json st = status(id);
    EXPECT_EQ(st["operation"], "img2img");
    ASSERT_EQ(st["images"].size(), 1u);
    EXPECT_EQ(st["images"][0]["width"], 72);  // the init image's size
}

TEST_F(HttpApi, ABodyOverTheLimitIs413) {
    auto options = default_options();
    options.body_limit = 4096;
    start(options);
    auto result = test::http_request_partial_body(port, "/v1/jobs", 100000, 1000);
    EXPECT_EQ(result.status, 413) << result.error;
    EXPECT_EQ(result.json()["error"]["code"], "body_too_large");
    // A complete oversized body is refused the same way.
    auto full = http_request(port, "POST", "/v1/jobs",
                             json{{"prompt", std::string(8000, 'a')}}.dump());
    EXPECT_EQ(full.status, 413) << full.error;
}

TEST_F(HttpApi, UnknownPathsAndJobsAre404) {
    start();
    auto path = http_request(port, "GET", "/v2/things");
    EXPECT_EQ(path.status, 404);
    EXPECT_EQ(path.json()["error"]["code"], "not_found");
    EXPECT_EQ(http_request(port, "GET", "/v1/jobs/0123456789abcdef").status, 404);
    EXPECT_EQ(http_request(port, "DELETE", "/v1/jobs/0123456789abcdef").status, 404);
    EXPECT_EQ(http_request(port, "GET", "/v1/jobs/0123456789abcdef/stream").status, 404);
    EXPECT_EQ(http_request(port, "GET", "/v1/jobs/0123456789abcdef/images/0.png").status, 404);
    EXPECT_EQ(http_request(port, "GET", "/v1/jobs/x/y/z/w").status, 404);
}

TEST_F(HttpApi, WrongMethodsAre405WithAllow) {
    start();
    auto put = http_request(port, "PUT", "/v1/jobs", "{}");
    EXPECT_EQ(put.status, 405);
    EXPECT_EQ(put.header("allow"), "GET, HEAD, POST");
    EXPECT_EQ(put.json()["error"]["code"], "method_not_allowed");
    auto health = http_request(port, "POST", "/health", "{}");
    EXPECT_EQ(health.status, 405);
    EXPECT_EQ(health.header("allow"), "GET, HEAD");
    std::string id = submit({{"prompt", "x"}, {"steps", 1}});
    auto patch = http_request(port, "PATCH", "/v1/jobs/" + id, "{}");
    EXPECT_EQ(patch.status, 405);
    EXPECT_EQ(patch.header("allow"), "GET, HEAD, DELETE");
    EXPECT_EQ(http_request(port, "POST", "/v1/jobs/" + id + "/stream", "{}").header("allow"), "GET, HEAD");
}

// ---------------------------------------------------------------- auth

TEST_F(HttpApi, ApiKeysGuardEverythingButHealthAndReady) {
    auto options = default_options();
    options.api.api_keys = {"first-key", "second-key"};
    start(options);
    auto anonymous = post_job({{"prompt", "x"}});
    EXPECT_EQ(anonymous.status, 401);
    EXPECT_EQ(anonymous.json()["error"]["code"], "unauthorized");
    EXPECT_EQ(post_job({{"prompt", "x"}}, {{"Authorization", "Bearer wrong"}}).status, 401);
    EXPECT_EQ(post_job({{"prompt", "x"}}, {{"Authorization", "Bearer first-key-and-more"}}).status, 401);
    EXPECT_EQ(http_request(port, "GET", "/v1/info").status, 401);
    EXPECT_EQ(http_request(port, "GET", "/nowhere").status, 401);

    auto bearer = post_job({{"prompt", "x"}, {"steps", 1}}, {{"Authorization", "Bearer second-key"}});
    ASSERT_EQ(bearer.status, 202);
    std::string id = bearer.json()["job_id"];
    EXPECT_EQ(http_request(port, "GET", "/v1/info", "", {{"X-API-Key", "first-key"}}).status, 200);
    EXPECT_EQ(http_request(port, "GET", "/v1/jobs/" + id).status, 401);
    EXPECT_EQ(http_request(port, "GET", "/health").status, 200);
    EXPECT_EQ(http_request(port, "GET", "/ready").status, 200);

    // EventSource cannot send headers: the stream route takes the key in the query.
    EXPECT_EQ(read_sse(port, "/v1/jobs/" + id + "/stream").status, 401);
    auto stream = read_sse(port, "/v1/jobs/" + id + "/stream?api_key=first-key");
    EXPECT_EQ(stream.status, 200);
    EXPECT_EQ(http_request(port, "GET", "/v1/info?api_key=first-key").status, 401);
}

TEST_F(HttpApi, BasicAuthTakesTheKeyAsThePassword) {
    auto options = default_options();
    options.api.api_keys = {"the-key"};
    start(options);
    auto basic = [](const std::string &credentials) {
        std::vector<uint8_t> bytes(credentials.begin(), credentials.end());
        std::vector<std::pair<std::string, std::string>> headers;
        headers.emplace_back("Authorization", "Basic " + base64_encode(bytes));
        return headers;
    };
    EXPECT_EQ(http_request(port, "GET", "/v1/info", "", basic("anyone:the-key")).status, 200);
    EXPECT_EQ(http_request(port, "GET", "/v1/info", "", basic(":the-key")).status, 200);
    EXPECT_EQ(http_request(port, "GET", "/v1/info", "", basic("the-key:wrong")).status, 401);
    EXPECT_EQ(http_request(port, "GET", "/v1/info", "", basic("the-key")).status, 401);  // no colon
    EXPECT_EQ(http_request(port, "GET", "/v1/info", "", {{"Authorization", "Basic %%%"}}).status, 401);
    auto a1111 = http_request(port, "GET", "/sdapi/v1/progress");
    EXPECT_EQ(a1111.status, 401);
    EXPECT_EQ(a1111.header("www-authenticate"), "Basic realm=\"sd-worker\"");
}

TEST_F(HttpApi, DeeplyNestedBodiesAreRefusedOnEveryJsonRoute) {
    start();
    const std::string brackets(512 * 1024, '[');  // the reported freeze, at the fixture's body limit
    for (const char *route : {"/v1/jobs", "/sdapi/v1/txt2img", "/v1/images/generations"}) {
        auto refused = http_request(port, "POST", route, brackets);
        EXPECT_EQ(refused.status, 400) << route;
        EXPECT_NE(refused.body.find("deeper than 32"), std::string::npos) << route << ": " << refused.body;
    }
    auto nested = http_request(port, "POST", "/v1/jobs", R"({"prompt": "x", "extra": )" + std::string(40, '[') + "]");
    EXPECT_EQ(nested.status, 400);
    EXPECT_EQ(nested.json()["error"]["field"], "extra");
    EXPECT_EQ(generator->calls.load(), 0);
}

TEST_F(HttpApi, LargeBodiesAreHandledOffTheIoThreadsAndAnsweredInOrder) {
    start();
    // Noise does not compress: a PNG of ~390 KB, past the 256 KiB from which bodies go to
    // the request pool.
    Image noise{360, 360, 3, {}};
    std::mt19937 rng(3);
    for (size_t i = 0; i < 360u * 360u * 3u; ++i) noise.pixels.push_back(static_cast<uint8_t>(rng()));
    std::string body = json{{"prompt", "x"}, {"operation", "img2img"}, {"steps", 1},
                            {"init_image", base64_encode(encode_png(noise))}}
                           .dump();
    ASSERT_GT(body.size(), 256u * 1024u);
    std::string answer = test::post_then_health(port, "/v1/jobs", body);
    size_t accepted = answer.find("HTTP/1.1 202");
    size_t health = answer.find("{\"status\":\"ok\"}");
    ASSERT_NE(accepted, std::string::npos) << answer.substr(0, 300);
    ASSERT_NE(health, std::string::npos) << answer.substr(0, 300);
    EXPECT_LT(accepted, health);
}

// A connected TCP socket held open without sending anything (an idle client).
struct IdleConnection {
    int fd = -1;
    explicit IdleConnection(uint16_t port) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
            ::close(fd);
            fd = -1;
        }
    }
    ~IdleConnection() {
        if (fd >= 0) ::close(fd);
    }
    IdleConnection(const IdleConnection &) = delete;
    IdleConnection &operator=(const IdleConnection &) = delete;
};

TEST_F(HttpApi, ConnectionsOverTheLimitGetProbesOnlyThenNothing) {
    auto options = default_options();
    options.connections = {3, 3, 2};
    start(options);
    std::vector<std::unique_ptr<IdleConnection>> idle;
    for (int i = 0; i < 3; ++i) idle.push_back(std::make_unique<IdleConnection>(port));
    ASSERT_TRUE(eventually([&] { return server->open_connections() == 3; }));
    // The reserve: the probes are answered, anything else is told why.
    EXPECT_EQ(http_request(port, "GET", "/health").status, 200);
    EXPECT_EQ(http_request(port, "GET", "/ready").status, 200);
    auto busy = http_request(port, "GET", "/v1/info");
    EXPECT_EQ(busy.status, 503);
    EXPECT_EQ(busy.json()["error"]["code"], "too_many_connections");
    // Past the reserve too: closed unanswered.
    ASSERT_TRUE(eventually([&] { return server->open_connections() == 3; }));  // the probes have gone
    idle.push_back(std::make_unique<IdleConnection>(port));
    idle.push_back(std::make_unique<IdleConnection>(port));
    ASSERT_TRUE(eventually([&] { return server->open_connections() == 5; }));
    EXPECT_EQ(http_request(port, "GET", "/health", "", {}, 1s).status, 0);
    // Room again once clients leave.
    idle.clear();
    ASSERT_TRUE(eventually([&] { return http_request(port, "GET", "/v1/info").status == 200; }));
}

TEST_F(HttpApi, AcceptFailuresBackOffInsteadOfSpinning) {
#if defined(__SANITIZE_ADDRESS__)
    // The sanitizer runtime itself needs descriptors and dies silently when the test
    // takes them away; the optimised build runs this test.
    GTEST_SKIP() << "skipped under AddressSanitizer: it starves the process of file descriptors";
#endif
    start();
    // Leave the process a handful of descriptors: the server's accepts fail with EMFILE.
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    int probe = ::dup(0);
    ASSERT_GE(probe, 0);
    ::close(probe);
    rlimit low = saved;
    low.rlim_cur = static_cast<rlim_t>(probe + 6);
    testing::internal::CaptureStderr();  // opens its file before the limit bites
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    std::vector<std::unique_ptr<IdleConnection>> clients;
    for (int i = 0; i < 12; ++i) clients.push_back(std::make_unique<IdleConnection>(port));
    std::this_thread::sleep_for(300ms);
    ::setrlimit(RLIMIT_NOFILE, &saved);
    clients.clear();
    // Recovered: served again once descriptors are back.
    EXPECT_TRUE(eventually([&] { return http_request(port, "GET", "/health").status == 200; }));
    const std::string log = testing::internal::GetCapturedStderr();
    size_t warnings = 0;
    for (size_t at = log.find("accept failed"); at != std::string::npos; at = log.find("accept failed", at + 1)) ++warnings;
    EXPECT_EQ(warnings, 1u) << log.substr(0, 500);  // one per burst, not one per retry
}

// ---------------------------------------------------------------- cross-site requests

TEST_F(HttpApi, JsonRoutesRefuseBodiesNotSentAsJson) {
    start();
    const std::string body = json{{"prompt", "x"}, {"steps", 1}}.dump();
    // What a page may send without a CORS preflight: text/plain and form posts.
    for (const char *type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"}) {
        auto refused = http_request(port, "POST", "/v1/jobs", body, {{"Content-Type", type}});
        EXPECT_EQ(refused.status, 415) << type;
        EXPECT_EQ(refused.json()["error"]["code"], "unsupported_media_type") << type;
        EXPECT_EQ(http_request(port, "POST", "/sdapi/v1/txt2img", body, {{"Content-Type", type}}).status, 415);
        auto openai = http_request(port, "POST", "/v1/images/generations", body, {{"Content-Type", type}});
        EXPECT_EQ(openai.status, 415);
        EXPECT_EQ(openai.json()["error"]["type"], "invalid_request_error");
    }
    EXPECT_EQ(generator->calls.load(), 0);
    EXPECT_TRUE(queue->recent_jobs().empty());
    EXPECT_EQ(http_request(port, "POST", "/v1/jobs", body, {{"Content-Type", "Application/JSON; charset=utf-8"}}).status,
              202);
}

TEST_F(HttpApi, StateChangingRequestsFromForeignPagesAreRefused) {
    auto options = default_options();
    options.api.cors_origins = {"https://app.example"};
    start(options);
    const std::string body = json{{"prompt", "x"}, {"steps", 1}}.dump();
    const std::string self = "127.0.0.1:" + std::to_string(port);
    auto foreign = http_request(port, "POST", "/v1/jobs", body, {{"Origin", "https://evil.example"}});
    EXPECT_EQ(foreign.status, 403);
    EXPECT_EQ(foreign.json()["error"]["code"], "origin_not_allowed");
    EXPECT_EQ(http_request(port, "POST", "/v1/jobs", body, {{"Origin", "null"}}).status, 403);  // sandboxed, file://
    EXPECT_TRUE(queue->recent_jobs().empty());
    auto listed = http_request(port, "POST", "/v1/jobs", body, {{"Origin", "https://app.example"}});
    ASSERT_EQ(listed.status, 202);
    // The built-in UI: a same-origin page's POST carries its own origin.
    EXPECT_EQ(http_request(port, "POST", "/v1/jobs", body, {{"Host", self}, {"Origin", "http://" + self}}).status, 202);
    std::string id = listed.json()["job_id"];
    EXPECT_EQ(http_request(port, "DELETE", "/v1/jobs/" + id, "", {{"Origin", "https://evil.example"}}).status, 403);
    // Reading is not refused here: without CORS headers the browser keeps the answer from the page.
    EXPECT_EQ(http_request(port, "GET", "/v1/jobs/" + id, "", {{"Origin", "https://evil.example"}}).status, 200);
}

TEST_F(HttpApi, AHostNotAllowedIsRefusedAgainstDnsRebinding) {
    auto options = default_options();
    options.api.allowed_hosts = ApiHandler::loopback_host_names();
    options.api.allowed_hosts.push_back("sd.internal");
    start(options);
    const std::string port_text = std::to_string(port);
    for (const std::string &host : std::vector<std::string>{"127.0.0.1:" + port_text, "LOCALHOST:" + port_text, "[::1]:" + port_text, "[::1]",
                                   "localhost", "sd.internal:" + port_text})
        EXPECT_EQ(http_request(port, "GET", "/v1/info", "", {{"Host", host}}).status, 200) << host;
    for (const std::string &host : std::vector<std::string>{"evil.example:" + port_text, "evil.example", "127.0.0.1.evil.example",
                                   "sd.internal.evil", "\xff\xfe.example"}) {
        auto refused = http_request(port, "GET", "/health", "", {{"Host", host}});
        EXPECT_EQ(refused.status, 403) << host;
        EXPECT_EQ(refused.json()["error"]["code"], "host_not_allowed") << host;
    }
}

// ---------------------------------------------------------------- listing

TEST_F(HttpApi, ListsTheHeldJobsNewestFirstInPages) {
    start(default_options(), queue_with(16, 3));
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        ids.push_back(submit({{"prompt", "p" + std::to_string(i)}, {"steps", 1}}));
        ASSERT_TRUE(eventually([&] { return state_of(ids.back()) == "completed"; }));
    }
    // Three finished jobs are retained: the newest three, newest first, two per page.
    auto first = http_request(port, "GET", "/v1/jobs?limit=2");
    ASSERT_EQ(first.status, 200) << first.body;
    json page = first.json();
    ASSERT_EQ(page["jobs"].size(), 2u);
    EXPECT_EQ(page["jobs"][0]["job_id"], ids[4]);
    EXPECT_EQ(page["jobs"][1]["job_id"], ids[3]);
    EXPECT_EQ(page["jobs"][0]["state"], "completed");
    EXPECT_EQ(page["jobs"][0], status(ids[4]));  // the same body as GET /v1/jobs/{id}
    ASSERT_TRUE(page["next"].is_string());
    json second = http_request(port, "GET", page["next"].get<std::string>()).json();
    ASSERT_EQ(second["jobs"].size(), 1u);
    EXPECT_EQ(second["jobs"][0]["job_id"], ids[2]);
    EXPECT_TRUE(second["next"].is_null());
    EXPECT_EQ(http_request(port, "GET", "/v1/jobs").json()["jobs"].size(), 3u);  // default limit 20

    auto bad_limit = http_request(port, "GET", "/v1/jobs?limit=0");
    EXPECT_EQ(bad_limit.status, 400);
    EXPECT_EQ(bad_limit.json()["error"]["field"], "limit");
    EXPECT_EQ(http_request(port, "GET", "/v1/jobs?limit=101").status, 400);
    auto forgotten = http_request(port, "GET", "/v1/jobs?after=" + ids[0]);
    EXPECT_EQ(forgotten.status, 400);
    EXPECT_EQ(forgotten.json()["error"]["field"], "after");
    auto head = http_request(port, "HEAD", "/v1/jobs");
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
    EXPECT_NE(head.header("content-length"), "0");
}

// ---------------------------------------------------------------- SSE behaviour

TEST_F(HttpApi, StreamsAreLimitedPerJobAndInAll) {
    auto options = default_options();
    options.api.max_streams_per_job = 2;
    options.api.max_streams = 3;
    start(options);
    generator->hold();
    std::string first = submit({{"prompt", "x"}, {"steps", 2}});
    std::string second = submit({{"prompt", "y"}, {"steps", 2}});
    auto open = [&](const std::string &id) {
        return std::async(std::launch::async, [this, id] { return read_sse(port, "/v1/jobs/" + id + "/stream", {}, 10s); });
    };
    std::vector<std::future<test::SseResult>> streams;
    streams.push_back(open(first));
    streams.push_back(open(first));
    ASSERT_TRUE(eventually([&] { return server->open_streams() == 2; }));
    auto per_job = read_sse(port, "/v1/jobs/" + first + "/stream", {}, 5s);
    EXPECT_EQ(per_job.status, 429) << per_job.raw;
    EXPECT_NE(per_job.raw.find("too_many_streams"), std::string::npos) << per_job.raw;
    streams.push_back(open(second));
    ASSERT_TRUE(eventually([&] { return server->open_streams() == 3; }));
    auto in_all = read_sse(port, "/v1/jobs/" + second + "/stream", {}, 5s);
    EXPECT_EQ(in_all.status, 429) << in_all.raw;
    generator->release();
    for (auto &stream : streams) EXPECT_EQ(names(stream.get()).back(), "message");  // [DONE] after the end
    ASSERT_TRUE(eventually([&] { return server->open_streams() == 0; }));
    EXPECT_EQ(read_sse(port, "/v1/jobs/" + first + "/stream", {}, 5s).status, 200);  // a replay, once room is free
}

TEST_F(HttpApi, ManySubscribersOfOneJobSeeTheSameEvents) {
    start();
    generator->hold();
    std::string id = submit({{"prompt", "x"}, {"steps", 5}});
    std::vector<std::future<test::SseResult>> subscribers;
    for (int i = 0; i < 4; ++i)
        subscribers.push_back(std::async(std::launch::async, [&] {
            return read_sse(port, "/v1/jobs/" + id + "/stream", {}, 10s);
        }));
    ASSERT_TRUE(eventually([&] { return server->open_streams() == 4; }));
    generator->release();
    std::vector<test::SseResult> results;
    for (auto &future : subscribers) results.push_back(future.get());
    for (const auto &result : results) {
        EXPECT_TRUE(result.closed_by_server) << result.error;
        EXPECT_EQ(result.raw, results[0].raw);
        EXPECT_EQ(names(result).back(), "message");
        EXPECT_EQ(names(result)[names(result).size() - 2], "completed");
    }
    EXPECT_TRUE(eventually([&] { return server->open_streams() == 0; }));
}

TEST_F(HttpApi, ConcurrentJobsFromManyClientsAllComplete) {
    start(default_options(), queue_with(32));
    std::vector<std::future<std::pair<std::string, test::SseResult>>> clients;
    for (int i = 0; i < 6; ++i)
        clients.push_back(std::async(std::launch::async, [this, i] {
            auto accepted = post_job({{"prompt", "client " + std::to_string(i)}, {"steps", 2}});
            std::string id = accepted.json().value("job_id", "");
            return std::make_pair(id, read_sse(port, "/v1/jobs/" + id + "/stream", {}, 15s));
        }));
    std::set<std::string> ids;
    for (auto &client : clients) {
        auto [id, stream] = client.get();
        ids.insert(id);
        ASSERT_GE(stream.events.size(), 2u) << stream.error;
        EXPECT_EQ(stream.events[stream.events.size() - 2].event, "completed");
    }
    EXPECT_EQ(ids.size(), 6u);
    EXPECT_EQ(generator->calls.load(), 6);
}

TEST_F(HttpApi, ReplaysAfterLastEventId) {
    start();
    std::string id = submit({{"prompt", "x"}, {"steps", 3}});
    auto full = read_sse(port, "/v1/jobs/" + id + "/stream");
    ASSERT_EQ(full.events.size(), 7u);  // queued started 3x progress completed [DONE]

    auto header = read_sse(port, "/v1/jobs/" + id + "/stream", {{"Last-Event-ID", "2"}});
    ASSERT_EQ(header.status, 200);
    ASSERT_EQ(header.events.size(), 5u);
    EXPECT_EQ(header.events[0].id, "3");
    EXPECT_EQ(header.events[0].event, "progress");
    EXPECT_EQ(header.events[0].data, full.events[2].data);

    auto query = read_sse(port, "/v1/jobs/" + id + "/stream?last_event_id=5");
    ASSERT_EQ(query.events.size(), 2u);
    EXPECT_EQ(query.events[0].id, "6");
    EXPECT_EQ(query.events[0].event, "completed");

    // A client that saw the terminal event is told to stop reconnecting.
    auto after_end = read_sse(port, "/v1/jobs/" + id + "/stream", {{"Last-Event-ID", "6"}});
    EXPECT_EQ(after_end.status, 204);
    EXPECT_TRUE(after_end.events.empty());

    auto bad = read_sse(port, "/v1/jobs/" + id + "/stream", {{"Last-Event-ID", "abc"}});
    EXPECT_EQ(bad.status, 400) << bad.error;
}

TEST_F(HttpApi, LiveStreamResumesFromLastEventIdWhileRunning) {
    start();
    generator->step_delay = 10ms;
    std::string id = submit({{"prompt", "x"}, {"steps", 20}});
    // First connection: read until the third event, then drop.
    std::string last_id;
    auto first = read_sse(port, "/v1/jobs/" + id + "/stream", {}, 10s,
                          [&](const test::SseEvent &event) {
                              last_id = event.id;
                              return event.id != "3";
                          });
    ASSERT_EQ(last_id, "3") << first.error;
    auto second = read_sse(port, "/v1/jobs/" + id + "/stream", {{"Last-Event-ID", last_id}}, 10s);
    ASSERT_FALSE(second.events.empty()) << second.error;
    EXPECT_EQ(second.events[0].id, "4");
    for (size_t i = 0; i + 1 < second.events.size(); ++i)
        EXPECT_EQ(second.events[i].id, std::to_string(i + 4));
    EXPECT_EQ(second.events[second.events.size() - 2].event, "completed");
}

TEST_F(HttpApi, ALastEventIdBeyondTheLogStreamsFromTheEndAndEnds) {
    start();
    generator->step_delay = 10ms;
    std::string id = submit({{"prompt", "x"}, {"steps", 20}});
    // While the job runs, an id past its last event must not filter out the terminal one.
    auto stream = read_sse(port, "/v1/jobs/" + id + "/stream", {{"Last-Event-ID", "999999"}}, 10s);
    ASSERT_EQ(stream.status, 200) << stream.error;
    ASSERT_GE(stream.events.size(), 2u) << stream.raw;
    EXPECT_EQ(stream.events[stream.events.size() - 2].event, "completed") << stream.raw;
    EXPECT_EQ(stream.events.back().data, "[DONE]");
    EXPECT_TRUE(stream.closed_by_server);
    // After the end, the same id is told to stop.
    EXPECT_EQ(read_sse(port, "/v1/jobs/" + id + "/stream", {{"Last-Event-ID", "999999"}}).status, 204);
}

TEST_F(HttpApi, QuietStreamsGetKeepAliveComments) {
    auto options = default_options();
    options.sse_keepalive = 40ms;
    start(options);
    generator->hold();
    std::string id = submit({{"prompt", "x"}, {"steps", 1}});
    // The job is held, so the stream stays open and quiet until the deadline.
    auto quiet = read_sse(port, "/v1/jobs/" + id + "/stream", {}, 300ms);
    EXPECT_GE(quiet.comments, 3u) << quiet.raw;
    EXPECT_NE(quiet.raw.find(": keep-alive\n\n"), std::string::npos);
    EXPECT_FALSE(quiet.closed_by_server);
}

// ---------------------------------------------------------------- drain

TEST_F(HttpApi, DrainRefusesNewJobsCancelsQueuedOnesAndFinishesTheRunningOne) {
    start();
    generator->hold();
    std::string running = submit({{"prompt", "running"}, {"steps", 2}});
    ASSERT_TRUE(eventually([&] { return state_of(running) == "running"; }));
    std::string queued = submit({{"prompt", "queued"}});
    auto running_stream = std::async(std::launch::async, [&] {
        return read_sse(port, "/v1/jobs/" + running + "/stream", {}, 10s);
    });
    ASSERT_TRUE(eventually([&] { return server->open_streams() == 1; }));

    server->begin_drain();
    auto ready = http_request(port, "GET", "/ready");
    EXPECT_EQ(ready.status, 503);
    EXPECT_EQ(ready.json()["status"], "draining");
    auto refused = post_job({{"prompt", "late"}});
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.json()["error"]["code"], "draining");
    json queued_status = status(queued);
    EXPECT_EQ(queued_status["state"], "cancelled");
    EXPECT_EQ(queued_status["cancel_reason"], "the worker is shutting down");
    EXPECT_EQ(state_of(running), "running");

    generator->release();
    auto stream = running_stream.get();
    ASSERT_GE(stream.events.size(), 2u) << stream.error;
    EXPECT_EQ(stream.events[stream.events.size() - 2].event, "completed");
    auto waited = std::async(std::launch::async, [&] { server->wait(); });
    EXPECT_EQ(waited.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(http_request(port, "GET", "/health", "", {}, 500ms).status, 0);  // stopped
}

TEST_F(HttpApi, DrainCancelsTheRunningJobAfterTheGracePeriod) {
    auto options = default_options();
    options.drain_grace = 100ms;
    start(options);
    generator->hold();
    std::string running = submit({{"prompt", "running"}});
    ASSERT_TRUE(eventually([&] { return state_of(running) == "running"; }));
    JobPtr job = queue->find(running);
    server->begin_drain();
    auto waited = std::async(std::launch::async, [&] { server->wait(); });
    EXPECT_EQ(waited.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(job->state(), JobState::cancelled);
    EXPECT_EQ(job->snapshot().cancel_reason, "drain grace period expired");
}

// ---------------------------------------------------------------- HTTP plumbing

TEST_F(HttpApi, KeepAliveConnectionsServeSeveralRequests) {
    start();
    // Two pipelined requests on one connection, answered in order.
    std::string received = test::raw_exchange(
        port,
        "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    size_t first = received.find("HTTP/1.1 200");
    size_t second = received.find("HTTP/1.1 404");
    ASSERT_NE(first, std::string::npos) << received;
    ASSERT_NE(second, std::string::npos) << received;
    EXPECT_LT(first, second);
}

}  // namespace
}  // namespace sdw
