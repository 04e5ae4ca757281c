// A cancel that the plugin notices inside a component call ends the generation the
// same way as one noticed between steps: with GenerationCancelled.
#include "pipeline/generator_factory.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace sdw {
namespace {

TEST(PipelineCancellation, StopInsidePluginCallIsGenerationCancelled) {
    GeneratorConfig config;
    config.plugin = std::string(SDW_PLUGIN_DIR) + "/libsdw_test_arith.so";
    // Each UNet call takes 5 s unless the plugin sees the cancel first.
    config.plugin_options_json = R"({"delay_ms": 5000})";
    config.model_path = std::string(SDW_TEST_FIXTURES) + "/models/tiny-sd";
    std::unique_ptr<Generator> generator = make_generator(config);

    GenerationRequest request;
    request.prompt = "a cat";
    request.steps = 3;
    std::atomic<bool> stop{false};
    GenerationCallbacks callbacks;
    callbacks.should_cancel = [&] { return stop.load(); };
    int steps_done = 0;
    callbacks.on_step = [&](int, int) { ++steps_done; };

    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        stop = true;
    });
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(generator->generate(request, callbacks), GenerationCancelled);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    canceller.join();
    EXPECT_EQ(steps_done, 0);
    EXPECT_LT(elapsed, std::chrono::milliseconds(4000)) << "the plugin call was not interrupted";
}

}  // namespace
}  // namespace sdw
