// One line per check: "PASS <check>", "FAIL <check>: <why>", "NOTE <check>: <what>",
// "SKIP <check>: <why>". Any FAIL makes the tool exit non-zero.
#pragma once

#include <string>

namespace sdw::plugin_check {

class CheckReport {
public:
    void pass(const std::string &check, const std::string &detail = "");
    void fail(const std::string &check, const std::string &why);
    void note(const std::string &check, const std::string &what);
    void skip(const std::string &check, const std::string &why);

    int failures() const noexcept { return failures_; }
    int passes() const noexcept { return passes_; }

private:
    int failures_ = 0;
    int passes_ = 0;
};

}  // namespace sdw::plugin_check
