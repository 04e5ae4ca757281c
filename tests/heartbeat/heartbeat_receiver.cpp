#include "heartbeat_receiver.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

namespace sdw::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HeartbeatReceiver::Impl : std::enable_shared_from_this<HeartbeatReceiver::Impl> {
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
    tcp::acceptor acceptor{io};
    uint16_t bound_port = 0;
    std::thread thread;

    mutable std::mutex mutex;
    mutable std::condition_variable changed;
    std::vector<ReceivedPost> received;
    size_t requests = 0;
    Mode mode = Mode::answer_ok;
    std::vector<std::shared_ptr<tcp::socket>> hanging;  // kept open, never answered
    std::vector<std::weak_ptr<tcp::socket>> all_sockets; // closed on destruction

    void listen(uint16_t port) {
        acceptor.open(tcp::v4());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind({asio::ip::make_address("127.0.0.1"), port});
        acceptor.listen();
        bound_port = acceptor.local_endpoint().port();
        accept();
    }

    void accept() {
        acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
            if (ec) return;  // closed
            auto shared = std::make_shared<tcp::socket>(std::move(socket));
            self->all_sockets.push_back(shared);
            self->serve(shared);
            self->accept();
        });
    }

    void serve(std::shared_ptr<tcp::socket> socket) {
        auto buffer = std::make_shared<beast::flat_buffer>();
        auto request = std::make_shared<http::request<http::string_body>>();
        http::async_read(*socket, *buffer, *request,
                         [self = shared_from_this(), socket, buffer, request](beast::error_code ec, size_t) {
                             if (ec) return;
                             Mode current;
                             {
                                 std::lock_guard lock(self->mutex);
                                 ++self->requests;
                                 current = self->mode;
                                 if (current != Mode::hang) {
                                     self->received.push_back(
                                         {nlohmann::json::parse(request->body(), nullptr, false),
                                          std::chrono::steady_clock::now()});
                                 }
                             }
                             self->changed.notify_all();
                             if (current == Mode::hang) {
                                 self->hanging.push_back(socket);
                                 return;
                             }
                             auto response = std::make_shared<http::response<http::string_body>>(
                                 current == Mode::answer_ok ? http::status::ok : http::status::internal_server_error, 11);
                             response->body() = "{}";
                             response->prepare_payload();
                             http::async_write(*socket, *response, [socket, response](beast::error_code, size_t) {
                                 beast::error_code ignored;
                                 socket->shutdown(tcp::socket::shutdown_both, ignored);
                             });
                         });
    }

    template <class F>
    void on_io_thread(F f) {
        std::promise<void> done;
        asio::post(io, [&] {
            f();
            done.set_value();
        });
        done.get_future().wait();
    }
};

HeartbeatReceiver::HeartbeatReceiver() : impl_(std::make_shared<Impl>()) {
    impl_->listen(0);
    impl_->thread = std::thread([impl = impl_] { impl->io.run(); });
}

HeartbeatReceiver::~HeartbeatReceiver() {
    impl_->on_io_thread([this] {
        beast::error_code ignored;
        impl_->acceptor.close(ignored);
        for (auto &weak : impl_->all_sockets)
            if (auto socket = weak.lock()) socket->close(ignored);
        impl_->hanging.clear();
    });
    // Every pending operation now completes with an error and releases its handler
    // (handlers hold the Impl alive), so run() returns by itself.
    impl_->work.reset();
    impl_->thread.join();
}

uint16_t HeartbeatReceiver::port() const { return impl_->bound_port; }

void HeartbeatReceiver::set_mode(Mode mode) {
    std::lock_guard lock(impl_->mutex);
    impl_->mode = mode;
}

void HeartbeatReceiver::close() {
    impl_->on_io_thread([this] {
        beast::error_code ignored;
        impl_->acceptor.close(ignored);
    });
}

void HeartbeatReceiver::reopen() {
    impl_->on_io_thread([this] { impl_->listen(impl_->bound_port); });
}

std::vector<ReceivedPost> HeartbeatReceiver::posts() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->received;
}

size_t HeartbeatReceiver::requests_seen() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->requests;
}

bool HeartbeatReceiver::wait_for(const std::function<bool(const std::vector<ReceivedPost> &)> &done,
                                 std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->mutex);
    return impl_->changed.wait_for(lock, timeout, [&] { return done(impl_->received) || false; }) ||
           done(impl_->received);
}

}  // namespace sdw::test
