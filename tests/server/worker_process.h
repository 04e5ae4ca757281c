// One sd-worker child process for the tests that drive the real executable: its
// stdout and stderr go to a file in a fresh directory, which is also its working
// directory (so no config/default.json applies), and it is killed if a test ends
// while it still runs.
#pragma once

#include "http_test_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <cctype>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sdw::test {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

inline std::string read_file(const fs::path &path) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

// The port of the first "listening on http://<host>:<port>" line of `log`, or 0.
// (Plain string search: GCC 12's <regex> trips -Wmaybe-uninitialized under sanitizers.)
inline uint16_t port_in_log(const std::string &log) {
    const std::string marker = "listening on http://";
    const size_t at = log.find(marker);
    if (at == std::string::npos) return 0;
    size_t host = at + marker.size();
    if (host < log.size() && log[host] == '[') host = log.find(']', host);  // [::1]
    if (host == std::string::npos) return 0;
    const size_t colon = log.find(':', host);
    if (colon == std::string::npos) return 0;
    size_t end = colon + 1;
    while (end < log.size() && std::isdigit(static_cast<unsigned char>(log[end]))) ++end;
    if (end == colon + 1 || end == log.size()) return 0;  // digits not complete yet
    return static_cast<uint16_t>(std::stoi(log.substr(colon + 1, end - colon - 1)));
}

class WorkerProcess {
public:
    explicit WorkerProcess(std::vector<std::string> args) {
        static int counter = 0;
        dir_ = fs::temp_directory_path() /
               ("sdw-worker-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        fs::create_directories(dir_);
        log_path_ = dir_ / "worker.log";
        std::string exe = std::string(SDW_BINARY_DIR) + "/sd-worker";
        args.insert(args.begin(), exe);
        pid_ = ::fork();
        if (pid_ == 0) {
            if (::chdir(dir_.c_str()) != 0) ::_exit(126);
            int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            std::vector<char *> argv;
            for (auto &arg : args) argv.push_back(arg.data());
            argv.push_back(nullptr);
            ::execv(exe.c_str(), argv.data());
            ::_exit(127);
        }
    }

    ~WorkerProcess() {
        if (running()) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    const fs::path &dir() const { return dir_; }
    std::string log() const { return read_file(log_path_); }

    // The port from the "listening on http://host:port" log line.
    uint16_t wait_for_port(std::chrono::milliseconds timeout = 20s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline && running()) {
            if (uint16_t port = port_in_log(log())) return port;
            std::this_thread::sleep_for(10ms);
        }
        return 0;
    }

    // False as soon as the process exits (a model or plugin it cannot load).
    bool wait_ready(uint16_t port, std::chrono::milliseconds timeout = 20s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline && running()) {
            if (http_request(port, "GET", "/ready", "", {}, 1s).status == 200) return true;
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }

    void signal(int sig) { ::kill(pid_, sig); }

    bool running() {
        if (exited_) return false;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            exited_ = true;
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return false;
        }
        return true;
    }

    // The exit code, or -1 if the process is still running after `timeout`.
    int wait_exit(std::chrono::milliseconds timeout = 20s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (running() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(10ms);
        return exited_ ? exit_code_ : -1;
    }

private:
    fs::path dir_;
    fs::path log_path_;
    pid_t pid_ = -1;
    bool exited_ = false;
    int exit_code_ = -1;
};

}  // namespace sdw::test
