// Files in a session's workspace as the server exposes them: safe names for uploads, paths that cannot leave
// the workspace, listings, and media types.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/schema.h"

namespace agentrt::server {

// The name an uploaded file is stored under: its last path component, with characters other than letters,
// digits, '.', '-' and '_' replaced by '_' and leading dots removed. Empty when nothing is left.
std::string safe_upload_name(const std::string& filename);

// `relative` resolved inside `workspace`, or nullopt when it is absolute, climbs out ("..") or reaches
// outside through a symbolic link.
std::optional<std::filesystem::path> resolve_in_workspace(const std::filesystem::path& workspace,
                                                          const std::string& relative);

// Every regular file under the workspace: [{"path", "bytes", "mime"}], sorted by path.
Json list_workspace(const std::filesystem::path& workspace);

// The media type for a file name's extension ("application/octet-stream" when unknown).
std::string mime_type_of(const std::filesystem::path& path);

}  // namespace agentrt::server
