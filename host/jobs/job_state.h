// The life cycle of a generation job: queued -> running -> one terminal state.
#pragma once

#include <string_view>

namespace sdw {

enum class JobState { queued, running, completed, failed, cancelled };

constexpr std::string_view to_string(JobState state) {
    switch (state) {
    case JobState::queued: return "queued";
    case JobState::running: return "running";
    case JobState::completed: return "completed";
    case JobState::failed: return "failed";
    case JobState::cancelled: return "cancelled";
    }
    return "unknown";
}

constexpr bool is_terminal(JobState state) {
    return state == JobState::completed || state == JobState::failed ||
           state == JobState::cancelled;
}

}  // namespace sdw
