#include "server/multipart_form.h"

#include <algorithm>
#include <utility>

namespace sdw {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr size_t kMaxBoundary = 70;  // RFC 2046 section 5.1.1

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

bool has_at(std::string_view text, size_t at, std::string_view what) {
    return at <= text.size() && text.size() - at >= what.size() && text.compare(at, what.size(), what) == 0;
}

// For error messages: at most 64 printable ASCII characters of what a client sent.
std::string printable(std::string_view text) {
    std::string out;
    for (char c : text.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    if (text.size() > 64) out += "...";
    return out;
}

// A header value: "type; name=value; name="quoted value"". Parameter names lower-cased.
struct HeaderValue {
    std::string type;
    std::vector<std::pair<std::string, std::string>> params;

    const std::string *param(std::string_view name) const {
        for (const auto &[key, value] : params)
            if (key == name) return &value;
        return nullptr;
    }
};

// nullopt for an unterminated quoted string. Parameters without '=' are skipped.
std::optional<HeaderValue> parse_header_value(std::string_view text) {
    HeaderValue result;
    size_t at = std::min(text.find(';'), text.size());
    std::string_view type = trim(text.substr(0, at));
    result.type.reserve(type.size());
    for (char c : type) result.type.push_back(ascii_lower(c));
    while (at < text.size()) {
        ++at;  // the ';'
        const size_t name_end = std::min(text.find_first_of("=;", at), text.size());
        std::string_view name = trim(text.substr(at, name_end - at));
        at = name_end;
        if (at >= text.size() || text[at] == ';') continue;  // no value: skipped
        ++at;  // the '='
        while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;
        std::string value;
        if (at < text.size() && text[at] == '"') {
            ++at;
            bool closed = false;
            while (at < text.size()) {
                char c = text[at++];
                if (c == '"') {
                    closed = true;
                    break;
                }
                if (c == '\\' && at < text.size()) c = text[at++];
                value.push_back(c);
            }
            if (!closed) return std::nullopt;
            at = std::min(text.find(';', at), text.size());  // anything after the quote is ignored
        } else {
            const size_t value_end = std::min(text.find(';', at), text.size());
            value = std::string(trim(text.substr(at, value_end - at)));
            at = value_end;
        }
        std::string key;
        for (char c : name) key.push_back(ascii_lower(c));
        if (!key.empty()) result.params.emplace_back(std::move(key), std::move(value));
    }
    return result;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = ascii_lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// RFC 5987 ext-value: charset'language'percent-encoded. nullopt when malformed or in a
// charset other than UTF-8 / US-ASCII.
std::optional<std::string> decode_ext_value(std::string_view text) {
    const size_t first = text.find('\'');
    if (first == std::string_view::npos) return std::nullopt;
    const size_t second = text.find('\'', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    const std::string_view charset = text.substr(0, first);
    if (!iequals(charset, "utf-8") && !iequals(charset, "us-ascii")) return std::nullopt;
    std::string out;
    for (size_t i = second + 1; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        const int high = hex_value(text[i + 1]);
        const int low = hex_value(text[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
    }
    return out;
}

bool is_boundary_char(char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

// Where a delimiter line ends a part: `end` is where the part's body ends (the CRLF
// before "--boundary"), `next` where what follows the delimiter line begins.
struct Delimiter {
    size_t end = 0;
    size_t next = 0;
    bool closing = false;
};

// After "--boundary" at `at`: "--" closes, padding then CRLF opens a part, anything
// else means this was not a delimiter.
std::optional<Delimiter> delimiter_tail(std::string_view body, size_t at) {
    if (has_at(body, at, "--")) return Delimiter{0, at + 2, true};
    while (at < body.size() && (body[at] == ' ' || body[at] == '\t')) ++at;
    if (has_at(body, at, kCrlf)) return Delimiter{0, at + 2, false};
    return std::nullopt;
}

// The first delimiter line at or after `from`, the body's start counting as the start
// of a line when `at_line_start`.
std::optional<Delimiter> find_delimiter(std::string_view body, size_t from, std::string_view dash_boundary,
                                        bool at_line_start) {
    if (at_line_start && has_at(body, from, dash_boundary))
        if (auto tail = delimiter_tail(body, from + dash_boundary.size())) {
            tail->end = from;
            return tail;
        }
    for (size_t at = body.find(kCrlf, from); at != std::string_view::npos; at = body.find(kCrlf, at + 1)) {
        if (!has_at(body, at + 2, dash_boundary)) continue;
        if (auto tail = delimiter_tail(body, at + 2 + dash_boundary.size())) {
            tail->end = at;
            return tail;
        }
    }
    return std::nullopt;
}

struct PartHeaders {
    std::optional<std::string> disposition;
    std::optional<std::string> content_type;
    std::optional<std::string> transfer_encoding;
};

// Header lines (CRLF-separated, no final CRLF). False for a line that is not a header.
bool parse_header_lines(std::string_view block, PartHeaders &out) {
    std::vector<std::pair<std::string, std::string>> headers;
    size_t at = 0;
    while (at < block.size()) {
        const size_t line_end = std::min(block.find(kCrlf, at), block.size());
        const std::string_view line = block.substr(at, line_end - at);
        at = line_end + 2;
        if (line.empty()) return false;
        if (line.front() == ' ' || line.front() == '\t') {  // obsolete line folding
            if (headers.empty()) return false;
            headers.back().second += ' ';
            headers.back().second += trim(line);
            continue;
        }
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return false;
        std::string name;
        for (char c : trim(line.substr(0, colon))) name.push_back(ascii_lower(c));
        headers.emplace_back(std::move(name), std::string(trim(line.substr(colon + 1))));
    }
    for (auto &[name, value] : headers) {  // a header sent twice: the first counts
        if (name == "content-disposition" && !out.disposition) out.disposition = std::move(value);
        else if (name == "content-type" && !out.content_type) out.content_type = std::move(value);
        else if (name == "content-transfer-encoding" && !out.transfer_encoding)
            out.transfer_encoding = std::move(value);
    }
    return true;
}

std::string part_label(size_t number) { return "multipart part " + std::to_string(number); }

}  // namespace

const MultipartPart *MultipartForm::find(std::string_view name) const {
    for (const auto &part : parts)
        if (part.name == name) return &part;
    return nullptr;
}

std::variant<std::string, MultipartError> multipart_boundary(std::string_view content_type) {
    auto value = parse_header_value(content_type);
    if (!value) return MultipartError{"the Content-Type header is malformed (an unterminated quoted string)"};
    if (value->type != "multipart/form-data")
        return MultipartError{"the Content-Type must be multipart/form-data, not \"" + printable(value->type) + "\""};
    const std::string *boundary = value->param("boundary");
    if (!boundary || boundary->empty())
        return MultipartError{"the multipart/form-data Content-Type has no boundary parameter"};
    if (boundary->size() > kMaxBoundary)
        return MultipartError{"the multipart boundary is longer than 70 characters"};
    if (boundary->back() == ' ' || !std::all_of(boundary->begin(), boundary->end(), is_boundary_char))
        return MultipartError{"the multipart boundary \"" + printable(*boundary) +
                              "\" holds characters RFC 2046 does not allow"};
    return *boundary;
}

std::variant<MultipartForm, MultipartError> parse_multipart_form(std::string_view content_type,
                                                                 std::string_view body,
                                                                 const MultipartLimits &limits) {
    auto boundary_or_error = multipart_boundary(content_type);
    if (auto *error = std::get_if<MultipartError>(&boundary_or_error)) return std::move(*error);
    const std::string dash_boundary = "--" + std::get<std::string>(boundary_or_error);

    auto opening = find_delimiter(body, 0, dash_boundary, true);
    if (!opening)
        return MultipartError{"the multipart body holds no delimiter line for its boundary \"" +
                              printable(dash_boundary.substr(2)) + "\""};

    MultipartForm form;
    Delimiter delimiter = *opening;
    while (!delimiter.closing) {
        const size_t number = form.parts.size() + 1;
        if (form.parts.size() >= limits.max_parts)
            return MultipartError{"the multipart body has more than " + std::to_string(limits.max_parts) + " parts"};
        const size_t start = delimiter.next;
        if (start >= body.size())
            return MultipartError{"the multipart body ends without its closing delimiter (\"" +
                                  printable(dash_boundary) + "--\")"};

        // Headers: lines up to an empty line; none at all when the part starts with it.
        size_t headers_end = start;
        size_t body_start = start + 2;
        if (!has_at(body, start, kCrlf)) {
            const size_t window = std::min(body.size() - start, limits.max_header_bytes + 4);
            const size_t blank = body.substr(start, window).find("\r\n\r\n");
            if (blank == std::string_view::npos) {
                if (window < body.size() - start)
                    return MultipartError{part_label(number) + " has more than " +
                                          std::to_string(limits.max_header_bytes) + " bytes of headers"};
                return MultipartError{part_label(number) + "'s headers do not end (the body is truncated)"};
            }
            headers_end = start + blank;
            body_start = headers_end + 4;
        }
        PartHeaders headers;
        if (!parse_header_lines(body.substr(start, headers_end - start), headers))
            return MultipartError{part_label(number) + " has a malformed header line"};

        if (!headers.disposition)
            return MultipartError{part_label(number) + " has no Content-Disposition header"};
        auto disposition = parse_header_value(*headers.disposition);
        if (!disposition)
            return MultipartError{part_label(number) + "'s Content-Disposition is malformed (an unterminated quoted string)"};
        if (disposition->type != "form-data")
            return MultipartError{part_label(number) + "'s Content-Disposition is \"" + printable(disposition->type) +
                                  "\", not form-data"};
        const std::string *name = disposition->param("name");
        if (!name) return MultipartError{part_label(number) + "'s Content-Disposition has no name"};

        MultipartPart part;
        part.name = *name;
        if (const std::string *ext = disposition->param("filename*"))
            part.filename = decode_ext_value(*ext);
        if (!part.filename)
            if (const std::string *filename = disposition->param("filename")) part.filename = *filename;
        if (headers.content_type) part.content_type = *headers.content_type;
        if (headers.transfer_encoding) {
            const std::string_view encoding = *headers.transfer_encoding;
            if (!iequals(encoding, "7bit") && !iequals(encoding, "8bit") && !iequals(encoding, "binary"))
                return MultipartError{part_label(number) + " (\"" + printable(part.name) +
                                      "\") has Content-Transfer-Encoding \"" + printable(encoding) +
                                      "\"; only 7bit, 8bit and binary are accepted"};
        }

        // The part's body ends at the CRLF before the next delimiter line; a part that
        // has no headers already starts at that CRLF when its body is empty.
        auto next = find_delimiter(body, body_start - 2, dash_boundary, false);
        if (!next)
            return MultipartError{part_label(number) + " (\"" + printable(part.name) +
                                  "\") is not ended by a delimiter line: the body is truncated, "
                                  "or the boundary is not the Content-Type's"};
        part.body = body.substr(body_start, next->end - body_start);
        form.parts.push_back(std::move(part));
        delimiter = *next;
    }
    return form;
}

}  // namespace sdw
