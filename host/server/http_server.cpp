#include "server/http_server.h"

#include "log/log.h"
#include "server/api_request_from_http.h"
#include "server/sse_format.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <csignal>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>

namespace sdw {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr size_t kHeaderLimit = 16 * 1024;
constexpr std::chrono::seconds kLingerTimeout{2};
// Bodies from this size on are handled on the request pool, not on an I/O thread.
constexpr size_t kOffloadBodyBytes = 256 * 1024;

// What sessions share; outlives the io_context's handlers, which hold it.
struct ServerContext {
    ServerContext(ServerOptions o, JobQueue &queue, ServiceState &state)
        : options(with_body_limit(std::move(o))), handler(options.api, queue, state) {}
    static ServerOptions with_body_limit(ServerOptions o) {
        o.api.body_limit = o.body_limit;  // one setting, also reported by /v1/info
        return o;
    }
    const ServerOptions options;
    ApiHandler handler;
    // Job events are appended on worker threads and posted to stream strands; once
    // the io_context is stopping nothing may be posted to it any more.
    std::shared_mutex post_mutex;
    bool io_closed = false;
    // Sessions awaiting a synchronous route's job, which have no I/O pending to keep
    // them alive; emptied by HttpServer::stop() once the I/O threads are gone.
    std::mutex awaiting_mutex;
    std::map<const void *, std::shared_ptr<void>> awaiting;
    // Where large request bodies are decoded and validated (see kOffloadBodyBytes).
    net::thread_pool request_pool{2};
    std::shared_ptr<ConnectionLimiter> connections = std::make_shared<ConnectionLimiter>(options.connections);
};

using ContextPtr = std::shared_ptr<ServerContext>;

std::string server_header(const ServerContext &ctx) {
    return "sd-worker/" + ctx.options.api.server_version;
}

// A Server-Sent Events stream of one job's events; owns the connection after the
// HTTP session hands it over.
class SseSession : public std::enable_shared_from_this<SseSession> {
public:
    SseSession(beast::tcp_stream &&stream, ContextPtr ctx, ConnectionLimiter::SlotPtr slot, JobPtr job,
               uint64_t after_id, unsigned version,
               const std::vector<std::pair<std::string, std::string>> &headers)
        : stream_(std::move(stream)), timer_(stream_.get_executor()), ctx_(std::move(ctx)),
          slot_(std::move(slot)), job_(std::move(job)), last_sent_(after_id) {
        ctx_->handler.stream_opened(job_->id());
        header_.version(version);
        header_.result(http::status::ok);
        header_.set(http::field::server, server_header(*ctx_));
        header_.set(http::field::content_type, "text/event-stream; charset=utf-8");
        header_.set(http::field::cache_control, "no-cache");
        header_.set("X-Accel-Buffering", "no");  // keep reverse proxies from buffering events
        for (const auto &[name, value] : headers) header_.set(name, value);  // CORS
        // The body runs until the connection closes after the terminal event.
        header_.keep_alive(false);
    }

    ~SseSession() {
        if (token_) job_->events().unsubscribe(token_);
        ctx_->handler.stream_closed(job_->id());
    }

    void start() {
        // Subscribed at once, so no event appended while the header is written is missed;
        // pump() waits for the header.
        token_ = job_->events().subscribe(
            [weak = weak_from_this(), ctx = ctx_, executor = stream_.get_executor()] {
                std::shared_lock lock(ctx->post_mutex);
                if (ctx->io_closed) return;
                net::post(executor, [weak] {
                    if (auto self = weak.lock()) self->pump();
                });
            });
        serializer_.emplace(header_);
        stream_.expires_after(ctx_->options.request_timeout);
        http::async_write_header(stream_, *serializer_,
                                 beast::bind_front_handler(&SseSession::on_header, shared_from_this()));
    }

private:
    void on_header(beast::error_code ec, size_t) {
        if (ec) return close();
        stream_.expires_never();  // a stream may be quiet for long; writes set their own
        header_sent_ = true;
        arm_keepalive();
        pump();
    }

    // A batch of frames to write: owned text, and for each event whose data needs no
    // reframing, that data itself, shared with the log and every other subscriber (a
    // completed event's base64 images are not copied per stream).
    struct Piece {
        std::string text;
        JobEventPtr data_of;  // set: then event->data and "\n\n" follow `text`
    };

    void pump() {
        if (!header_sent_ || writing_ || closing_ || done_) return;
        auto events = job_->events().events_after(last_sent_);
        if (events.empty()) return;
        pieces_.clear();
        for (const auto &event : events) {
            if (auto head = format_sse_head(*event)) pieces_.push_back({std::move(*head), event});
            else pieces_.push_back({format_sse_event(*event), nullptr});
            last_sent_ = event->id;
            if (event->terminal) {
                pieces_.push_back({format_sse_done(), nullptr});
                closing_ = true;
                break;
            }
        }
        write();
    }

    void write() {
        static constexpr std::string_view kEnd = "\n\n";
        buffers_.clear();
        for (const Piece &piece : pieces_) {
            buffers_.push_back(net::buffer(piece.text));
            if (piece.data_of) {
                buffers_.push_back(net::buffer(piece.data_of->data));
                buffers_.push_back(net::buffer(kEnd.data(), kEnd.size()));
            }
        }
        writing_ = true;
        stream_.expires_after(ctx_->options.request_timeout);  // a reader that stalls is cut
        net::async_write(stream_, buffers_,
                         beast::bind_front_handler(&SseSession::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, size_t) {
        writing_ = false;
        if (ec) return close();
        stream_.expires_never();
        if (closing_) return close();
        pump();
    }

    void arm_keepalive() {
        timer_.expires_after(ctx_->options.sse_keepalive);
        timer_.async_wait(beast::bind_front_handler(&SseSession::on_keepalive, shared_from_this()));
    }

    void on_keepalive(beast::error_code ec) {
        if (ec || done_ || closing_) return;
        // Every stream ends once its job has: nothing left to send after the terminal
        // event means this stream cannot deliver it (it never should; this is the bound).
        if (!writing_ && job_->events().closed() && last_sent_ >= job_->events().last_id()) return close();
        if (!writing_) {
            pieces_.assign(1, Piece{format_sse_comment("keep-alive"), nullptr});
            write();
        }
        arm_keepalive();
    }

    void close() {
        if (done_) return;
        done_ = true;
        timer_.cancel();
        if (token_) job_->events().unsubscribe(token_);
        token_ = 0;
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    beast::tcp_stream stream_;
    net::steady_timer timer_;
    ContextPtr ctx_;
    ConnectionLimiter::SlotPtr slot_;  // the connection's, taken over from its HTTP session
    JobPtr job_;
    uint64_t last_sent_;
    uint64_t token_ = 0;
    http::response<http::empty_body> header_;
    std::optional<http::response_serializer<http::empty_body>> serializer_;
    std::vector<Piece> pieces_;
    std::vector<net::const_buffer> buffers_;
    bool header_sent_ = false;
    bool writing_ = false;
    bool closing_ = false;  // the terminal event is written or being written
    bool done_ = false;
};

// One HTTP/1.1 connection: reads requests, answers them in order.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    // `reserve_only`: a connection over the limits, answered only for /health and /ready.
    HttpSession(tcp::socket &&socket, ContextPtr ctx, ConnectionLimiter::SlotPtr slot, bool reserve_only)
        : stream_(std::move(socket)), ctx_(std::move(ctx)), slot_(std::move(slot)), reserve_only_(reserve_only) {}

    void run() {
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&HttpSession::do_read, shared_from_this()));
    }

private:
    struct Outgoing {
        std::shared_ptr<http::response<http::string_body>> response;
        JobPtr stream_job;  // set: hand the connection to an SseSession
        uint64_t stream_after_id = 0;
        std::vector<std::pair<std::string, std::string>> stream_headers;
        unsigned version = 11;
    };

    void do_read() {
        if (reading_ || no_more_reads_ || awaiting_) return;
        parser_.emplace();
        parser_->body_limit(ctx_->options.body_limit);
        parser_->header_limit(kHeaderLimit);
        // A connection that has been answered waits idle for its next request: it gets
        // the idle timeout (at least the time to receive a request) instead.
        stream_.expires_after(answered_ == 0 ? ctx_->options.request_timeout
                                             : std::max(ctx_->options.idle_timeout,
                                                        ctx_->options.request_timeout));
        reading_ = true;
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, size_t) {
        reading_ = false;
        if (ec == http::error::end_of_stream) {
            no_more_reads_ = true;
            if (queue_.empty()) do_close();
            return;
        }
        if (ec == http::error::body_limit) {
            return refuse(413, "body_too_large",
                          "the request body exceeds " + std::to_string(ctx_->options.body_limit) +
                              " bytes");
        }
        if (ec == http::error::header_limit)
            return refuse(431, "headers_too_large", "the request headers are too large");
        if (ec == beast::error::timeout || ec == net::error::operation_aborted) return;
        if (ec) {
            if (ec.category() == http::make_error_code(http::error::bad_method).category())
                return refuse(400, "bad_request", "malformed HTTP request: " + ec.message());
            return;  // connection reset and the like: nothing to answer
        }

        auto &req = parser_->get();
        ApiRequest api = api_request_from_http(req);
        bool keep_alive = req.keep_alive();
        unsigned version = req.version();

        if (reserve_only_) {
            // Over the connection limits: the probes are answered, the rest is told why.
            no_more_reads_ = true;
            const std::string path = api.target.substr(0, api.target.find('?'));
            const bool probe = (api.method == "GET" || api.method == "HEAD") && (path == "/health" || path == "/ready");
            if (!probe) {
                ApiResponse busy = ApiHandler::error_response(503, "too_many_connections",
                                                              "the server holds as many connections as it may");
                busy.headers.emplace_back("Retry-After", "1");
                return respond(std::move(busy), version, false);
            }
            return respond(handle(api), version, false);
        }
        if (api.body.size() >= kOffloadBodyBytes) {
            // Decoding a large body (JSON, base64, PNG) takes up to a second: that happens on
            // the request pool, so the I/O threads go on answering (/health included). Reads
            // pause until it is answered, which keeps the responses in order.
            awaiting_ = true;
            auto request = std::make_shared<ApiRequest>(std::move(api));
            net::post(ctx_->request_pool, [self = shared_from_this(), request, version, keep_alive] {
                auto response = std::make_shared<ApiResponse>(self->handle(*request));
                std::shared_lock lock(self->ctx_->post_mutex);
                if (self->ctx_->io_closed) return;
                auto executor = self->stream_.get_executor();
                net::post(executor, [self, response, version, keep_alive] {
                    self->awaiting_ = false;
                    self->respond(std::move(*response), version, keep_alive);
                });
            });
            return;
        }
        respond(handle(api), version, keep_alive);
    }

    ApiResponse handle(const ApiRequest &api) {
        ApiResponse response;
        try {
            response = ctx_->handler.handle(api);
        } catch (const std::exception &e) {
            log_error(std::string("request handler failed: ") + e.what());
            response = ApiHandler::error_response(500, "internal_error", e.what());
        }
        log_debug(api.method + " " + api.target + " -> " +
                  std::to_string(response.stream_job ? 200 : response.status));
        return response;
    }

    // Sends (or streams, or awaits) the answer to the request just handled.
    void respond(ApiResponse response, unsigned version, bool keep_alive) {
        if (response.await_job) {
            // The answer comes when the job ends. Nothing more is read meanwhile, so the
            // responses still leave in the order of their requests.
            awaiting_ = true;
            return await_job(std::move(response), version, keep_alive);
        }
        if (response.stream_job) {
            no_more_reads_ = true;
            enqueue({nullptr, std::move(response.stream_job), response.stream_after_id,
                     std::move(response.headers), version});
        } else {
            if (!keep_alive) no_more_reads_ = true;
            enqueue({make_response(std::move(response), version, keep_alive), nullptr, 0, {}, version});
        }
        if (queue_.size() < ctx_->options.max_pipelined) do_read();
    }

    // While a synchronous route's job runs no I/O is pending on this connection, so the
    // server context holds the session (HttpServer::stop() lets go of the rest); the
    // job's listener holds it and the job only weakly, so nothing keeps a job or a
    // session alive beyond its end.
    void await_job(ApiResponse pending, unsigned version, bool keep_alive) {
        JobPtr job = std::move(pending.await_job);
        {
            std::lock_guard lock(ctx_->awaiting_mutex);
            ctx_->awaiting[this] = shared_from_this();
        }
        auto finish = std::make_shared<std::function<ApiResponse(const JobPtr &)>>(
            std::move(pending.finish_awaited));
        auto posted = std::make_shared<std::atomic<bool>>(false);
        auto deliver = [weak = weak_from_this(), weak_job = std::weak_ptr<Job>(job), ctx = ctx_,
                        executor = stream_.get_executor(), finish, posted, version, keep_alive] {
            JobPtr ended = weak_job.lock();
            if (!ended || !ended->events().closed() || posted->exchange(true)) return;
            std::shared_lock lock(ctx->post_mutex);
            if (ctx->io_closed) return;
            net::post(executor, [weak, ended, finish, version, keep_alive] {
                if (auto self = weak.lock()) self->answer_awaited(ended, *finish, version, keep_alive);
            });
        };
        job->events().subscribe(deliver);
        deliver();  // the job may have ended before the subscription
    }

    void answer_awaited(const JobPtr &job, const std::function<ApiResponse(const JobPtr &)> &finish,
                        unsigned version, bool keep_alive) {
        ApiResponse response;
        try {
            response = finish ? finish(job) : ApiHandler::error_response(500, "internal_error", "no answer");
        } catch (const std::exception &e) {
            log_error(std::string("answering a synchronous request failed: ") + e.what());
            response = ApiHandler::error_response(500, "internal_error", e.what());
        }
        std::shared_ptr<void> keep_alive_while_answering;  // the context's hold on this session
        {
            std::lock_guard lock(ctx_->awaiting_mutex);
            auto held = ctx_->awaiting.find(this);
            if (held != ctx_->awaiting.end()) {
                keep_alive_while_answering = std::move(held->second);
                ctx_->awaiting.erase(held);
            }
        }
        awaiting_ = false;
        respond(std::move(response), version, keep_alive);
    }

    std::shared_ptr<http::response<http::string_body>> make_response(ApiResponse api,
                                                                     unsigned version,
                                                                     bool keep_alive) {
        auto res = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(api.status), version);
        res->set(http::field::server, server_header(*ctx_));
        if (!api.content_type.empty()) res->set(http::field::content_type, api.content_type);
        if (api.content_type == "application/json") res->set(http::field::cache_control, "no-store");
        for (auto &[name, value] : api.headers) res->set(name, value);
        res->keep_alive(keep_alive);
        if (api.head_only) {
            // The GET's length, no body (Beast sends none for an explicit length and an
            // empty body).
            res->content_length(api.body.size());
        } else {
            res->body() = std::move(api.body);
            res->prepare_payload();
        }
        return res;
    }

    // Answers a request that could not be read whole, then closes the connection.
    void refuse(int status, const std::string &code, const std::string &message) {
        no_more_reads_ = true;
        unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
        enqueue({make_response(ApiHandler::error_response(status, code, message), version, false),
                 nullptr, 0, {}, version});
    }

    void enqueue(Outgoing outgoing) {
        queue_.push_back(std::move(outgoing));
        if (queue_.size() == 1) do_write();
    }

    void do_write() {
        Outgoing &front = queue_.front();
        if (front.stream_job) {
            std::make_shared<SseSession>(std::move(stream_), ctx_, slot_, std::move(front.stream_job),
                                         front.stream_after_id, front.version, front.stream_headers)
                ->start();
            queue_.clear();
            return;
        }
        stream_.expires_after(ctx_->options.request_timeout);
        http::async_write(stream_, *front.response,
                          beast::bind_front_handler(&HttpSession::on_write, shared_from_this(),
                                                    front.response->need_eof()));
    }

    void on_write(bool close, beast::error_code ec, size_t) {
        if (ec) return;
        ++answered_;
        if (close) return do_close();
        queue_.pop_front();
        if (!queue_.empty()) return do_write();
        if (no_more_reads_) return do_close();
        do_read();
    }

    // Half-closes, then discards what the client still sends for a moment: closing a
    // socket with unread input makes the kernel send a RST, which can destroy a 413
    // the client has not read yet.
    void do_close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.expires_after(std::min<std::chrono::steady_clock::duration>(
            kLingerTimeout, ctx_->options.request_timeout));
        linger();
    }

    void linger() {
        stream_.async_read_some(net::buffer(scratch_), [self = shared_from_this()](
                                                           beast::error_code ec, size_t) {
            if (!ec) self->linger();
        });
    }

    beast::tcp_stream stream_;
    ContextPtr ctx_;
    ConnectionLimiter::SlotPtr slot_;
    const bool reserve_only_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::deque<Outgoing> queue_;
    bool reading_ = false;
    bool no_more_reads_ = false;
    bool awaiting_ = false;  // a synchronous route's job is running; reads pause
    uint64_t answered_ = 0;
    std::array<char, 4096> scratch_{};
};

class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(net::io_context &ioc, const tcp::endpoint &endpoint, ContextPtr ctx)
        : ioc_(ioc), acceptor_(net::make_strand(ioc)), retry_timer_(acceptor_.get_executor()), ctx_(std::move(ctx)) {
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(net::socket_base::max_listen_connections);
    }

    uint16_t port() const { return acceptor_.local_endpoint().port(); }

    void run() { do_accept(); }

    void close() {
        net::post(acceptor_.get_executor(), [self = shared_from_this()] {
            beast::error_code ignored;
            self->acceptor_.close(ignored);
            self->retry_timer_.cancel();
        });
    }

private:
    void do_accept() {
        acceptor_.async_accept(net::make_strand(ioc_),
                               beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
        if (ec) {
            // Out of descriptors (EMFILE) and the like: retrying at once would spin. Back off
            // 10 ms, doubling to 1 s; one warning per burst, one line when it is over.
            if (failures_++ == 0) log_warn("accept failed: " + ec.message() + "; backing off");
            auto delay = std::chrono::milliseconds(10) * (1 << std::min<uint64_t>(failures_ - 1, 7));
            retry_timer_.expires_after(std::min<std::chrono::milliseconds>(delay, std::chrono::seconds(1)));
            retry_timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
                if (!wait_ec && self->acceptor_.is_open()) self->do_accept();
            });
            return;
        }
        if (failures_ > 0) {
            log_info("accepting again after " + std::to_string(failures_) + " failed accept(s)");
            failures_ = 0;
        }
        beast::error_code address_ec;
        const auto remote = socket.remote_endpoint(address_ec);
        auto [admission, slot] = ctx_->connections->admit(address_ec ? std::string() : remote.address().to_string());
        if (admission == ConnectionLimiter::Admission::refused) {
            beast::error_code ignored;
            socket.close(ignored);  // over the limits and the reserve
        } else {
            std::make_shared<HttpSession>(std::move(socket), ctx_, std::move(slot),
                                          admission == ConnectionLimiter::Admission::reserve)
                ->run();
        }
        do_accept();
    }

    net::io_context &ioc_;
    tcp::acceptor acceptor_;
    net::steady_timer retry_timer_;
    uint64_t failures_ = 0;  // consecutive failed accepts
    ContextPtr ctx_;
};

}  // namespace

struct HttpServer::Impl {
    Impl(ServerOptions options, JobQueue &queue, ServiceState &state)
        : ctx(std::make_shared<ServerContext>(std::move(options), queue, state)),
          ioc(static_cast<int>(std::max(1u, ctx->options.io_threads))),
          signals(ioc) {}

    ContextPtr ctx;
    net::io_context ioc;
    net::signal_set signals;
    std::shared_ptr<Listener> listener;
    std::vector<std::thread> threads;
    int signals_seen = 0;
};

HttpServer::HttpServer(ServerOptions options, JobQueue &queue, ServiceState &state)
    : options_(options), queue_(queue), state_(state),
      impl_(std::make_shared<Impl>(std::move(options), queue, state)) {}

HttpServer::~HttpServer() {
    stop();
    if (drain_thread_.joinable()) drain_thread_.join();
}

uint16_t HttpServer::start() {
    try {
        auto address = net::ip::make_address(options_.host);
        impl_->listener = std::make_shared<Listener>(impl_->ioc, tcp::endpoint(address, options_.port),
                                                     impl_->ctx);
    } catch (const std::exception &e) {
        throw std::runtime_error("cannot listen on " + options_.host + ":" +
                                 std::to_string(options_.port) + ": " + e.what());
    }
    port_ = impl_->listener->port();
    impl_->listener->run();
    unsigned count = std::max(1u, options_.io_threads);
    for (unsigned i = 0; i < count; ++i) {
        impl_->threads.emplace_back([this] {
            for (;;) {
                try {
                    impl_->ioc.run();
                    return;
                } catch (const std::exception &e) {
                    log_error(std::string("I/O thread: unexpected exception: ") + e.what());
                }
            }
        });
    }
    log_info("listening on http://" + options_.host + ":" + std::to_string(port_));
    return port_;
}

void HttpServer::handle_signals() {
    impl_->signals.add(SIGINT);
    impl_->signals.add(SIGTERM);
    wait_for_signal();
}

void HttpServer::wait_for_signal() {
    impl_->signals.async_wait([this](const beast::error_code &ec, int signal) {
        if (ec) return;
        if (++impl_->signals_seen == 1) {
            log_info("signal " + std::to_string(signal) + ": draining");
            begin_drain();
        } else {
            log_warn("signal " + std::to_string(signal) +
                     " again: cancelling the running job now");
            queue_.cancel_running("the worker is shutting down");
        }
        wait_for_signal();
    });
}

void HttpServer::begin_drain() {
    std::lock_guard lock(stop_mutex_);
    if (draining_.exchange(true) || stopping_) return;
    state_.set_draining();
    queue_.begin_drain("the worker is shutting down");
    drain_thread_ = std::thread(&HttpServer::drain_worker, this);
}

void HttpServer::drain_worker() {
    if (!queue_.wait_idle(options_.drain_grace)) {
        log_warn("drain: grace period over, cancelling the running job");
        queue_.cancel_running("drain grace period expired");
        if (!queue_.wait_idle(options_.drain_grace))
            log_error("drain: a job ignored cancellation; stopping anyway");
    }
    auto deadline = std::chrono::steady_clock::now() + options_.stream_flush_timeout;
    while (open_streams() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log_info("drain: done");
    stop();
}

size_t HttpServer::open_connections() const { return impl_->ctx->connections->open(); }

size_t HttpServer::open_streams() const { return impl_->ctx->handler.open_streams(); }

void HttpServer::wait() {
    std::unique_lock lock(stop_mutex_);
    stopped_cv_.wait(lock, [this] { return stopped_; });
}

void HttpServer::stop() {
    {
        std::unique_lock lock(stop_mutex_);
        if (stopping_) {
            // Another thread (the drain) is stopping: return once it is done.
            stopped_cv_.wait(lock, [this] { return stopped_; });
            return;
        }
        stopping_ = true;
    }
    if (impl_->listener) impl_->listener->close();
    {
        std::unique_lock lock(impl_->ctx->post_mutex);
        impl_->ctx->io_closed = true;
    }
    impl_->ioc.stop();
    for (auto &thread : impl_->threads)
        if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) thread.join();
    impl_->ctx->request_pool.stop();  // requests not yet handled are dropped with their sessions
    impl_->ctx->request_pool.join();
    {
        // Sessions still awaiting a job go now, while the io_context they belong to exists.
        std::map<const void *, std::shared_ptr<void>> awaiting;
        {
            std::lock_guard lock(impl_->ctx->awaiting_mutex);
            awaiting.swap(impl_->ctx->awaiting);
        }
    }
    {
        std::lock_guard lock(stop_mutex_);
        stopped_ = true;
    }
    stopped_cv_.notify_all();
}

}  // namespace sdw
