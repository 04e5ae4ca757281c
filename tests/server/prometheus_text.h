// A strict reader of the Prometheus text exposition format 0.0.4, for tests: it
// refuses what a scraper would refuse (a sample before its family's # TYPE, a family
// split in two, a bad name, an unknown escape, a missing final newline), so a test
// that reads Metrics::render() through it also checks the format.
#pragma once

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sdw::test {

struct PromSample {
    std::string name;                          // e.g. "sdw_step_seconds_bucket"
    std::map<std::string, std::string> labels;  // unescaped values
    double value = 0;
};

struct PromFamily {
    std::string name;
    std::string type;  // counter, gauge, histogram, summary, untyped
    std::string help;  // unescaped
    std::vector<PromSample> samples;
};

struct PromText {
    std::vector<PromFamily> families;  // in order of appearance

    const PromFamily *family(std::string_view name) const {
        for (const auto &f : families)
            if (f.name == name) return &f;
        return nullptr;
    }
    // The value of the one sample named `name` with exactly these labels.
    std::optional<double> value(std::string_view name,
                                const std::map<std::string, std::string> &labels = {}) const {
        for (const auto &f : families)
            for (const auto &s : f.samples)
                if (s.name == name && s.labels == labels) return s.value;
        return std::nullopt;
    }
};

namespace prom_detail {

inline bool valid_name(std::string_view name) {
    if (name.empty()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

inline double parse_value(const std::string &text) {
    if (text == "+Inf") return INFINITY;
    if (text == "-Inf") return -INFINITY;
    if (text == "NaN") return NAN;
    char *end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') throw std::runtime_error("bad value: " + text);
    return v;
}

// The family a sample belongs to: histograms own name_bucket, name_sum, name_count.
inline std::string family_of(const std::string &sample, const std::map<std::string, std::string> &types) {
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
        if (sample.size() > suffix.size() && sample.ends_with(suffix)) {
            std::string base = sample.substr(0, sample.size() - suffix.size());
            auto it = types.find(base);
            if (it != types.end() && (it->second == "histogram" || it->second == "summary"))
                return base;
        }
    }
    return sample;
}

}  // namespace prom_detail

// Throws std::runtime_error naming the line at fault.
inline PromText parse_prometheus_text(std::string_view text) {
    using namespace prom_detail;
    if (text.empty() || text.back() != '\n') throw std::runtime_error("does not end in a newline");
    PromText out;
    std::map<std::string, std::string> types, helps;
    std::set<std::string> closed;  // families already left: seeing them again is an error
    std::string current;
    auto enter = [&](const std::string &family, const std::string &line) {
        if (family == current) return;
        if (closed.count(family)) throw std::runtime_error("family split in two: " + line);
        if (!current.empty()) closed.insert(current);
        current = family;
        out.families.push_back({family, types.count(family) ? types[family] : "untyped",
                                helps[family], {}});
    };
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        std::string line(text.substr(start, end - start));
        start = end + 1;
        if (line.empty()) continue;
        if (line.rfind("# ", 0) == 0) {
            std::string_view rest = std::string_view(line).substr(2);
            bool is_help = rest.rfind("HELP ", 0) == 0, is_type = rest.rfind("TYPE ", 0) == 0;
            if (!is_help && !is_type) continue;  // a comment
            rest.remove_prefix(5);
            size_t space = rest.find(' ');
            if (space == std::string_view::npos) throw std::runtime_error("bad line: " + line);
            std::string name(rest.substr(0, space));
            std::string arg(rest.substr(space + 1));
            if (!valid_name(name)) throw std::runtime_error("bad name: " + line);
            if (is_type) {
                static const std::set<std::string> known{"counter", "gauge", "histogram", "summary", "untyped"};
                if (!known.count(arg)) throw std::runtime_error("bad type: " + line);
                if (types.count(name)) throw std::runtime_error("second TYPE: " + line);
                bool has_samples = false;
                for (const auto &f : out.families) has_samples |= f.name == name;
                if (has_samples) throw std::runtime_error("TYPE after samples: " + line);
                types[name] = arg;
            } else {
                std::string help;
                for (size_t i = 0; i < arg.size(); ++i) {
                    if (arg[i] != '\\') { help += arg[i]; continue; }
                    if (++i == arg.size()) throw std::runtime_error("bad escape: " + line);
                    if (arg[i] == '\\') help += '\\';
                    else if (arg[i] == 'n') help += '\n';
                    else throw std::runtime_error("bad escape: " + line);
                }
                helps[name] = help;
            }
            continue;
        }
        PromSample sample;
        size_t i = 0;
        while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
        sample.name = line.substr(0, i);
        if (!valid_name(sample.name)) throw std::runtime_error("bad name: " + line);
        if (i < line.size() && line[i] == '{') {
            ++i;
            while (i < line.size() && line[i] != '}') {
                size_t eq = line.find('=', i);
                if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"')
                    throw std::runtime_error("bad label: " + line);
                std::string label = line.substr(i, eq - i);
                if (!valid_name(label)) throw std::runtime_error("bad label name: " + line);
                std::string value;
                i = eq + 2;
                for (;; ++i) {
                    if (i >= line.size()) throw std::runtime_error("unterminated label: " + line);
                    char c = line[i];
                    if (c == '"') break;
                    if (c != '\\') { value += c; continue; }
                    if (++i >= line.size()) throw std::runtime_error("bad escape: " + line);
                    if (line[i] == '\\') value += '\\';
                    else if (line[i] == '"') value += '"';
                    else if (line[i] == 'n') value += '\n';
                    else throw std::runtime_error("bad escape: " + line);
                }
                ++i;  // past the closing quote
                if (!sample.labels.emplace(label, value).second)
                    throw std::runtime_error("label twice: " + line);
                if (i < line.size() && line[i] == ',') ++i;
            }
            if (i >= line.size()) throw std::runtime_error("unterminated labels: " + line);
            ++i;  // past '}'
        }
        if (i >= line.size() || line[i] != ' ') throw std::runtime_error("no value: " + line);
        std::string value = line.substr(i + 1);
        if (value.find(' ') != std::string::npos)
            throw std::runtime_error("timestamps are not expected: " + line);
        sample.value = parse_value(value);
        std::string family = family_of(sample.name, types);
        if (!types.count(family)) throw std::runtime_error("sample before its TYPE: " + line);
        enter(family, line);
        out.families.back().samples.push_back(std::move(sample));
    }
    // Families with # HELP/# TYPE but no samples are still families.
    for (const auto &[name, type] : types) {
        bool seen = false;
        for (const auto &f : out.families) seen |= f.name == name;
        if (!seen) out.families.push_back({name, type, helps[name], {}});
    }
    return out;
}

// A histogram's buckets in order, as (le, cumulative count); checks the invariants
// (ascending le, non-decreasing counts, +Inf last and equal to _count) and throws
// std::runtime_error when one fails.
struct PromHistogram {
    std::vector<std::pair<double, double>> buckets;
    double sum = 0;
    double count = 0;
};

inline PromHistogram read_histogram(const PromText &text, const std::string &name) {
    const PromFamily *family = text.family(name);
    if (!family || family->type != "histogram") throw std::runtime_error("no histogram " + name);
    PromHistogram h;
    bool have_sum = false, have_count = false;
    for (const auto &s : family->samples) {
        if (s.name == name + "_bucket") {
            auto le = s.labels.find("le");
            if (le == s.labels.end() || s.labels.size() != 1) throw std::runtime_error("bucket labels");
            h.buckets.emplace_back(prom_detail::parse_value(le->second), s.value);
        } else if (s.name == name + "_sum") {
            h.sum = s.value;
            have_sum = true;
        } else if (s.name == name + "_count") {
            h.count = s.value;
            have_count = true;
        } else {
            throw std::runtime_error("stray sample " + s.name);
        }
    }
    if (!have_sum || !have_count || h.buckets.empty()) throw std::runtime_error("incomplete " + name);
    for (size_t i = 1; i < h.buckets.size(); ++i) {
        if (!(h.buckets[i].first > h.buckets[i - 1].first)) throw std::runtime_error("le not ascending");
        if (h.buckets[i].second < h.buckets[i - 1].second) throw std::runtime_error("not cumulative");
    }
    if (!std::isinf(h.buckets.back().first)) throw std::runtime_error("no +Inf bucket");
    if (h.buckets.back().second != h.count) throw std::runtime_error("+Inf bucket != _count");
    return h;
}

}  // namespace sdw::test
