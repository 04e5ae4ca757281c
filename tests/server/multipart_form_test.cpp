#include "server/multipart_form.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace sdw {
namespace {

using namespace std::string_literals;

const char *const kType = "multipart/form-data; boundary=XyZ";

MultipartForm parse_ok(std::string_view type, std::string_view body, const MultipartLimits &limits = {}) {
    auto result = parse_multipart_form(type, body, limits);
    if (auto *error = std::get_if<MultipartError>(&result)) {
        ADD_FAILURE() << "refused: " << error->message;
        return {};
    }
    return std::get<MultipartForm>(std::move(result));
}

std::string parse_error(std::string_view type, std::string_view body, const MultipartLimits &limits = {}) {
    auto result = parse_multipart_form(type, body, limits);
    if (auto *error = std::get_if<MultipartError>(&result)) return error->message;
    ADD_FAILURE() << "accepted " << body.size() << " bytes";
    return {};
}

std::string boundary_of(std::string_view type) {
    auto result = multipart_boundary(type);
    if (auto *error = std::get_if<MultipartError>(&result)) return "error: " + error->message;
    return std::get<std::string>(result);
}

// What the openai Python client (httpx) sent for images.edit(image=..., mask=...,
// prompt='a "dog"\r\nx', n=1), captured from the wire; the PNGs shortened.
const std::string kOpenAiBoundary = "6e5d46e561db361b3cee951abec19fc4";
std::string openai_client_body(const std::string &image, const std::string &mask) {
    const std::string b = "--" + kOpenAiBoundary;
    return b + "\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\na \"dog\"\r\nx\r\n" + b +
           "\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n1\r\n" + b +
           "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"img.png\"\r\nContent-Type: image/png\r\n\r\n" +
           image + "\r\n" + b +
           "\r\nContent-Disposition: form-data; name=\"mask\"; filename=\"upload\"\r\nContent-Type: "
           "application/octet-stream\r\n\r\n" +
           mask + "\r\n" + b + "--\r\n";
}

TEST(MultipartBoundary, TokenAndQuotedForms) {
    EXPECT_EQ(boundary_of("multipart/form-data; boundary=abc123"), "abc123");
    EXPECT_EQ(boundary_of("multipart/form-data;boundary=abc"), "abc");
    EXPECT_EQ(boundary_of("Multipart/Form-Data; BOUNDARY=AbC"), "AbC");
    EXPECT_EQ(boundary_of("multipart/form-data; charset=utf-8; boundary=\"a b:c=d?\"; x=y"), "a b:c=d?");
    EXPECT_EQ(boundary_of("multipart/form-data; boundary=\"q\\uote\""), "quote");  // a quoted-pair
    EXPECT_EQ(boundary_of("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW"),
              "----WebKitFormBoundary7MA4YWxkTrZu0gW");
    EXPECT_EQ(boundary_of("multipart/form-data; boundary=" + std::string(70, 'a')), std::string(70, 'a'));
    EXPECT_EQ(boundary_of("  multipart/form-data ; boundary = x "), "x");
}

TEST(MultipartBoundary, Refusals) {
    EXPECT_NE(boundary_of("application/json").find("must be multipart/form-data"), std::string::npos);
    EXPECT_NE(boundary_of("multipart/mixed; boundary=x").find("must be multipart/form-data"), std::string::npos);
    EXPECT_NE(boundary_of("").find("error"), std::string::npos);
    EXPECT_NE(boundary_of("multipart/form-data").find("no boundary"), std::string::npos);
    EXPECT_NE(boundary_of("multipart/form-data; boundary=").find("no boundary"), std::string::npos);
    EXPECT_NE(boundary_of("multipart/form-data; boundary=\"\"").find("no boundary"), std::string::npos);
    EXPECT_NE(boundary_of("multipart/form-data; boundary").find("no boundary"), std::string::npos);
    EXPECT_NE(boundary_of("multipart/form-data; boundary=" + std::string(71, 'a')).find("longer than 70"),
              std::string::npos);
    EXPECT_NE(boundary_of("multipart/form-data; boundary=\"ab \"").find("does not allow"), std::string::npos);
    EXPECT_NE(boundary_of("multipart/form-data; boundary=a\x01" "b").find("does not allow"), std::string::npos);
    EXPECT_NE(boundary_of("multipart/form-data; boundary=\"a<b\"").find("does not allow"), std::string::npos);
    // ';' and '"' may be quoted in a header but are not boundary characters.
    EXPECT_NE(boundary_of("multipart/form-data; boundary=\"a;b\"").find("does not allow"), std::string::npos);
    EXPECT_NE(boundary_of("multipart/form-data; boundary=\"a\\\"b\"").find("does not allow"), std::string::npos);
    EXPECT_NE(boundary_of("multipart/form-data; boundary=\"unterminated").find("malformed"), std::string::npos);
}

TEST(MultipartForm, ReadsWhatTheOpenAiClientSends) {
    const std::string image = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR--\r\n--6e5d"s;
    const std::string mask = "\x89PNG\r\n\x1a\n\r\n\r\n\x00\xff"s;
    const std::string body = openai_client_body(image, mask);
    const MultipartForm form = parse_ok("multipart/form-data; boundary=" + kOpenAiBoundary, body);
    ASSERT_EQ(form.parts.size(), 4u);
    EXPECT_EQ(form.parts[0].name, "prompt");
    EXPECT_EQ(form.parts[0].body, "a \"dog\"\r\nx");
    EXPECT_FALSE(form.parts[0].filename);
    EXPECT_EQ(form.parts[0].content_type, "");
    EXPECT_EQ(form.parts[1].name, "n");
    EXPECT_EQ(form.parts[1].body, "1");
    EXPECT_EQ(form.parts[2].name, "image");
    EXPECT_EQ(form.parts[2].filename, "img.png");
    EXPECT_EQ(form.parts[2].content_type, "image/png");
    EXPECT_EQ(form.parts[2].body, image);
    EXPECT_EQ(form.parts[3].name, "mask");
    EXPECT_EQ(form.parts[3].filename, "upload");
    EXPECT_EQ(form.parts[3].content_type, "application/octet-stream");
    EXPECT_EQ(form.parts[3].body, mask);
    ASSERT_NE(form.find("mask"), nullptr);
    EXPECT_EQ(form.find("mask")->body, mask);
    EXPECT_EQ(form.find("missing"), nullptr);
    // The bodies are views into the request body, not copies.
    EXPECT_GE(form.parts[2].body.data(), body.data());
    EXPECT_LE(form.parts[2].body.data() + form.parts[2].body.size(), body.data() + body.size());
}

TEST(MultipartForm, ReadsRequestsAndBrowserStyleBodies) {
    // Python requests (urllib3): hex boundary, quoted filename, no trailing CRLF.
    const std::string requests_body =
        "--8d3c1e0a\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nhello\r\n"
        "--8d3c1e0a\r\nContent-Disposition: form-data; name=\"image\"; filename=\"in put.png\"\r\n"
        "Content-Type: image/png\r\n\r\nPNGDATA\r\n--8d3c1e0a--";
    MultipartForm form = parse_ok("multipart/form-data; boundary=8d3c1e0a", requests_body);
    ASSERT_EQ(form.parts.size(), 2u);
    EXPECT_EQ(form.parts[1].filename, "in put.png");
    EXPECT_EQ(form.parts[1].body, "PNGDATA");

    // Chromium: dashes in the boundary, header names in any case, repeated names.
    const std::string browser_body =
        "------WebKitFormBoundaryAbC\r\ncontent-disposition: form-data; name=\"image[]\"; filename=\"a.png\"\r\n"
        "CONTENT-TYPE: image/png\r\n\r\nA\r\n"
        "------WebKitFormBoundaryAbC\r\nContent-Disposition: form-data; name=\"image[]\"; filename=\"b.png\"\r\n"
        "\r\nB\r\n------WebKitFormBoundaryAbC--\r\n";
    form = parse_ok("multipart/form-data; boundary=----WebKitFormBoundaryAbC", browser_body);
    ASSERT_EQ(form.parts.size(), 2u);
    EXPECT_EQ(form.parts[0].content_type, "image/png");
    EXPECT_EQ(form.find("image[]")->body, "A");  // the first of a repeated name
    EXPECT_EQ(form.parts[1].body, "B");
}

TEST(MultipartForm, BodiesAreBinarySafe) {
    std::string binary;
    for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
    // Near-delimiters that are data: the boundary without the CRLF before it, a longer
    // boundary that starts with ours, "--" and CRLFs everywhere, a trailing CR.
    binary += "--XyZ\r\n\n--XyZ\r--\r\n--XyZa\r\n--XyZ!\r\n--Xy\r\n\r\n--\r";
    const std::string body = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"b.bin\"\r\n\r\n" +
                             binary + "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"g\"\r\n\r\n--\r\n--XyZ--";
    const MultipartForm form = parse_ok(kType, body);
    ASSERT_EQ(form.parts.size(), 2u);
    EXPECT_EQ(form.parts[0].body, binary);
    EXPECT_EQ(form.parts[1].body, "--");
}

TEST(MultipartForm, PreambleEpilogueAndTransportPadding) {
    const std::string body =
        "This is the preamble.\r\n--XyZ is not a delimiter here\r\n--XyZ \t\r\n"
        "Content-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ  \r\n"
        "Content-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n--XyZ--  epilogue\r\n--XyZ\r\ngarbage";
    const MultipartForm form = parse_ok(kType, body);
    ASSERT_EQ(form.parts.size(), 2u);
    EXPECT_EQ(form.parts[0].body, "1");
    EXPECT_EQ(form.parts[1].body, "2");

    // A preamble that is only a CRLF.
    EXPECT_EQ(parse_ok(kType, "\r\n--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ--").parts.size(), 1u);
}

TEST(MultipartForm, EmptyBodiesAndEmptyForm) {
    MultipartForm form = parse_ok(kType,
                                  "--XyZ\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n"
                                  "--XyZ\r\nContent-Disposition: form-data; name=\"crlf\"\r\n\r\n\r\n\r\n--XyZ--\r\n");
    ASSERT_EQ(form.parts.size(), 2u);
    EXPECT_EQ(form.parts[0].body, "");
    EXPECT_EQ(form.parts[1].body, "\r\n");
    EXPECT_TRUE(parse_ok(kType, "--XyZ--\r\n").parts.empty());
    EXPECT_TRUE(parse_ok(kType, "--XyZ--").parts.empty());
}

TEST(MultipartForm, DispositionParameters) {
    const std::string body =
        "--XyZ\r\nContent-Disposition: FORM-DATA; Name=\"se;mi\\\"q\"; filename=\"a\\\\b.png\"\r\n\r\nx\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=token; filename*=UTF-8''%E2%82%AC%20rates.txt; "
        "filename=\"fallback.txt\"\r\n\r\ny\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"bad-ext\"; filename*=latin9''x; filename=\"plain\"\r\n\r\nz\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"empty-file\"; filename=\"\"\r\n\r\n\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nnameless\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"folded\";\r\n filename=\"f.txt\"\r\n\r\nw\r\n--XyZ--";
    const MultipartForm form = parse_ok(kType, body);
    ASSERT_EQ(form.parts.size(), 6u);
    EXPECT_EQ(form.parts[0].name, "se;mi\"q");
    EXPECT_EQ(form.parts[0].filename, "a\\b.png");
    EXPECT_EQ(form.parts[1].name, "token");
    EXPECT_EQ(form.parts[1].filename, "\xE2\x82\xAC rates.txt");
    EXPECT_EQ(form.parts[2].filename, "plain");  // an ext-value in another charset is not used
    EXPECT_EQ(form.parts[3].filename, "");
    EXPECT_EQ(form.parts[3].body, "");
    EXPECT_EQ(form.parts[4].name, "");
    EXPECT_EQ(form.parts[5].name, "folded");
    EXPECT_EQ(form.parts[5].filename, "f.txt");
}

TEST(MultipartForm, TransferEncodings) {
    auto with_encoding = [](const std::string &encoding) {
        return "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Transfer-Encoding: " + encoding +
               "\r\n\r\nQUJD\r\n--XyZ--";
    };
    EXPECT_EQ(parse_ok(kType, with_encoding("binary")).parts.at(0).body, "QUJD");
    EXPECT_EQ(parse_ok(kType, with_encoding("8BIT")).parts.at(0).body, "QUJD");
    EXPECT_NE(parse_error(kType, with_encoding("base64")).find("Content-Transfer-Encoding"), std::string::npos);
    EXPECT_NE(parse_error(kType, with_encoding("quoted-printable")).find("only 7bit, 8bit and binary"),
              std::string::npos);
}

TEST(MultipartForm, StructuralErrorsAreNamed) {
    EXPECT_NE(parse_error(kType, "").find("no delimiter line"), std::string::npos);
    EXPECT_NE(parse_error(kType, "no boundary anywhere").find("no delimiter line"), std::string::npos);
    EXPECT_NE(parse_error(kType, "--XyZa\r\n").find("no delimiter line"), std::string::npos);
    EXPECT_NE(parse_error("multipart/form-data; boundary=other", openai_client_body("i", "m")).find("no delimiter"),
              std::string::npos);
    EXPECT_NE(parse_error("text/plain", "--XyZ--").find("multipart/form-data"), std::string::npos);

    const std::string part = "--XyZ\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\ndata";
    EXPECT_NE(parse_error(kType, part).find("part 1 (\"image\") is not ended by a delimiter"), std::string::npos);
    EXPECT_NE(parse_error(kType, part + "\r\n--XyZ").find("not ended by a delimiter"), std::string::npos);
    EXPECT_NE(parse_error(kType, part + "\r\n--XyZ\r\n").find("without its closing delimiter"), std::string::npos);
    EXPECT_NE(parse_error(kType, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n").find("headers do not end"),
              std::string::npos);
    EXPECT_NE(parse_error(kType, "--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--").find("no Content-Disposition"),
              std::string::npos);
    EXPECT_NE(parse_error(kType, "--XyZ\r\n\r\nv\r\n--XyZ--").find("part 1 has no Content-Disposition"),
              std::string::npos);
    EXPECT_NE(parse_error(kType, "--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--XyZ--")
                  .find("not form-data"),
              std::string::npos);
    EXPECT_NE(parse_error(kType, "--XyZ\r\nContent-Disposition: form-data; filename=a\r\n\r\nv\r\n--XyZ--")
                  .find("has no name"),
              std::string::npos);
    EXPECT_NE(parse_error(kType, "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--XyZ--")
                  .find("unterminated quoted string"),
              std::string::npos);
    EXPECT_NE(parse_error(kType, "--XyZ\r\nno colon here\r\n\r\nv\r\n--XyZ--").find("malformed header line"),
              std::string::npos);
    EXPECT_NE(parse_error(kType, "--XyZ\r\n folded first\r\n\r\nv\r\n--XyZ--").find("malformed header line"),
              std::string::npos);
    // The second part is the one named.
    EXPECT_NE(parse_error(kType, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ\r\nX: y\r\n\r\nw\r\n--XyZ--")
                  .find("part 2 has no Content-Disposition"),
              std::string::npos);
}

std::string form_with_parts(size_t count) {
    std::string body;
    for (size_t i = 0; i < count; ++i)
        body += "--XyZ\r\nContent-Disposition: form-data; name=\"p" + std::to_string(i) + "\"\r\n\r\n" +
                std::to_string(i) + "\r\n";
    return body + "--XyZ--\r\n";
}

TEST(MultipartForm, Limits) {
    EXPECT_EQ(parse_ok(kType, form_with_parts(64)).parts.size(), 64u);
    EXPECT_NE(parse_error(kType, form_with_parts(65)).find("more than 64 parts"), std::string::npos);
    MultipartLimits few;
    few.max_parts = 2;
    EXPECT_NE(parse_error(kType, form_with_parts(3), few).find("more than 2 parts"), std::string::npos);

    MultipartLimits small;
    small.max_header_bytes = 64;
    const std::string header = "Content-Disposition: form-data; name=\"" + std::string(20, 'n') + "\"";
    const std::string fits = "--XyZ\r\n" + header + "\r\n\r\nv\r\n--XyZ--";
    EXPECT_EQ(parse_ok(kType, fits, small).parts.size(), 1u);
    const std::string too_long = "--XyZ\r\n" + header + "\r\nX-Padding: " + std::string(20, 'p') + "\r\n\r\nv\r\n--XyZ--";
    EXPECT_NE(parse_error(kType, too_long, small).find("more than 64 bytes of headers"), std::string::npos);
}

TEST(MultipartForm, EveryTruncationIsRefused) {
    const std::string body = openai_client_body("\x89PNG\r\n--\r\n", "mask--");
    const std::string type = "multipart/form-data; boundary=" + kOpenAiBoundary;
    const size_t closing = body.rfind("--\r\n");  // the closing delimiter's "--"
    for (size_t length = 0; length < closing + 2; ++length) {
        auto result = parse_multipart_form(type, std::string_view(body).substr(0, length));
        EXPECT_TRUE(std::holds_alternative<MultipartError>(result)) << "prefix of " << length << " bytes accepted";
    }
    EXPECT_EQ(parse_ok(type, std::string_view(body).substr(0, closing + 2)).parts.size(), 4u);
}

TEST(MultipartForm, RandomMutationsNeverCrash) {
    // Run under ASan: every mutated body is refused or parsed into parts that lie
    // inside it; nothing throws.
    const std::string original = openai_client_body(std::string(200, 'i'), std::string(100, 'm'));
    const std::string type = "multipart/form-data; boundary=" + kOpenAiBoundary;
    std::mt19937 rng(7);
    const std::string alphabet = "\r\n-;=\"\\ :6e5dxX\x00\xff"s;
    int refused = 0;
    for (int iteration = 0; iteration < 3000; ++iteration) {
        std::string body = original;
        const int edits = 1 + int(rng() % 6);
        for (int e = 0; e < edits; ++e) {
            const size_t at = rng() % body.size();
            switch (rng() % 3) {
            case 0: body[at] = alphabet[rng() % alphabet.size()]; break;
            case 1: body.erase(at, 1 + rng() % 8); break;
            default: body.insert(body.begin() + std::ptrdiff_t(at), alphabet[rng() % alphabet.size()]); break;
            }
            if (body.empty()) body.assign(1, 'x');
        }
        if (rng() % 4 == 0) body.resize(rng() % body.size());
        auto result = parse_multipart_form(type, body);
        if (auto *form = std::get_if<MultipartForm>(&result)) {
            for (const auto &part : form->parts) {
                EXPECT_GE(part.body.data(), body.data());
                EXPECT_LE(part.body.data() + part.body.size(), body.data() + body.size());
            }
        } else {
            ++refused;
        }
    }
    EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace sdw
