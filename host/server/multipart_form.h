// multipart/form-data request bodies (RFC 7578 on RFC 2046's multipart syntax), for
// the upload routes (OpenAI's POST /v1/images/edits). The whole body is in memory (the
// HTTP server's body limit bounds it); parsing only finds the parts, it copies no part
// body.
//
// Accepted:
// - the boundary from the Content-Type's `boundary` parameter, a token or a quoted
//   string (backslash escapes), 1-70 characters of RFC 2046's bchars, not ending in a
//   space; the media type must be multipart/form-data (case-insensitive);
// - a preamble before the first delimiter and an epilogue after the closing one,
//   both ignored; transport padding (spaces, tabs) after a delimiter;
// - per part: header lines ending in CRLF (obsolete folded lines are joined), then a
//   blank line, then the body up to the CRLF before the next delimiter. A body may hold
//   any bytes, "--" and CR/LF included; "CRLF--boundary" followed by anything but
//   "--" or padding and CRLF is taken as body, not as a delimiter;
// - Content-Disposition: form-data with `name` (required) and `filename` (optional),
//   tokens or quoted strings; `filename*` (RFC 5987, UTF-8 or ASCII) is decoded and
//   preferred. Content-Type is kept as sent. Content-Transfer-Encoding may only be
//   7bit, 8bit or binary (RFC 7578 deprecates the others; none is decoded).
// Refused, with a message naming the part: no or a malformed boundary, no opening
// delimiter, a part whose headers or body never end (truncated body), no closing
// delimiter, a part without Content-Disposition form-data or without a name, more
// parts or header bytes than the limits allow. Line endings must be CRLF (every
// client in use sends them; a bare LF cannot be told from binary data).
//
// Never throws for any input (std::bad_alloc aside) and never reads outside `body`.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sdw {

struct MultipartLimits {
    size_t max_parts = 64;
    size_t max_header_bytes = 16384;  // one part's header block, CRLFs included
};

struct MultipartPart {
    std::string name;                     // Content-Disposition's name
    std::optional<std::string> filename;  // present for a file part (may be empty)
    std::string content_type;             // as sent, empty when absent (text/plain then)
    // A view into the `body` given to parse_multipart_form: valid while that lives.
    std::string_view body;
};

struct MultipartForm {
    std::vector<MultipartPart> parts;  // in body order; a name may repeat
    // The first part with this name, nullptr when none.
    const MultipartPart *find(std::string_view name) const;
};

struct MultipartError {
    std::string message;
};

// The boundary of a multipart/form-data Content-Type header value.
std::variant<std::string, MultipartError> multipart_boundary(std::string_view content_type);

std::variant<MultipartForm, MultipartError> parse_multipart_form(std::string_view content_type,
                                                                 std::string_view body,
                                                                 const MultipartLimits &limits = {});

}  // namespace sdw
