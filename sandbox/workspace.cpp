#include "sandbox/workspace.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace agentrt::sandbox {
namespace fs = std::filesystem;

namespace {
bool inside(const fs::path& root, const fs::path& p) {
  auto r = root.begin();
  auto q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (q == p.end() || *r != *q) return false;
  }
  return true;
}
}  // namespace

Workspace::Workspace(fs::path root, const Limits& limits) : limits_(limits) {
  std::error_code ec;
  fs::create_directories(root, ec);
  root_ = fs::canonical(root);
}

fs::path Workspace::resolve(std::string_view relative) const {
  if (relative.empty()) throw std::runtime_error("empty path");
  if (relative.find('\0') != std::string_view::npos) throw std::runtime_error("path contains a NUL byte");
  fs::path p{std::string(relative)};
  if (p.is_absolute()) {
    throw std::runtime_error("absolute path '" + std::string(relative) +
                             "' is not allowed; use a path relative to the workspace");
  }
  const fs::path normal = p.lexically_normal();
  if (!normal.empty() && *normal.begin() == "..") {
    throw std::runtime_error("path '" + std::string(relative) + "' leaves the workspace");
  }
  std::error_code ec;
  const fs::path full = fs::weakly_canonical(root_ / normal, ec);
  if (ec || !inside(root_, full)) {
    throw std::runtime_error("path '" + std::string(relative) + "' leaves the workspace");
  }
  return full;
}

std::string Workspace::read(std::string_view relative) const {
  const fs::path full = resolve(relative);
  std::error_code ec;
  if (!fs::is_regular_file(full, ec)) throw std::runtime_error("no such file: " + std::string(relative));
  const auto size = fs::file_size(full, ec);
  if (ec) throw std::runtime_error("cannot read " + std::string(relative));
  if (size > limits_.max_string_bytes) {
    throw std::runtime_error("file " + std::string(relative) + " is too large (" + std::to_string(size) +
                             " bytes; the limit is " + std::to_string(limits_.max_string_bytes) + ")");
  }
  std::ifstream in(full, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + std::string(relative));
  std::string data(size, '\0');
  in.read(data.data(), static_cast<std::streamsize>(size));
  data.resize(static_cast<std::size_t>(in.gcount()));
  return data;
}

void Workspace::write(std::string_view relative, std::string_view bytes, std::string summary) {
  const fs::path full = resolve(relative);
  if (bytes.size() > limits_.max_file_bytes) {
    throw std::runtime_error("file too large: " + std::to_string(bytes.size()) + " bytes (the limit is " +
                             std::to_string(limits_.max_file_bytes) + " bytes per file)");
  }
  if (total_written_ + bytes.size() > limits_.max_total_written_bytes) {
    throw std::runtime_error("the session has written too much (limit " +
                             std::to_string(limits_.max_total_written_bytes) + " bytes in all)");
  }
  std::error_code ec;
  const bool is_new = !fs::exists(full, ec);
  if (is_new && files_written_ >= limits_.max_files) {
    throw std::runtime_error("too many files (the limit is " + std::to_string(limits_.max_files) +
                             " per session)");
  }
  if (fs::is_directory(full, ec)) throw std::runtime_error(std::string(relative) + " is a folder");
  fs::create_directories(full.parent_path(), ec);
  std::ofstream out(full, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + std::string(relative));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out)
    throw std::runtime_error("writing " + std::string(relative) + " failed (disk full or file too large)");
  total_written_ += bytes.size();
  if (is_new) ++files_written_;
  const std::string rel = fs::relative(full, root_).generic_string();
  auto it =
      std::find_if(created_.begin(), created_.end(), [&](const CreatedFile& f) { return f.path == rel; });
  CreatedFile file{rel, mime_of(full), std::move(summary), bytes.size()};
  if (it == created_.end()) {
    created_.push_back(std::move(file));
  } else {
    *it = std::move(file);
  }
}

std::vector<Workspace::Entry> Workspace::list(std::string_view relative) const {
  const fs::path full = resolve(relative.empty() ? std::string_view(".") : relative);
  std::error_code ec;
  if (!fs::is_directory(full, ec)) throw std::runtime_error("no such folder: " + std::string(relative));
  std::vector<Entry> out;
  for (const auto& e : fs::directory_iterator(full, ec)) {
    Entry entry;
    entry.name = e.path().filename().string();
    entry.directory = e.is_directory(ec);
    entry.size = entry.directory ? 0 : e.file_size(ec);
    out.push_back(std::move(entry));
    if (out.size() >= 10000) break;
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return out;
}

bool Workspace::exists(std::string_view relative) const {
  std::error_code ec;
  return fs::exists(resolve(relative), ec);
}

std::string mime_of(const fs::path& path) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".svg", "image/svg+xml"}, {".png", "image/png"},
      {".csv", "text/csv"},      {".json", "application/json"},
      {".txt", "text/plain"},    {".md", "text/markdown"},
      {".html", "text/html"},    {".tsv", "text/tab-separated-values"}};
  const std::string ext = path.extension().string();
  for (const auto& [e, m] : kTypes) {
    if (ext == e) return m;
  }
  return "application/octet-stream";
}

}  // namespace agentrt::sandbox
