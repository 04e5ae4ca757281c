// A configuration value that cannot be used, located precisely enough to fix it.
#pragma once

#include <stdexcept>
#include <string>

namespace sdw {

class ConfigError : public std::runtime_error {
public:
    // `source`: the file or flag the value came from; `key_path`: e.g. "queue.capacity"
    // (empty for whole-document problems such as invalid JSON).
    ConfigError(std::string source, std::string key_path, std::string problem)
        : std::runtime_error(format(source, key_path, problem)),
          source_(std::move(source)), key_path_(std::move(key_path)), problem_(std::move(problem)) {}

    const std::string &source() const { return source_; }
    const std::string &key_path() const { return key_path_; }
    const std::string &problem() const { return problem_; }

private:
    static std::string format(const std::string &source, const std::string &key_path, const std::string &problem) {
        std::string text = source;
        if (!key_path.empty()) text += (text.empty() ? "" : ": ") + key_path;
        return text + (text.empty() ? "" : ": ") + problem;
    }

    std::string source_;
    std::string key_path_;
    std::string problem_;
};

}  // namespace sdw
