#include "server/bounded_json.h"

#include <optional>

namespace sdw {

using json = nlohmann::json;

namespace {

// Counts and checks; returning false stops nlohmann's parser at once.
class BoundsChecker final : public json::json_sax_t {
public:
    explicit BoundsChecker(const JsonBounds &bounds) : bounds_(bounds) {}

    bool null() override { return value(); }
    bool boolean(bool) override { return value(); }
    bool number_integer(number_integer_t) override { return value(); }
    bool number_unsigned(number_unsigned_t) override { return value(); }
    bool number_float(number_float_t, const string_t &) override { return value(); }
    bool string(string_t &) override { return value(); }
    bool binary(binary_t &) override { return value(); }
    bool start_object(std::size_t) override { return open(); }
    bool start_array(std::size_t) override { return open(); }
    bool end_object() override { return close(); }
    bool end_array() override { return close(); }
    bool key(string_t &name) override {
        if (depth_ == 1) key_ = name;
        return true;
    }
    bool parse_error(std::size_t, const std::string &, const nlohmann::detail::exception &error) override {
        // 406: a number the lexer cannot hold (beyond a double's range).
        if (error.id == 406 && !key_.empty())
            refusal_ = JsonRefusal{key_, key_ + " holds a number outside the range of a double"};
        else if (error.id == 406)
            refusal_ = JsonRefusal{"", "the request body holds a number outside the range of a double"};
        else
            refusal_ = JsonRefusal{"", "the request body is not valid JSON"};
        return false;
    }

    const std::optional<JsonRefusal> &refusal() const { return refusal_; }

private:
    bool value() {
        if (++values_ <= bounds_.max_values) return true;
        refusal_ = JsonRefusal{depth_ >= 1 ? key_ : "", "the request body holds more than " +
                                                            std::to_string(bounds_.max_values) + " JSON values"};
        return false;
    }
    bool open() {
        if (!value()) return false;
        if (++depth_ <= bounds_.max_depth) return true;
        refusal_ = JsonRefusal{key_, "the request body nests JSON deeper than " + std::to_string(bounds_.max_depth) +
                                         " levels"};
        return false;
    }
    bool close() {
        if (--depth_ == 1) key_.clear();  // back at the top level: the next value has its own key
        return true;
    }

    const JsonBounds &bounds_;
    int depth_ = 0;
    size_t values_ = 0;
    std::string key_;
    std::optional<JsonRefusal> refusal_;
};

}  // namespace

std::variant<json, JsonRefusal> parse_bounded_json(std::string_view text, const JsonBounds &bounds) {
    // nlohmann skips a leading UTF-8 byte order mark; JSON exchanged between systems must
    // not carry one (RFC 8259 section 8.1), and a body a peer would read differently is refused.
    if (text.starts_with("\xEF\xBB\xBF"))
        return JsonRefusal{"", "the request body starts with a UTF-8 byte order mark, which JSON over HTTP must not"};
    BoundsChecker checker(bounds);
    bool complete = false;
    try {
        complete = json::sax_parse(text, &checker);
    } catch (const json::exception &) {
        // sax_parse reports through parse_error; nothing should be thrown, but a throw is a refusal.
    }
    if (checker.refusal()) return *checker.refusal();
    if (!complete) return JsonRefusal{"", "the request body is not valid JSON"};
    json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return JsonRefusal{"", "the request body is not valid JSON"};
    return parsed;
}

}  // namespace sdw
