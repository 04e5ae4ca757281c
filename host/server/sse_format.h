// Server-Sent Events framing (WHATWG HTML, "Server-sent events"), as a browser's
// EventSource parses it: a field per line, a blank line ends the event.
#pragma once

#include "jobs/job_event_log.h"

#include <string>
#include <string_view>

namespace sdw {

// "id: <id>\nevent: <name>\ndata: <line>\n...\n\n". Data containing line breaks
// (\n, \r\n or \r) becomes one "data:" line per line, which EventSource joins back
// with "\n".
std::string format_sse_event(const JobEvent &event);
// A comment line, ignored by EventSource; keeps proxies and idle timers from closing
// a quiet stream.
std::string format_sse_comment(std::string_view text);
// The message that follows a job's terminal event: "data: [DONE]\n\n".
std::string format_sse_done();

}  // namespace sdw
