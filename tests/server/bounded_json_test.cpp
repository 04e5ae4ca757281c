// Bounded parsing of request bodies: depth and value limits enforced before any DOM is
// built, and the top-level field at fault named.
#include "server/bounded_json.h"

#include <gtest/gtest.h>

namespace sdw {
namespace {

using json = nlohmann::json;

JsonRefusal refused(std::string_view text, const JsonBounds &bounds = {}) {
    auto result = parse_bounded_json(text, bounds);
    EXPECT_TRUE(std::holds_alternative<JsonRefusal>(result)) << text.substr(0, 80);
    return std::holds_alternative<JsonRefusal>(result) ? std::get<JsonRefusal>(result) : JsonRefusal{};
}

TEST(BoundedJson, ParsesABodyWithinTheBounds) {
    auto result = parse_bounded_json(R"({"prompt": "a cat", "steps": 4, "override": {"a": [1, [2, {"b": null}]]}})");
    ASSERT_TRUE(std::holds_alternative<json>(result));
    EXPECT_EQ(std::get<json>(result)["override"]["a"][1][1]["b"], nullptr);
    EXPECT_EQ(std::get<json>(result)["steps"], 4);
}

TEST(BoundedJson, NestingBeyondTheDepthIsRefusedNamingTheField) {
    JsonBounds bounds;
    bounds.max_depth = 4;
    EXPECT_TRUE(std::holds_alternative<json>(parse_bounded_json(R"({"a": [[[1]]]})", bounds)));  // depth 4
    JsonRefusal deep = refused(R"({"steps": 3, "a": [[[[1]]]]})", bounds);
    EXPECT_EQ(deep.field, "a");
    EXPECT_NE(deep.message.find("deeper than 4"), std::string::npos) << deep.message;
    // 16 MiB of '[' (the reported freeze): refused at the first level too many.
    JsonRefusal brackets = refused(std::string(16u << 20, '['));
    EXPECT_EQ(brackets.field, "");
    EXPECT_NE(brackets.message.find("deeper than 32"), std::string::npos) << brackets.message;
}

TEST(BoundedJson, MoreValuesThanTheBoundAreRefused) {
    JsonBounds bounds;
    bounds.max_values = 10;
    EXPECT_TRUE(std::holds_alternative<json>(parse_bounded_json("[1,2,3,4,5,6,7,8,9]", bounds)));  // 10 with the array
    JsonRefusal many = refused(R"({"prompt": "x", "list": [1,2,3,4,5,6,7,8,9,10]})", bounds);
    EXPECT_EQ(many.field, "list");
    EXPECT_NE(many.message.find("more than 10 JSON values"), std::string::npos) << many.message;
    std::string flat = "[";
    for (int i = 0; i < 200000; ++i) flat += "0,";
    flat += "0]";
    EXPECT_NE(refused(flat).message.find("more than 100000"), std::string::npos);
}

TEST(BoundedJson, ANumberBeyondADoubleNamesItsField) {
    JsonRefusal overflow = refused(R"({"prompt": "x", "guidance_scale": 1e309})");
    EXPECT_EQ(overflow.field, "guidance_scale");
    EXPECT_EQ(overflow.message, "guidance_scale holds a number outside the range of a double");
    EXPECT_EQ(refused("[1e309]").field, "");
}

TEST(BoundedJson, MalformedBodiesAreRefusedAsAWhole) {
    for (std::string_view text : {"", "{", R"({"a": })", "[1,]", "{\"a\": 1} trailing", "nul"}) {
        JsonRefusal bad = refused(text);
        EXPECT_EQ(bad.message, "the request body is not valid JSON") << text;
    }
    // A byte order mark nlohmann would skip: refused, as a peer might not read it as JSON.
    EXPECT_EQ(refused("\xEF\xBB\xBF{\"a\": 1}").field, "");
    EXPECT_NE(refused("\xEF\xBB\xBF{\"a\": 1}").message.find("byte order mark"), std::string::npos);
    // After a nested value ends, a later error is not blamed on it.
    EXPECT_EQ(refused(R"({"a": {"b": 1}, )").field, "");
}

}  // namespace
}  // namespace sdw
