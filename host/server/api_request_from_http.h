// A parsed Beast request as the ApiHandler sees it: the transport's one translation,
// used by the HTTP session and by the fuzz target that drives the handler without one.
#pragma once

#include "server/api_handler.h"

#include <boost/beast/http.hpp>

#include <string>
#include <utility>

namespace sdw {

// Copies the fields the handler reads and moves the body out of `request`.
inline ApiRequest api_request_from_http(boost::beast::http::request<boost::beast::http::string_body> &request) {
    namespace http = boost::beast::http;
    ApiRequest api;
    api.method = std::string(request.method_string());
    api.target = std::string(request.target());
    api.authorization = std::string(request[http::field::authorization]);
    api.api_key = std::string(request["X-API-Key"]);
    api.last_event_id = std::string(request["Last-Event-ID"]);
    api.origin = std::string(request[http::field::origin]);
    api.access_control_request_method = std::string(request[http::field::access_control_request_method]);
    api.content_type = std::string(request[http::field::content_type]);
    api.host = std::string(request[http::field::host]);
    api.body = std::move(request.body());
    return api;
}

}  // namespace sdw
