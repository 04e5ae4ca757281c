#include "config/http_url.h"

#include <gtest/gtest.h>

namespace sdw {
namespace {

TEST(HttpUrl, ParsesHostPortAndTarget) {
    EXPECT_EQ(parse_http_url("http://orch.example:9000/workers/beat?x=1"),
              (HttpUrl{"orch.example", 9000, "/workers/beat?x=1"}));
    EXPECT_EQ(parse_http_url("http://127.0.0.1"), (HttpUrl{"127.0.0.1", 80, "/"}));
    EXPECT_EQ(parse_http_url("HTTP://h?q"), (HttpUrl{"h", 80, "/?q"}));
    const auto v6 = parse_http_url("http://[::1]:81/p");
    ASSERT_TRUE(v6);
    EXPECT_EQ(*v6, (HttpUrl{"::1", 81, "/p"}));
    EXPECT_EQ(v6->host_header(), "[::1]:81");
    EXPECT_EQ(parse_http_url("http://h:8/")->host_header(), "h:8");
}

TEST(HttpUrl, RejectsWhatTheWorkerCannotDial) {
    const std::pair<const char *, const char *> cases[] = {
        {"https://h/", "https is not supported"},
        {"ftp://h/", "expected an http://"},
        {"h:80/x", "expected an http://"},
        {"http:///x", "no host"},
        {"http://h:0/", "invalid port"},
        {"http://h:65536/", "invalid port"},
        {"http://h:/", "empty port"},
        {"http://h:8x/", "invalid port"},
        {"http://u:p@h/", "user info"},
        {"http://h/#frag", "fragment"},
        {"http://h /", "whitespace"},
        {"http://[::1/", "unterminated"},
        {"http://h%41/", "invalid host"},
    };
    for (const auto &[url, reason] : cases) {
        std::string why;
        EXPECT_FALSE(parse_http_url(url, &why)) << url;
        EXPECT_NE(why.find(reason), std::string::npos) << url << " -> " << why;
    }
}

}  // namespace
}  // namespace sdw
