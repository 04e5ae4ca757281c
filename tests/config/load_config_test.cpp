#include "config/config_json.h"
#include "config/load_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace sdw {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kProjectRoot = fs::path(SDW_TEST_FIXTURES).parent_path().parent_path();

std::string host_name() {
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    return name;
}

// Each test runs in a fresh empty directory (load_config reads config/default.json
// relative to the current directory).
class LoadConfig : public ::testing::Test {
protected:
    void SetUp() override {
        original_cwd_ = fs::current_path();
        dir_ = fs::temp_directory_path() / ("sdw_config_test_" + std::to_string(::getpid()) + "_" +
                                            std::to_string(std::random_device{}()));
        fs::create_directories(dir_);
        fs::current_path(dir_);
    }
    void TearDown() override {
        fs::current_path(original_cwd_);
        fs::remove_all(dir_);
    }

    fs::path write(const std::string &relative, const std::string &text) {
        const fs::path path = dir_ / relative;
        fs::create_directories(path.parent_path());
        std::ofstream(path) << text;
        return path;
    }

    static Config loaded(const std::vector<std::string> &args) {
        LoadedConfig result = load_config(args);
        EXPECT_FALSE(result.should_exit()) << result.message;
        return result.config.value_or(Config{});
    }

    // The error text for `args`, checking the exit code.
    static std::string failure(const std::vector<std::string> &args) {
        LoadedConfig result = load_config(args);
        EXPECT_TRUE(result.should_exit());
        EXPECT_EQ(result.exit_code, kConfigExitCode) << result.message;
        return result.message;
    }

    fs::path original_cwd_;
    fs::path dir_;
};

TEST_F(LoadConfig, BuiltInDefaultsWithoutAFile) {
    const Config config = loaded({});
    Config expected;
    expected.model.path = (dir_ / "models/sd-shapes").string();
    expected.model.tokenizers = (dir_ / "models/tokenizers").string();
    expected.worker.id = host_name() + ":8080";
    EXPECT_EQ(config, expected);
    EXPECT_EQ(config.plugin.name, "cpu-blas");
    EXPECT_EQ(config.listen.host, "127.0.0.1");
    EXPECT_EQ(config.listen.port, 8080);
}

TEST_F(LoadConfig, ProjectDefaultFileServesSdShapesOnCpuBlasFromTheRoot) {
    // What `./build/sd-worker` sees when started from the project root with no flags.
    fs::current_path(kProjectRoot);
    const Config config = loaded({});
    Config expected;  // config/default.json must spell out exactly the built-in defaults
    expected.model.path = (kProjectRoot / "models/sd-shapes").lexically_normal().string();
    expected.model.tokenizers = (kProjectRoot / "models/tokenizers").lexically_normal().string();
    expected.worker.id = host_name() + ":8080";
    EXPECT_EQ(config, expected) << config_to_json(config).dump(2);
    EXPECT_TRUE(fs::is_directory(config.model.path)) << config.model.path;
    EXPECT_TRUE(fs::is_directory(fs::path(config.model.tokenizers) / "clip")) << config.model.tokenizers;

    // The same file from elsewhere means the same thing.
    fs::current_path(dir_);
    EXPECT_EQ(loaded({"--config", (kProjectRoot / "config/default.json").string()}), expected);
}

TEST_F(LoadConfig, ExampleConfigsLoad) {
    const Config cpu = loaded({"--config", (kProjectRoot / "config/cpu-blas.json").string()});
    EXPECT_EQ(cpu.plugin.name, "cpu-blas");
    EXPECT_TRUE(fs::is_directory(cpu.model.path)) << cpu.model.path;
    EXPECT_EQ(cpu.orchestrator.callback_url, "http://127.0.0.1:9000/workers/heartbeat");

    const Config arith = loaded({"--config", (kProjectRoot / "config/test-arith.json").string()});
    EXPECT_EQ(arith.plugin.name, "test-arith");
    EXPECT_EQ(arith.listen.port, 0);
    EXPECT_TRUE(fs::is_directory(arith.model.path)) << arith.model.path;

    for (const char *plugin : {"torch", "vulkan"}) {
        const Config c = loaded({"--config", (kProjectRoot / "config" / (std::string(plugin) + ".json")).string()});
        EXPECT_EQ(c.plugin.name, plugin);
        EXPECT_TRUE(fs::is_directory(c.model.path)) << c.model.path;
    }
}

TEST_F(LoadConfig, ParsesEveryKeyAndResolvesPathsAgainstTheFile) {
    write("etc/worker.json", R"({
      // comments are allowed
      "listen": {"host": "0.0.0.0", "port": 0},
      "plugin": {"name": "../plugins/libcustom.so", "options": {"threads": 2, "nested": {"a": [1]}},
                 "search_paths": ["plug", "/opt/sdw"]},
      "model": {"path": "../models/m.safetensors", "tokenizers": "tok", "prediction_type": "epsilon"},
      "worker": {"id": "w-7"},
      "orchestrator": {"callback_url": "http://orch:9000/beat", "heartbeat_interval_s": 0.25},
      "queue": {"capacity": 3, "workers": 2},
      "results": {"retention_s": 0, "max_jobs": 5, "max_bytes": 1000},
      "limits": {"max_pixel_steps": 4096},
      "auth": {"api_keys": ["k1", "k2"]},
      "output": {"dir": "out"},
      "log": {"level": "debug"},
      "http": {"body_limit_bytes": 1024, "read_timeout_s": 1.5, "keepalive_s": 2,
               "cors_origins": ["https://app.example", "*"], "allowed_hosts": ["sd.example"]},
      "metrics": {"public": true},
      /* trailing block comment */
      "drain": {"grace_s": 0}
    })");
    const Config c = loaded({"--config", "etc/worker.json"});
    EXPECT_EQ(c.listen.host, "0.0.0.0");
    EXPECT_EQ(c.listen.port, 0);
    EXPECT_EQ(c.plugin.name, (dir_ / "plugins/libcustom.so").string());
    EXPECT_EQ(c.plugin.options, json::parse(R"({"threads": 2, "nested": {"a": [1]}})"));
    EXPECT_EQ(c.plugin.search_paths, (std::vector<std::string>{(dir_ / "etc/plug").string(), "/opt/sdw"}));
    EXPECT_EQ(c.model.path, (dir_ / "models/m.safetensors").string());
    EXPECT_EQ(c.model.tokenizers, (dir_ / "etc/tok").string());
    EXPECT_EQ(c.model.prediction_type, "epsilon");
    EXPECT_EQ(c.worker.id, "w-7");
    EXPECT_EQ(c.orchestrator.callback_url, "http://orch:9000/beat");
    EXPECT_EQ(c.orchestrator.heartbeat_interval_s, 0.25);
    EXPECT_EQ(c.queue.capacity, 3);
    EXPECT_EQ(c.queue.workers, 2);
    EXPECT_EQ(c.results.retention_s, 0.0);
    EXPECT_EQ(c.results.max_jobs, 5);
    EXPECT_EQ(c.results.max_bytes, 1000);
    EXPECT_EQ(c.limits.max_pixel_steps, 4096);
    EXPECT_EQ(c.auth.api_keys, (std::vector<std::string>{"k1", "k2"}));
    EXPECT_EQ(c.output.dir, (dir_ / "etc/out").string());
    EXPECT_EQ(c.log.level, "debug");
    EXPECT_EQ(c.http.body_limit_bytes, 1024);
    EXPECT_EQ(c.http.read_timeout_s, 1.5);
    EXPECT_EQ(c.http.keepalive_s, 2.0);
    EXPECT_EQ(c.http.cors_origins, (std::vector<std::string>{"https://app.example", "*"}));
    EXPECT_EQ(c.http.allowed_hosts, (std::vector<std::string>{"sd.example"}));
    EXPECT_TRUE(c.metrics.public_access);
    EXPECT_EQ(c.drain.grace_s, 0.0);
}

TEST_F(LoadConfig, PartialFileKeepsOtherDefaults) {
    write("config/default.json", R"({"queue": {"capacity": 99}})");
    const Config c = loaded({});
    EXPECT_EQ(c.queue.capacity, 99);
    EXPECT_EQ(c.queue.workers, Config{}.queue.workers);
    EXPECT_EQ(c.listen.port, 8080);
    EXPECT_EQ(c.plugin.name, "cpu-blas");
}

TEST_F(LoadConfig, FlagsOverrideTheFile) {
    write("etc/w.json", R"({"listen": {"port": 9000, "host": "10.0.0.1"}, "auth": {"api_keys": ["file-key"]},
                            "model": {"path": "m"}, "log": {"level": "warn"}})");
    const Config c = loaded({"--config", "etc/w.json", "--port", "9100", "--api-key", "a", "--api-key=b",
                             "--model", "flag-model", "--plugin", "/abs/libp.so", "--worker-id", "wid",
                             "--callback-url", "http://o:1/x", "--heartbeat-interval", "0.05",
                             "--queue-capacity", "7", "--queue-workers", "3", "--output-dir", "o",
                             "--log-level", "error", "--host", "::", "--plugin-options", R"({"x": 1})",
                             "--plugin-search-path", "s1", "--plugin-search-path", "s2",
                             "--cors-origin", "http://a:1", "--allowed-host", "h1", "--allowed-host", "h2",
                             "--prediction-type", "v_prediction"});
    EXPECT_EQ(c.model.prediction_type, "v_prediction");
    EXPECT_EQ(c.http.cors_origins, (std::vector<std::string>{"http://a:1"}));
    EXPECT_EQ(c.http.allowed_hosts, (std::vector<std::string>{"h1", "h2"}));
    EXPECT_EQ(c.listen.port, 9100);
    EXPECT_EQ(c.listen.host, "::");
    EXPECT_EQ(c.auth.api_keys, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(c.model.path, (dir_ / "flag-model").string());  // flags: relative to the CWD
    EXPECT_EQ(c.plugin.name, "/abs/libp.so");
    EXPECT_EQ(c.plugin.options, json::parse(R"({"x": 1})"));
    EXPECT_EQ(c.plugin.search_paths, (std::vector<std::string>{(dir_ / "s1").string(), (dir_ / "s2").string()}));
    EXPECT_EQ(c.worker.id, "wid");
    EXPECT_EQ(c.orchestrator.callback_url, "http://o:1/x");
    EXPECT_EQ(c.orchestrator.heartbeat_interval_s, 0.05);
    EXPECT_EQ(c.queue.capacity, 7);
    EXPECT_EQ(c.queue.workers, 3);
    EXPECT_EQ(c.output.dir, (dir_ / "o").string());
    EXPECT_EQ(c.log.level, "error");
}

TEST_F(LoadConfig, WorkerIdDefaultsToHostAndPort) {
    EXPECT_EQ(loaded({"--port", "1234"}).worker.id, host_name() + ":1234");
}

TEST_F(LoadConfig, FileErrorsNameTheKeyPath) {
    const std::pair<std::string, std::string> cases[] = {
        {R"({"queue": {"capacity": -3}})", "conf.json: queue.capacity: expected a positive integer, got -3"},
        {R"({"queu": {}})", "conf.json: queu: unknown key (known keys here: listen, plugin,"},
        {R"({"queue": {"capasity": 1}})", "conf.json: queue.capasity: unknown key (known keys here: capacity, workers)"},
        {R"({"listen": {"port": "8080"}})", "conf.json: listen.port: expected an integer in 0..65535, got \"8080\""},
        {R"({"listen": {"port": 65536}})", "conf.json: listen.port: expected an integer in 0..65535, got 65536"},
        {R"({"listen": {"port": -1}})", "conf.json: listen.port: expected an integer in 0..65535, got -1"},
        {R"({"queue": {"workers": 2.5}})", "conf.json: queue.workers: expected an integer in 1..256, got 2.5"},
        {R"({"results": {"max_jobs": 18446744073709551615}})", "conf.json: results.max_jobs: expected a positive integer"},
        {R"({"log": {"level": "verbose"}})", "conf.json: log.level: expected one of debug, info, warn, error, got \"verbose\""},
        {R"({"log": "info"})", "conf.json: log: expected an object, got \"info\""},
        {R"({"orchestrator": {"callback_url": "https://o/x"}})", "conf.json: orchestrator.callback_url: https is not supported"},
        {R"({"orchestrator": {"heartbeat_interval_s": 0}})", "conf.json: orchestrator.heartbeat_interval_s: expected a number > 0, got 0"},
        {R"({"limits": {"max_pixel_steps": 0}})", "conf.json: limits.max_pixel_steps: expected a positive integer, got 0"},
        {R"({"limits": {"max_pixels": 1}})", "conf.json: limits.max_pixels: unknown key (known keys here: max_pixel_steps)"},
        {R"({"results": {"retention_s": -1}})", "conf.json: results.retention_s: expected a number >= 0, got -1"},
        {R"({"plugin": {"options": []}})", "conf.json: plugin.options: expected an object, got an array"},
        {R"({"plugin": {"name": ""}})", "conf.json: plugin.name: expected a non-empty string, got \"\""},
        {R"({"auth": {"api_keys": ["ok", 5]}})", "conf.json: auth.api_keys[1]: expected a non-empty string, got 5"},
        {R"({"http": {"body_limit_bytes": 0}})", "conf.json: http.body_limit_bytes: expected a positive integer, got 0"},
        {R"({"http": {"cors_origins": ["http://a/path"]}})", "conf.json: http.cors_origins[0]: expected \"*\" or an origin"},
        {R"({"http": {"allowed_hosts": ["sd.example:8080"]}})",
         "conf.json: http.allowed_hosts[0]: expected a host name such as sd.example.com (no scheme, port or path), got \"sd.example:8080\""},
        {R"({"drain": {"grace_s": true}})", "conf.json: drain.grace_s: expected a number >= 0, got true"},
        {R"({"model": {"prediction_type": "v"}})",
         "conf.json: model.prediction_type: expected \"epsilon\" or \"v_prediction\", got \"v\""},
        {R"({"model": {"tokenizers": ""}})", "conf.json: model.tokenizers: expected a non-empty string, got \"\""},
        {R"([1, 2])", "conf.json: expected an object, got an array"},
        {R"({"queue": {"capacity": 1e400}})", "conf.json: invalid JSON: a number is beyond the range of a double"},
        {"{\n  \"listen\": {\"port\": 1,}\n}", "conf.json: invalid JSON: parse error at line 2, column"},
    };
    for (const auto &[text, expected] : cases) {
        write("conf.json", text);
        const std::string message = failure({"--config", "conf.json"});
        EXPECT_EQ(message.rfind(expected, 0), 0u) << "got: " << message << "want: " << expected;
    }
}

TEST_F(LoadConfig, FlagErrorsNameTheFlagAndKey) {
    EXPECT_EQ(failure({"--port", "abc"}), "--port: listen.port: expected an integer in 0..65535, got \"abc\"\n");
    EXPECT_EQ(failure({"--port", "70000"}), "--port: listen.port: expected an integer in 0..65535, got 70000\n");
    EXPECT_EQ(failure({"--queue-capacity", "0"}), "--queue-capacity: queue.capacity: expected a positive integer, got 0\n");
    EXPECT_EQ(failure({"--heartbeat-interval", "soon"}),
              "--heartbeat-interval: orchestrator.heartbeat_interval_s: expected a number > 0, got \"soon\"\n");
    EXPECT_EQ(failure({"--log-level", "loud"}),
              "--log-level: log.level: expected one of debug, info, warn, error, got \"loud\"\n");
    EXPECT_NE(failure({"--callback-url", "https://x/"}).find("--callback-url: orchestrator.callback_url: https"),
              std::string::npos);
    EXPECT_NE(failure({"--plugin-options", "[1]"}).find("--plugin-options: plugin.options: expected an object"),
              std::string::npos);
    EXPECT_EQ(failure({"--config", "missing.json"}), "--config: no such config file: missing.json\n");
}

TEST_F(LoadConfig, CommandLineMistakesAreUsageErrors) {
    EXPECT_NE(failure({"--no-such-flag"}).find("unrecognised option '--no-such-flag'"), std::string::npos);
    EXPECT_NE(failure({"--mod", "x"}).find("--mod"), std::string::npos);  // no abbreviations
    EXPECT_NE(failure({"stray"}).find("stray"), std::string::npos);
    EXPECT_NE(failure({"--port"}).find("--port"), std::string::npos);
    EXPECT_NE(failure({"--port", "1", "--port", "2"}).find("more than once"), std::string::npos);
}

TEST_F(LoadConfig, BadFileStopsEvenWithValidFlags) {
    write("config/default.json", R"({"queue": {"capacity": -3}})");
    EXPECT_EQ(failure({"--port", "1"}), "config/default.json: queue.capacity: expected a positive integer, got -3\n");
}

TEST_F(LoadConfig, HelpListsEveryFlag) {
    const LoadedConfig result = load_config(std::vector<std::string>{"--help"});
    ASSERT_TRUE(result.should_exit());
    EXPECT_EQ(result.exit_code, 0);
    for (const char *flag : {"--config", "--port", "--host", "--plugin", "--model", "--worker-id", "--callback-url",
                             "--heartbeat-interval", "--queue-capacity", "--api-key", "--output-dir",
                             "--log-level", "--print-config", "--help"})
        EXPECT_NE(result.message.find(flag), std::string::npos) << flag;
}

TEST_F(LoadConfig, PrintConfigRoundTrips) {
    write("etc/w.json", R"({"plugin": {"options": {"k": [1, 2]}, "search_paths": ["p"]}, "model": {"path": "m"},
                            "auth": {"api_keys": ["x"]}, "orchestrator": {"heartbeat_interval_s": 0.1}})");
    const std::vector<std::string> args = {"--config", "etc/w.json", "--port", "81", "--output-dir", "out"};
    const Config direct = loaded(args);

    std::vector<std::string> print_args = args;
    print_args.push_back("--print-config");
    const LoadedConfig printed = load_config(print_args);
    ASSERT_TRUE(printed.should_exit());
    EXPECT_EQ(printed.exit_code, 0);
    const json document = json::parse(printed.message);
    EXPECT_EQ(document, config_to_json(direct));

    // Saved anywhere and loaded again, it is the same configuration.
    write("elsewhere/deep/printed.json", printed.message);
    EXPECT_EQ(loaded({"--config", "elsewhere/deep/printed.json"}), direct);
}

TEST(ConfigJson, MergeFailureLeavesTheConfigUntouched) {
    Config config;
    EXPECT_THROW(merge_config_text(config, R"({"listen": {"port": 1}, "queue": {"capacity": 0}})", "x", {}),
                 std::runtime_error);
    EXPECT_EQ(config, Config{});
}

}  // namespace
}  // namespace sdw
