#pragma once
// "a, b, c": names joined for messages and help texts ("known: ...").
#include <string>
#include <vector>

namespace pbe {

inline std::string join(const std::vector<std::string>& names, const std::string& separator = ", ") {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : separator) + n;
  return out;
}

}  // namespace pbe
