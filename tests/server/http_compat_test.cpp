// The synchronous compatible routes (A1111's /sdapi/v1, OpenAI's /v1/images) on the real
// server with the fake generator: a request is answered when its job ends, through the
// same queue and auth as the native API; interrupting returns it at once; a connection
// awaiting a job keeps its responses in order; stopping the server while one waits is
// clean. The field mappings themselves are unit-tested in a1111_api_test.cpp and
// openai_images_test.cpp, the real clients in tests/clients.
#include "http_api_fixture.h"

#include "server/metrics.h"

#include <future>

namespace sdw {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using test::eventually;
using test::http_request;
using test::HttpApi;

Image decode_base64_png(const std::string &text) {
    auto bytes = base64_decode(text);
    if (!bytes) return {};
    return decode_png(bytes->data(), bytes->size());
}

const json kA1111Txt2Img{{"prompt", "a cat"}, {"steps", 3},       {"width", 64},
                         {"height", 64},      {"seed", 5},        {"sampler_name", "Euler a"},
                         {"cfg_scale", 7}};

TEST_F(HttpApi, A1111Txt2ImgAnswersWithTheImagesOnceTheJobHasEnded) {
    start();
    auto result = http_request(port, "POST", "/sdapi/v1/txt2img", kA1111Txt2Img.dump());
    ASSERT_EQ(result.status, 200) << result.body;
    json body = result.json();
    ASSERT_EQ(body["images"].size(), 1u);
    Image image = decode_base64_png(body["images"][0]);
    EXPECT_EQ(image.width, 64);
    EXPECT_EQ(image.height, 64);
    ASSERT_FALSE(image.pixels.empty());
    EXPECT_EQ(image.pixels[0], 5);  // the fake generator paints seed % 251
    json info = json::parse(body["info"].get<std::string>());
    EXPECT_EQ(info["seed"], 5);
    EXPECT_EQ(generator->prompts_seen(), std::vector<std::string>{"a cat"});
    // It went through the queue like any job, and is listed with the others.
    json listed = http_request(port, "GET", "/v1/jobs").json();
    ASSERT_EQ(listed["jobs"].size(), 1u);
    EXPECT_EQ(listed["jobs"][0]["state"], "completed");
    EXPECT_EQ(listed["jobs"][0]["seed"], 5);
}

TEST_F(HttpApi, A1111RefusalsNameTheFieldBeforeAnyJobIsQueued) {
    start();
    json unknown = kA1111Txt2Img;
    unknown["sampler_name"] = "Heun++ 7";
    auto result = http_request(port, "POST", "/sdapi/v1/txt2img", unknown.dump());
    EXPECT_EQ(result.status, 400);
    EXPECT_EQ(result.json()["error"]["field"], "sampler_name");
    EXPECT_TRUE(result.json()["detail"].is_string());
    json steps = kA1111Txt2Img;
    steps["steps"] = 10000;  // the native limit, reported under the A1111 name
    result = http_request(port, "POST", "/sdapi/v1/txt2img", steps.dump());
    EXPECT_EQ(result.status, 400);
    EXPECT_EQ(result.json()["error"]["field"], "steps");
    EXPECT_EQ(generator->calls.load(), 0);
    EXPECT_EQ(http_request(port, "GET", "/sdapi/v1/txt2img").status, 405);
    EXPECT_EQ(http_request(port, "GET", "/sdapi/v1/scripts").json(), json::parse(R"({"txt2img": [], "img2img": []})"));
}

TEST_F(HttpApi, A1111InterruptReturnsTheWaitingRequestAtOnce) {
    start();
    generator->hold();
    auto pending = std::async(std::launch::async, [&] {
        return http_request(port, "POST", "/sdapi/v1/txt2img", kA1111Txt2Img.dump(), {}, 10s);
    });
    ASSERT_TRUE(eventually([&] { return !queue->running_jobs().empty(); }));
    json progress = http_request(port, "GET", "/sdapi/v1/progress").json();
    EXPECT_EQ(progress["state"]["job_count"], 1);
    EXPECT_EQ(pending.wait_for(50ms), std::future_status::timeout);  // still waiting
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(http_request(port, "POST", "/sdapi/v1/interrupt", "").status, 200);
    ASSERT_EQ(pending.wait_for(2s), std::future_status::ready);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
    auto result = pending.get();
    EXPECT_EQ(result.status, 200) << result.body;
    EXPECT_TRUE(result.json()["images"].empty());
    json listed = http_request(port, "GET", "/v1/jobs").json();
    EXPECT_EQ(listed["jobs"][0]["state"], "cancelled");
}

TEST_F(HttpApi, AConnectionAwaitingAJobAnswersItsRequestsInOrder) {
    start();
    std::string answer = test::post_then_health(port, "/sdapi/v1/txt2img", kA1111Txt2Img.dump());
    size_t images = answer.find("\"images\"");
    size_t health = answer.find("{\"status\":\"ok\"}");
    ASSERT_NE(images, std::string::npos) << answer.substr(0, 300);
    ASSERT_NE(health, std::string::npos) << answer.substr(0, 300);
    EXPECT_LT(images, health);
}

TEST_F(HttpApi, StoppingTheServerWhileARequestAwaitsItsJobIsClean) {
    start();
    generator->hold();
    auto pending = std::async(std::launch::async, [&] {
        return http_request(port, "POST", "/sdapi/v1/txt2img", kA1111Txt2Img.dump(), {}, 10s);
    });
    ASSERT_TRUE(eventually([&] { return !queue->running_jobs().empty(); }));
    server->stop();  // the session held for the job goes with the server
    ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(pending.get().status, 0);  // the connection closed unanswered
    generator->release();
    queue->shutdown();  // the job's end now finds no session to answer
}

TEST_F(HttpApi, OpenAiGenerationsAnswersB64JsonOrUrls) {
    start();
    auto b64 = http_request(port, "POST", "/v1/images/generations",
                            json{{"prompt", "a cat"}, {"n", 2}, {"size", "64x64"},
                                 {"response_format", "b64_json"}, {"model", "dall-e-3"}}
                                .dump());
    ASSERT_EQ(b64.status, 200) << b64.body;
    json data = b64.json()["data"];
    ASSERT_EQ(data.size(), 2u);
    EXPECT_EQ(decode_base64_png(data[1]["b64_json"]).width, 64);
    EXPECT_TRUE(b64.json()["created"].is_number_integer());

    auto urls = http_request(port, "POST", "/v1/images/generations",
                             json{{"prompt", "a cat"}, {"size", "64x64"}, {"response_format", "url"}}.dump(),
                             {{"Host", "127.0.0.1:" + std::to_string(port)}});
    ASSERT_EQ(urls.status, 200) << urls.body;
    std::string url = urls.json()["data"][0]["url"];
    std::string prefix = "http://127.0.0.1:" + std::to_string(port);
    ASSERT_EQ(url.rfind(prefix, 0), 0u) << url;
    auto png = http_request(port, "GET", url.substr(prefix.size()));
    EXPECT_EQ(png.status, 200);
    EXPECT_EQ(png.header("content-type"), "image/png");
}

TEST_F(HttpApi, OpenAiErrorsUseOpenAisEnvelopeAuthIncluded) {
    auto options = default_options();
    options.api.api_keys = {"sk-test"};
    start(options);
    auto anonymous = http_request(port, "POST", "/v1/images/generations", json{{"prompt", "x"}}.dump());
    EXPECT_EQ(anonymous.status, 401);
    EXPECT_TRUE(anonymous.json()["error"]["message"].is_string());
    auto wrong = http_request(port, "POST", "/v1/images/generations", json{{"prompt", "x"}}.dump(),
                              {{"Authorization", "Bearer sk-wrong"}});
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.json()["error"]["code"], "invalid_api_key");
    auto bad_size = http_request(port, "POST", "/v1/images/generations",
                                 json{{"prompt", "x"}, {"size", "big"}}.dump(),
                                 {{"Authorization", "Bearer sk-test"}});
    EXPECT_EQ(bad_size.status, 400);
    EXPECT_EQ(bad_size.json()["error"]["param"], "size");
    EXPECT_EQ(bad_size.json()["error"]["type"], "invalid_request_error");
    auto get = http_request(port, "GET", "/v1/images/generations", "", {{"Authorization", "Bearer sk-test"}});
    EXPECT_EQ(get.status, 405);
    EXPECT_TRUE(get.json()["error"]["message"].is_string());
}

TEST_F(HttpApi, AwaitedRequestsAreCountedWithTheStatusTheyEndedWith) {
    auto options = default_options();
    options.api.metrics = std::make_shared<Metrics>();
    start(options);
    ASSERT_EQ(http_request(port, "POST", "/sdapi/v1/txt2img", kA1111Txt2Img.dump()).status, 200);
    generator->fail_message = "the device fell over";
    EXPECT_EQ(http_request(port, "POST", "/v1/images/generations", json{{"prompt", "x"}, {"size", "64x64"}}.dump())
                  .status,
              500);
    std::string text = http_request(port, "GET", "/metrics").body;
    EXPECT_NE(text.find("sdw_http_requests_total{route=\"/sdapi/v1/txt2img\",code=\"200\"} 1"), std::string::npos)
        << text;
    EXPECT_NE(text.find("sdw_http_requests_total{route=\"/v1/images/generations\",code=\"500\"} 1"),
              std::string::npos)
        << text;
}

// A request refused for its key counts under its route template like any other answer; a
// path no route has stays "other".
TEST_F(HttpApi, RefusedRequestsAreCountedUnderTheirRoute) {
    auto options = default_options();
    options.api.api_keys = {"k"};
    options.api.metrics = std::make_shared<Metrics>();
    options.api.metrics_public = true;
    start(options);
    for (const char *target : {"/v1/jobs/abc", "/v1/jobs/abc/stream", "/v1/jobs/abc/images/0.png", "/v1/info",
                               "/v1/made-up"})
        EXPECT_EQ(http_request(port, "GET", target).status, 401) << target;
    const std::string text = http_request(port, "GET", "/metrics").body;
    for (const char *route : {"/v1/jobs/{id}", "/v1/jobs/{id}/stream", "/v1/jobs/{id}/images/{n}", "/v1/info", "other"})
        EXPECT_NE(text.find("sdw_http_requests_total{route=\"" + std::string(route) + "\",code=\"401\"} 1"),
                  std::string::npos)
            << route << "\n"
            << text;
}

}  // namespace
}  // namespace sdw
