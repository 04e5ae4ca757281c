#include "check_report.h"

#include <cstdio>

namespace sdw::plugin_check {
namespace {

void print(const char *verdict, const std::string &check, const std::string &detail) {
    if (detail.empty()) {
        std::printf("%s %s\n", verdict, check.c_str());
    } else {
        std::printf("%s %s: %s\n", verdict, check.c_str(), detail.c_str());
    }
    std::fflush(stdout);
}

}  // namespace

void CheckReport::pass(const std::string &check, const std::string &detail) {
    ++passes_;
    print("PASS", check, detail);
}
void CheckReport::fail(const std::string &check, const std::string &why) {
    ++failures_;
    print("FAIL", check, why);
}
void CheckReport::note(const std::string &check, const std::string &what) { print("NOTE", check, what); }
void CheckReport::skip(const std::string &check, const std::string &why) { print("SKIP", check, why); }

}  // namespace sdw::plugin_check
