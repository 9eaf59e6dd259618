#include "apps/server/api_error.h"

namespace agentrt::server {

Json error_body(const std::string& message, const std::string& type, const std::string& param,
                const std::string& code) {
  Json e{{"message", message}, {"type", type}};
  e["param"] = param.empty() ? Json(nullptr) : Json(param);
  e["code"] = code.empty() ? Json(nullptr) : Json(code);
  return Json{{"error", e}};
}

Json ApiError::body() const {
  return error_body(what(), type_, param_, code_);
}

ApiError bad_request(std::string message, std::string param, std::string code) {
  return ApiError(400, std::move(message), "invalid_request_error", std::move(param), std::move(code));
}
ApiError not_found(std::string message, std::string code) {
  return ApiError(404, std::move(message), "invalid_request_error", "", std::move(code));
}
ApiError unauthorized(std::string message) {
  return ApiError(401, std::move(message), "authentication_error", "", "invalid_api_key");
}
ApiError payload_too_large(std::string message) {
  return ApiError(413, std::move(message), "invalid_request_error", "", "payload_too_large");
}
ApiError conflict(std::string message) {
  return ApiError(409, std::move(message), "invalid_request_error", "", "conflict");
}

}  // namespace agentrt::server
