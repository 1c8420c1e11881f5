#include "analysis/matrix_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace pbe {
namespace {

template <class T>
void add_unique(std::vector<T>& v, const T& x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

std::string percent(double v) { return std::isnan(v) ? "-" : fmt::format("{:.2f}", 100.0 * v); }

std::string cell_text(const MatrixRow* r) {
  if (!r) return "missing";
  if (r->status != Status::kDone) return to_string(r->status);
  return percent(r->acc) + " / " + percent(r->asr);
}

}  // namespace

std::string format_matrix_table(const std::vector<MatrixRow>& rows) {
  std::vector<std::pair<std::string, std::string>> blocks;
  for (const auto& r : rows) add_unique(blocks, {r.dataset, r.model});
  std::string out;
  for (const auto& [dataset, model] : blocks) {
    std::vector<std::pair<std::string, int>> lines;
    std::vector<std::string> defenses;
    std::map<std::tuple<std::string, int, std::string>, const MatrixRow*> at;
    for (const auto& r : rows) {
      if (r.dataset != dataset || r.model != model) continue;
      add_unique(lines, {r.attack, r.seed});
      add_unique(defenses, r.defense);
      at[{r.attack, r.seed, r.defense}] = &r;
    }
    std::vector<std::string> header{"attack", "seed"};
    header.insert(header.end(), defenses.begin(), defenses.end());
    std::vector<std::vector<std::string>> table{header};
    for (const auto& [attack, seed] : lines) {
      std::vector<std::string> line{attack, std::to_string(seed)};
      for (const auto& d : defenses) {
        auto it = at.find({attack, seed, d});
        line.push_back(cell_text(it == at.end() ? nullptr : it->second));
      }
      table.push_back(line);
    }
    std::vector<size_t> width(header.size(), 0);
    for (const auto& line : table)
      for (size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
    out += fmt::format("{} / {}: ACC / ASR (%) after each defense\n", dataset, model);
    for (size_t li = 0; li < table.size(); ++li) {
      std::string text;
      for (size_t i = 0; i < table[li].size(); ++i)
        text += (i ? " | " : "") + fmt::format("{:<{}}", table[li][i], width[i]);
      out += text + "\n";
      if (li == 0) {
        std::string rule;
        for (size_t i = 0; i < width.size(); ++i) rule += (i ? "-|-" : "") + std::string(width[i], '-');
        out += rule + "\n";
      }
    }
  }
  return out;
}

}  // namespace pbe
