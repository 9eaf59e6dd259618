// Errors a request can end in, as OpenAI clients expect them: an HTTP status and the body
// {"error": {"message", "type", "param", "code"}}. Handlers throw ApiError; the server's exception handler
// turns it (and any other exception, as a 500) into that body, so no request ends without a clear answer.
#pragma once

#include <stdexcept>
#include <string>

#include "agent/schema.h"

namespace agentrt::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string type, std::string param = "", std::string code = "")
      : std::runtime_error(message),
        status_(status),
        type_(std::move(type)),
        param_(std::move(param)),
        code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }
  Json body() const;

 private:
  int status_;
  std::string type_;
  std::string param_;
  std::string code_;
};

// The common classes of client error.
ApiError bad_request(std::string message, std::string param = "", std::string code = "");
ApiError not_found(std::string message, std::string code = "not_found");
ApiError unauthorized(std::string message);
ApiError payload_too_large(std::string message);
ApiError conflict(std::string message);

// {"error": {...}} for any message; param/code null when empty (as OpenAI sends them).
Json error_body(const std::string& message, const std::string& type, const std::string& param = "",
                const std::string& code = "");

}  // namespace agentrt::server
