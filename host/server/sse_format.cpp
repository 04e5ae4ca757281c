#include "server/sse_format.h"

namespace sdw {

namespace {

// Appends "<field>: <line>\n" for every line of `value`.
void append_lines(std::string &out, std::string_view field, std::string_view value) {
    size_t start = 0;
    for (;;) {
        size_t end = value.find_first_of("\r\n", start);
        out.append(field).append(": ").append(value.substr(start, end - start)).push_back('\n');
        if (end == std::string_view::npos) break;
        start = end + 1;
        if (value[end] == '\r' && start < value.size() && value[start] == '\n') ++start;
    }
}

}  // namespace

std::string format_sse_event(const JobEvent &event) {
    std::string out;
    out.reserve(event.data.size() + event.name.size() + 32);
    out.append("id: ").append(std::to_string(event.id)).push_back('\n');
    if (!event.name.empty()) append_lines(out, "event", event.name);
    append_lines(out, "data", event.data);
    out.push_back('\n');
    return out;
}

std::optional<std::string> format_sse_head(const JobEvent &event) {
    if (event.data.find_first_of("\r\n") != std::string::npos) return std::nullopt;
    std::string out;
    out.append("id: ").append(std::to_string(event.id)).push_back('\n');
    if (!event.name.empty()) append_lines(out, "event", event.name);
    out.append("data: ");
    return out;
}

std::string format_sse_comment(std::string_view text) {
    std::string out;
    append_lines(out, "", text);
    // append_lines wrote ": text\n" with an empty field name: exactly a comment line.
    out.push_back('\n');
    return out;
}

std::string format_sse_done() { return "data: [DONE]\n\n"; }

}  // namespace sdw
