#include "web/web_assets.h"
#include "web/web_assets_table.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::string extension(std::string_view name) {
    size_t dot = name.rfind('.');
    return dot == std::string_view::npos ? "" : std::string(name.substr(dot + 1));
}

std::string expected_type(std::string_view name) {
    static const std::map<std::string, std::string> types = {
        {"html", "text/html; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"}};
    auto it = types.find(extension(name));
    return it == types.end() ? "" : it->second;
}

// The folder part of an asset name ("" for top-level files, "icons/" for icons/x.svg).
std::string folder_of(const std::string &name) {
    size_t slash = name.rfind('/');
    return slash == std::string::npos ? "" : name.substr(0, slash + 1);
}

// Resolves a URL referenced from asset `from` to an asset name, or "" when it points
// outside /ui/ (which the test then reports). Handles "/ui/x", "./x", "x" and "../x".
std::string resolve(const std::string &from, std::string url) {
    size_t cut = url.find_first_of("?#");
    if (cut != std::string::npos) url.resize(cut);
    std::string path;
    if (url.rfind("/ui/", 0) == 0) path = url.substr(4);
    else if (url.empty() || url[0] == '/' || url.find(':') != std::string::npos) return "";
    else path = folder_of(from) + url;
    std::vector<std::string> parts;
    std::stringstream in(path);
    for (std::string part; std::getline(in, part, '/');) {
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (parts.empty()) return "";
            parts.pop_back();
        } else {
            parts.push_back(part);
        }
    }
    std::string name;
    for (const auto &part : parts) name += (name.empty() ? "" : "/") + part;
    return name;
}

// The URLs an asset references: src/href attributes in HTML and SVG, imports (static,
// side-effect, dynamic, re-exports) in JavaScript, url() in CSS.
std::vector<std::string> references(const std::string &name, const std::string &body) {
    std::vector<std::regex> patterns;
    std::string ext = extension(name);
    if (ext == "html" || ext == "svg") {
        patterns.emplace_back(R"re(\b(?:src|href)\s*=\s*"([^"]*)")re");
        patterns.emplace_back(R"re(\b(?:src|href)\s*=\s*'([^']*)')re");
    } else if (ext == "js") {
        patterns.emplace_back(R"re(\bfrom\s*["']([^"']+)["'])re");
        patterns.emplace_back(R"re((?:^|[;\n])\s*import\s*["']([^"']+)["'])re");
        patterns.emplace_back(R"re(\bimport\s*\(\s*["']([^"']+)["']\s*\))re");
    } else if (ext == "css") {
        patterns.emplace_back(R"re(url\(\s*["']?([^"')]+)["']?\s*\))re");
        patterns.emplace_back(R"re(@import\s+["']([^"']+)["'])re");
    }
    std::vector<std::string> urls;
    for (const auto &pattern : patterns)
        for (std::sregex_iterator it(body.begin(), body.end(), pattern), end; it != end; ++it) {
            std::string url = (*it)[1];
            if (url.rfind("data:", 0) == 0 || url.rfind("#", 0) == 0) continue;  // inline, fragment
            urls.push_back(url);
        }
    return urls;
}

TEST(WebAssets, IndexIsEmbeddedAsHtml) {
    const sdw::WebAsset *index = sdw::find_web_asset("index.html");
    ASSERT_NE(index, nullptr);
    EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
    EXPECT_NE(index->body.find("<!doctype html>"), std::string_view::npos);
    EXPECT_NE(index->body.find("/ui/app.js"), std::string_view::npos);
    EXPECT_NE(index->body.find("/ui/style.css"), std::string_view::npos);
}

TEST(WebAssets, UnknownNamesAreNotFound) {
    for (const char *name : {"", "nope.js", "/index.html", "ui/index.html", "./index.html",
                             "../index.html", "index.htm", "INDEX.HTML", "index.html/", "app"})
        EXPECT_EQ(sdw::find_web_asset(name), nullptr) << name;
    EXPECT_EQ(sdw::find_web_asset(std::string_view("index.html\0", 11)), nullptr);
}

TEST(WebAssets, ContentTypesFollowTheExtension) {
    ASSERT_GT(sdw::web_detail::kAssetCount, 0u);
    for (std::size_t i = 0; i < sdw::web_detail::kAssetCount; ++i) {
        std::string name = sdw::web_detail::kAssets[i].name;
        const sdw::WebAsset *asset = sdw::find_web_asset(name);
        ASSERT_NE(asset, nullptr) << name;
        EXPECT_EQ(asset->content_type, expected_type(name)) << name;
    }
    ASSERT_NE(sdw::find_web_asset("app.js"), nullptr);
    EXPECT_EQ(sdw::find_web_asset("app.js")->content_type, "text/javascript; charset=utf-8");
    ASSERT_NE(sdw::find_web_asset("style.css"), nullptr);
    EXPECT_EQ(sdw::find_web_asset("style.css")->content_type, "text/css; charset=utf-8");
    ASSERT_NE(sdw::find_web_asset("favicon.svg"), nullptr);
    EXPECT_EQ(sdw::find_web_asset("favicon.svg")->content_type, "image/svg+xml");
}

TEST(WebAssets, EveryUiFileIsEmbeddedVerbatim) {
    std::set<std::string> on_disk;
    for (const auto &entry : fs::recursive_directory_iterator(SDW_WEB_UI_DIR)) {
        if (!entry.is_regular_file()) continue;
        std::string name = fs::relative(entry.path(), SDW_WEB_UI_DIR).generic_string();
        on_disk.insert(name);
        const sdw::WebAsset *asset = sdw::find_web_asset(name);
        ASSERT_NE(asset, nullptr) << name << " is in host/web/ui but not embedded (rebuild?)";
        EXPECT_TRUE(asset->body == read_file(entry.path()))
            << name << " differs from host/web/ui/" << name;
    }
    EXPECT_EQ(on_disk.size(), sdw::web_detail::kAssetCount)
        << "the embedded table has files host/web/ui no longer has";
}

TEST(WebAssets, EveryReferenceFromIndexAndModulesResolves) {
    // Walks what a browser would load, starting at index.html.
    std::vector<std::string> pending{"index.html"};
    std::set<std::string> seen{"index.html"};
    std::size_t modules = 0;
    while (!pending.empty()) {
        std::string name = pending.back();
        pending.pop_back();
        const sdw::WebAsset *asset = sdw::find_web_asset(name);
        ASSERT_NE(asset, nullptr) << name;
        if (extension(name) == "js") ++modules;
        std::string body(asset->body);
        for (const std::string &url : references(name, body)) {
            if (name == "index.html") {
                EXPECT_EQ(url.rfind("/ui/", 0), 0u)
                    << "index.html references " << url << ": served pages reference /ui/<file>";
            }
            std::string target = resolve(name, url);
            ASSERT_FALSE(target.empty())
                << name << " references " << url << ", which is not an embedded /ui/ file";
            EXPECT_NE(sdw::find_web_asset(target), nullptr)
                << name << " references " << url << " (" << target << "), which is not embedded";
            if (sdw::find_web_asset(target) && seen.insert(target).second) pending.push_back(target);
        }
    }
    EXPECT_TRUE(seen.count("app.js"));
    EXPECT_TRUE(seen.count("style.css"));
    EXPECT_GE(modules, 2u) << "app.js imports its modules";
}

}  // namespace
