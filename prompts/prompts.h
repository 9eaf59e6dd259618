// prompts: the InternLM2 protocol's system prompts and templates, kept as data files in this folder and
// compiled into the binary as resources (cmake/embed_files.cmake), so the program needs no files at run time.
// It owns nothing but the lookup of those texts by relative path; it includes only the standard library, and
// every other library may include it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace agentrt::prompts {

// The text of the file `path` (relative to prompts/, e.g. "system/plugin.en.txt"), less the one newline that
// ends a .txt file; throws std::out_of_range naming the path when there is no such file.
std::string_view get(std::string_view path);

// Whether a file of that path was compiled in.
bool has(std::string_view path);

// Every embedded path, sorted.
std::vector<std::string> list();

}  // namespace agentrt::prompts
