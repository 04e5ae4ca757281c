// The built-in web UI's files (host/web/ui), embedded at build time. The server answers
// `GET /` with index.html and `GET /ui/<name>` with the others.
#pragma once
#include <string_view>
namespace sdw {
struct WebAsset { std::string_view content_type; std::string_view body; };
// The embedded UI file `name` relative to host/web/ui ("index.html", "app.js", ...);
// nullptr when there is none. Content types: text/html; charset=utf-8, text/javascript; charset=utf-8, text/css; charset=utf-8, image/svg+xml, image/png.
const WebAsset *find_web_asset(std::string_view name);
}
