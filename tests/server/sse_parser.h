// A client-side Server-Sent Events parser following the WHATWG algorithm that a
// browser's EventSource runs, so tests see the stream the way a browser would.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sdw::test {

struct SseEvent {
    std::string id;     // the last id seen ("" if none yet)
    std::string event;  // "message" when the event had no event: field
    std::string data;   // data: lines joined with "\n"
};

class SseParser {
public:
    // Feeds bytes in any chunking; returns the events completed by them.
    std::vector<SseEvent> feed(std::string_view bytes) {
        std::vector<SseEvent> out;
        for (char c : bytes) {
            if (pending_cr_) {
                pending_cr_ = false;
                if (c == '\n') continue;  // \r\n counted once
            }
            if (c == '\r' || c == '\n') {
                pending_cr_ = c == '\r';
                line(out);
                line_.clear();
            } else {
                line_.push_back(c);
            }
        }
        return out;
    }
    size_t comments() const { return comments_; }
    const std::string &last_event_id() const { return last_id_; }

private:
    void line(std::vector<SseEvent> &out) {
        if (line_.empty()) {  // dispatch
            if (has_data_) {
                out.push_back({last_id_, event_.empty() ? "message" : event_, data_});
            }
            data_.clear();
            event_.clear();
            has_data_ = false;
            return;
        }
        if (line_[0] == ':') {
            ++comments_;
            return;
        }
        size_t colon = line_.find(':');
        std::string field = line_.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line_.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        if (field == "data") {
            if (has_data_) data_.push_back('\n');
            data_ += value;
            has_data_ = true;
        } else if (field == "event") {
            event_ = value;
        } else if (field == "id") {
            if (value.find('\0') == std::string::npos) last_id_ = value;
        }
    }

    std::string line_;
    bool pending_cr_ = false;
    std::string data_;
    bool has_data_ = false;
    std::string event_;
    std::string last_id_;
    size_t comments_ = 0;
};

}  // namespace sdw::test
