#include "sse_parser.h"

#include "server/sse_format.h"

#include <gtest/gtest.h>

namespace sdw {
namespace {

TEST(SseFormat, FramesAnEventWithIdNameAndData) {
    EXPECT_EQ(format_sse_event({7, "progress", R"({"step":1})", false}),
              "id: 7\nevent: progress\ndata: {\"step\":1}\n\n");
}

TEST(SseFormat, SplitsMultiLineDataIntoSeveralDataLines) {
    EXPECT_EQ(format_sse_event({1, "x", "a\nb\r\nc\rd", false}),
              "id: 1\nevent: x\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
    EXPECT_EQ(format_sse_event({2, "x", "", false}), "id: 2\nevent: x\ndata: \n\n");
    EXPECT_EQ(format_sse_event({3, "x", "end\n", false}), "id: 3\nevent: x\ndata: end\ndata: \n\n");
}

TEST(SseFormat, TheHeadFramesSingleLineDataExactlyAsTheWholeEventDoes) {
    for (const JobEvent &event : {JobEvent{7, "progress", R"({"step":1})", false, false},
                                  JobEvent{8, "completed", "", true, false}, JobEvent{9, "", "x", false, false}}) {
        auto head = format_sse_head(event);
        ASSERT_TRUE(head) << event.name;
        EXPECT_EQ(*head + event.data + "\n\n", format_sse_event(event));
    }
    EXPECT_FALSE(format_sse_head({1, "x", "a\nb", false, false}));
    EXPECT_FALSE(format_sse_head({1, "x", "a\r", false, false}));
}

TEST(SseFormat, ABrowserParserRecoversTheOriginalEvent) {
    const std::string data = "line one\nline two\r\n\nline four";
    test::SseParser parser;
    auto events = parser.feed(format_sse_event({42, "completed", data, true}));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].id, "42");
    EXPECT_EQ(events[0].event, "completed");
    // EventSource joins data lines with \n: CR LF and lone CR come back as LF.
    EXPECT_EQ(events[0].data, "line one\nline two\n\nline four");
}

TEST(SseFormat, CommentsAndDoneAreWhatEventSourceExpects) {
    EXPECT_EQ(format_sse_comment("keep-alive"), ": keep-alive\n\n");
    EXPECT_EQ(format_sse_done(), "data: [DONE]\n\n");
    test::SseParser parser;
    auto events = parser.feed(format_sse_comment("keep-alive") + format_sse_done());
    EXPECT_EQ(parser.comments(), 1u);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].event, "message");
    EXPECT_EQ(events[0].data, "[DONE]");
}

TEST(SseFormat, ReplayAfterLastEventIdSendsOnlyLaterEvents) {
    JobEventLog log;
    log.append("queued", R"({"queue_position":1})");
    log.append("started", "{}");
    log.append("progress", R"({"step":1})");
    log.append("completed", "{}", true);
    std::string replay;
    for (const auto &event : log.events_after(2)) replay += format_sse_event(*event);
    test::SseParser parser;
    auto events = parser.feed(replay);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].id, "3");
    EXPECT_EQ(events[0].event, "progress");
    EXPECT_EQ(events[1].id, "4");
    EXPECT_EQ(events[1].event, "completed");
}

TEST(SseParserSelfCheck, HandlesArbitraryChunking) {
    std::string stream = format_sse_event({1, "a", "x\ny", false}) + format_sse_event({2, "b", "z", false});
    test::SseParser parser;
    std::vector<test::SseEvent> events;
    for (char c : stream) {
        auto got = parser.feed(std::string_view(&c, 1));
        events.insert(events.end(), got.begin(), got.end());
    }
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].data, "x\ny");
    EXPECT_EQ(events[1].id, "2");
}

}  // namespace
}  // namespace sdw
