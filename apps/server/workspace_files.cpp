#include "apps/server/workspace_files.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace agentrt::server {

std::string safe_upload_name(const std::string& filename) {
  std::string base = filename;
  const auto slash = base.find_last_of("/\\");
  if (slash != std::string::npos) base = base.substr(slash + 1);
  std::string out;
  for (unsigned char c : base) {
    out += (std::isalnum(c) != 0 || c == '.' || c == '-' || c == '_') ? static_cast<char>(c) : '_';
  }
  const auto first = out.find_first_not_of('.');
  out = first == std::string::npos ? "" : out.substr(first);
  if (out.size() > 200) out = out.substr(out.size() - 200);
  return out;
}

std::optional<std::filesystem::path> resolve_in_workspace(const std::filesystem::path& workspace,
                                                          const std::string& relative) {
  namespace fs = std::filesystem;
  if (relative.empty() || relative.find('\0') != std::string::npos) return std::nullopt;
  const fs::path rel(relative);
  if (rel.is_absolute()) return std::nullopt;
  for (const auto& part : rel) {
    if (part == "..") return std::nullopt;
  }
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(workspace, ec);
  if (ec) return std::nullopt;
  const fs::path full = fs::weakly_canonical(root / rel, ec);
  if (ec) return std::nullopt;
  // Symbolic links are resolved by weakly_canonical: the result must still lie under the root.
  auto [r, f] = std::mismatch(root.begin(), root.end(), full.begin(), full.end());
  if (r != root.end()) return std::nullopt;
  return full;
}

Json list_workspace(const std::filesystem::path& workspace) {
  namespace fs = std::filesystem;
  Json files = Json::array();
  std::error_code ec;
  if (!fs::is_directory(workspace, ec)) return files;
  std::vector<std::pair<std::string, uintmax_t>> found;
  for (auto it =
           fs::recursive_directory_iterator(workspace, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) {
      found.emplace_back(fs::relative(it->path(), workspace, ec).generic_string(), it->file_size(ec));
    }
  }
  std::sort(found.begin(), found.end());
  for (const auto& [path, bytes] : found) {
    files.push_back(Json{{"path", path}, {"bytes", bytes}, {"mime", mime_type_of(path)}});
  }
  return files;
}

std::string mime_type_of(const std::filesystem::path& path) {
  static const std::map<std::string, std::string> kTypes = {{".svg", "image/svg+xml"},
                                                            {".png", "image/png"},
                                                            {".jpg", "image/jpeg"},
                                                            {".jpeg", "image/jpeg"},
                                                            {".gif", "image/gif"},
                                                            {".webp", "image/webp"},
                                                            {".csv", "text/csv; charset=utf-8"},
                                                            {".txt", "text/plain; charset=utf-8"},
                                                            {".md", "text/markdown; charset=utf-8"},
                                                            {".json", "application/json"},
                                                            {".html", "text/html; charset=utf-8"},
                                                            {".css", "text/css; charset=utf-8"},
                                                            {".js", "text/javascript; charset=utf-8"},
                                                            {".lua", "text/plain; charset=utf-8"},
                                                            {".pdf", "application/pdf"}};
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

}  // namespace agentrt::server
