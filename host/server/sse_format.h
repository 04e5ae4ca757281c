// Server-Sent Events framing (WHATWG HTML, "Server-sent events"), as a browser's
// EventSource parses it: a field per line, a blank line ends the event.
#pragma once

#include "jobs/job_event_log.h"

#include <optional>
#include <string>
#include <string_view>

namespace sdw {

// "id: <id>\nevent: <name>\ndata: <line>\n...\n\n". Data containing line breaks
// (\n, \r\n or \r) becomes one "data:" line per line, which EventSource joins back
// with "\n".
std::string format_sse_event(const JobEvent &event);
// For data without line breaks (every JSON the jobs write): the frame is
// format_sse_head(event) + event.data + "\n\n", so a stream can send the event's own
// data (shared by every subscriber) instead of a copy. nullopt when data has breaks.
std::optional<std::string> format_sse_head(const JobEvent &event);
// A comment line, ignored by EventSource; keeps proxies and idle timers from closing
// a quiet stream.
std::string format_sse_comment(std::string_view text);
// The message that follows a job's terminal event: "data: [DONE]\n\n".
std::string format_sse_done();

}  // namespace sdw
