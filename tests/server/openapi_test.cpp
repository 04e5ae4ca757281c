// GET /openapi.json: the native API's OpenAPI 3 description (docs/openapi.json, embedded
// at build time) is served as it is, and it documents exactly the routes and methods the
// handler answers: each path of the native API, and for each path the methods its 405's
// Allow names (less HEAD, answered wherever GET is). tests/clients/test_schemathesis.py
// checks the answers against the document.
#include "http_api_fixture.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

namespace sdw {
namespace {

using json = nlohmann::json;
using test::eventually;
using test::http_request;
using test::HttpApi;

// Every native route the handler answers, as templates (api_handler.h's table, less the
// web UI and the A1111 and OpenAI compatibility routes, which are not described).
const std::set<std::string> kNativeRoutes = {
    "/health",       "/ready",        "/openapi.json",          "/v1/info", "/v1/jobs",
    "/v1/jobs/{id}", "/v1/jobs/{id}/stream", "/v1/jobs/{id}/images/{n}.png", "/metrics"};

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::set<std::string> documented_methods(const json &path_item) {
    std::set<std::string> methods;
    for (const auto &[key, value] : path_item.items())
        if (key != "parameters" && key != "summary" && key != "description" && key != "servers")
            methods.insert(key);
    return methods;
}

// "GET, HEAD, DELETE" -> {"get", "delete"}
std::set<std::string> allowed_methods(const std::string &allow) {
    std::set<std::string> methods;
    std::stringstream in(allow);
    std::string method;
    while (std::getline(in, method, ',')) {
        method.erase(0, method.find_first_not_of(' '));
        for (char &c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (!method.empty() && method != "head") methods.insert(method);
    }
    return methods;
}

std::string fill(std::string path, const std::string &id) {
    for (auto [name, value] : {std::pair<std::string, std::string>{"{id}", id}, {"{n}", "0"}})
        if (size_t at = path.find(name); at != std::string::npos) path.replace(at, name.size(), value);
    return path;
}

TEST_F(HttpApi, OpenApiDocumentIsServedAsTheDocsFile) {
    start();
    auto result = http_request(port, "GET", "/openapi.json");
    ASSERT_EQ(result.status, 200) << result.body;
    EXPECT_EQ(result.header("content-type"), "application/json");
    EXPECT_EQ(result.body, read_file(SDW_OPENAPI_FILE)) << "the embedded document is not docs/openapi.json";
    json document = result.json();
    ASSERT_TRUE(document.is_object()) << "not JSON";
    EXPECT_TRUE(document.value("openapi", "").starts_with("3.")) << document.value("openapi", "");
    ASSERT_TRUE(document["paths"].is_object());
    std::set<std::string> paths;
    for (const auto &[path, item] : document["paths"].items()) paths.insert(path);
    EXPECT_EQ(paths, kNativeRoutes);
    // Every operation has an id and documents its success and its error bodies.
    for (const auto &[path, item] : document["paths"].items())
        for (const std::string &method : documented_methods(item)) {
            const json &operation = item[method];
            EXPECT_TRUE(operation.contains("operationId")) << method << " " << path;
            EXPECT_TRUE(operation["responses"].contains("200") || operation["responses"].contains("202"))
                << method << " " << path;
        }
    // A HEAD gets the same headers, no body.
    auto head = http_request(port, "HEAD", "/openapi.json");
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
}

TEST_F(HttpApi, OpenApiDocumentNeedsNoKey) {
    auto options = default_options();
    options.api.api_keys = {"k"};
    start(options);
    EXPECT_EQ(http_request(port, "GET", "/openapi.json").status, 200);
    EXPECT_EQ(http_request(port, "GET", "/v1/info").status, 401);
    EXPECT_EQ(http_request(port, "POST", "/openapi.json", "{}").header("allow"), "GET, HEAD");
}

// For each documented path, with a real finished job in it: another method is 405 and its
// Allow names the documented methods exactly; each documented method is answered (not 405,
// not "no such path").
TEST_F(HttpApi, EveryMethodTheHandlerAnswersIsDocumented) {
    auto options = default_options();
    options.api.metrics = std::make_shared<Metrics>();
    start(options);
    std::string id = submit({{"prompt", "x"}, {"steps", 1}, {"width", 64}, {"height", 64}});
    ASSERT_TRUE(eventually([&] { return state_of(id) == "completed"; }));
    json document = http_request(port, "GET", "/openapi.json").json();
    ASSERT_TRUE(document["paths"].is_object());
    for (const auto &[path, item] : document["paths"].items()) {
        const std::string target = fill(path, id);
        auto other = http_request(port, "PUT", target, "{}", {{"Content-Type", "application/json"}});
        EXPECT_EQ(other.status, 405) << "PUT " << target;
        EXPECT_EQ(allowed_methods(other.header("allow")), documented_methods(item)) << path;
        for (const std::string &method : documented_methods(item)) {
            std::string upper = method;
            for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            if (upper == "DELETE") continue;  // 409 for the finished job: answered below
            auto answer = http_request(port, upper, target, upper == "POST" ? R"({"prompt": ""})" : "",
                                       {{"Content-Type", "application/json"}});
            EXPECT_NE(answer.status, 405) << upper << " " << target;
            EXPECT_NE(answer.status, 404) << upper << " " << target << ": " << answer.body;
        }
    }
    EXPECT_EQ(http_request(port, "DELETE", "/v1/jobs/" + id).status, 409);
}

// Found by schemathesis: a malformed ?last_event_id= was accepted (ignored) when a
// Last-Event-ID header was sent too. Each one given must be an event id; the header counts.
TEST_F(HttpApi, BothLastEventIdsMustBeEventIds) {
    start();
    std::string id = submit({{"prompt", "x"}, {"steps", 1}, {"width", 64}, {"height", 64}});
    ASSERT_TRUE(eventually([&] { return state_of(id) == "completed"; }));
    const std::string stream = "/v1/jobs/" + id + "/stream";
    auto bad_query = http_request(port, "GET", stream + "?last_event_id=-1", "", {{"Last-Event-ID", "1"}});
    EXPECT_EQ(bad_query.status, 400);
    EXPECT_EQ(bad_query.json()["error"]["field"], "last_event_id");
    EXPECT_EQ(http_request(port, "GET", stream, "", {{"Last-Event-ID", "x"}}).status, 400);
    // The header counts: after the last event, the client is told to stop (204).
    auto header_wins = test::read_sse(port, stream + "?last_event_id=1", {{"Last-Event-ID", "99"}});
    EXPECT_EQ(header_wins.status, 204);
    auto query_only = test::read_sse(port, stream + "?last_event_id=1");
    EXPECT_EQ(query_only.status, 200);
    ASSERT_FALSE(query_only.events.empty());
    EXPECT_EQ(query_only.events.front().id, "2");
}

}  // namespace
}  // namespace sdw
