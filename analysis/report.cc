#include "analysis/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "storage/records.h"
#include "storage/result_store.h"

namespace pbe {
namespace {

template <class T>
void add_unique(std::vector<T>& v, const T& x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

ReportValue word(const std::string& text) { return ReportValue{text}; }

ReportValue number(double v, int decimals = 2) {
  ReportValue r;
  if (std::isnan(v)) return word("-");
  r.mean = v;
  r.decimals = decimals;
  return r;
}

// Mean and sample standard deviation of `values` (NaN std for one value).
ReportValue mean_std(const std::vector<double>& values, int decimals = 2) {
  ReportValue r = number(0, decimals);
  double sum = 0;
  for (double v : values) sum += v;
  r.mean = sum / static_cast<double>(values.size());
  if (values.size() > 1) {
    double sq = 0;
    for (double v : values) sq += (v - r.mean) * (v - r.mean);
    r.std = std::sqrt(sq / static_cast<double>(values.size() - 1));
  }
  return r;
}

using RowKey = std::tuple<std::string, int, std::string>;  // attack, seed, defense

// One metric of (attack, defense) over `seeds`: a word when a seed's unit is missing or failed,
// "-" when the metric does not apply (ASR of the clean row), else mean +- std in percent.
ReportValue over_seeds(const std::map<RowKey, const MatrixRow*>& rows, const std::string& attack,
                       const std::vector<int>& seeds, const std::string& defense, double MatrixRow::*metric) {
  std::vector<double> values;
  bool failed = false;
  for (int seed : seeds) {
    const auto it = rows.find({attack, seed, defense});
    if (it == rows.end()) return word("missing");
    if (it->second->status != Status::kDone) failed = true;
    else values.push_back(100.0 * (it->second->*metric));
  }
  if (failed) return word("failed");
  if (std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); })) return word("-");
  return mean_std(values);
}

std::vector<ReportTable> matrix_tables(const std::vector<MatrixRow>& all, const ReportLayout* layout) {
  std::vector<std::pair<std::string, std::string>> blocks;
  if (layout) blocks.emplace_back(layout->dataset, layout->model);
  for (const auto& r : all) add_unique(blocks, {r.dataset, r.model});
  std::vector<ReportTable> out;
  for (const auto& [dataset, model] : blocks) {
    std::vector<std::string> attacks, defenses;
    std::set<int> seed_set;
    if (layout && layout->dataset == dataset && layout->model == model) {
      attacks = layout->attacks;
      defenses = layout->defenses;
      seed_set.insert(layout->seeds.begin(), layout->seeds.end());
    }
    std::map<RowKey, const MatrixRow*> rows;
    for (const auto& r : all) {
      if (r.dataset != dataset || r.model != model) continue;
      add_unique(attacks, r.attack);
      add_unique(defenses, r.defense);
      seed_set.insert(r.seed);
      rows[{r.attack, r.seed, r.defense}] = &r;
    }
    const std::vector<int> seeds(seed_set.begin(), seed_set.end());
    ReportTable t;
    t.name = "matrix-" + dataset + "-" + model;
    t.title = fmt::format("{} / {}: ACC, ASR and DER (%) after each defense, mean +- std over {} seed(s)", dataset,
                          model, seeds.size());
    t.header = {"Attack"};
    const bool undefended = std::find(defenses.begin(), defenses.end(), "none") != defenses.end();
    if (undefended) t.header.insert(t.header.end(), {"No defense ACC", "No defense ASR"});
    for (const auto& d : defenses)
      if (d != "none") t.header.insert(t.header.end(), {d + " ACC", d + " ASR", d + " DER"});
    for (const auto& a : attacks) {
      std::vector<ReportValue> row{word(a)};
      if (undefended) {
        row.push_back(over_seeds(rows, a, seeds, "none", &MatrixRow::acc));
        row.push_back(over_seeds(rows, a, seeds, "none", &MatrixRow::asr));
      }
      for (const auto& d : defenses) {
        if (d == "none") continue;
        row.push_back(over_seeds(rows, a, seeds, d, &MatrixRow::acc));
        row.push_back(over_seeds(rows, a, seeds, d, &MatrixRow::asr));
        row.push_back(over_seeds(rows, a, seeds, d, &MatrixRow::der));
      }
      t.rows.push_back(std::move(row));
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<double> column(const Columns& columns, const std::string& name) {
  for (const auto& [n, v] : columns)
    if (n == name) return v;
  return {};
}

ReportTable pbe_steps_table(const std::string& path, const std::vector<MatrixRow>& all) {
  ReportTable t;
  t.name = "pbe-steps";
  t.title = "PBE per step: training-set size kept, ACC and ASR (%), clean precision and recall of the selection (%), "
            "mean filter score after the step of the poisoned and the clean training rows";
  t.header = {"Attack", "Seed", "Defense", "Step", "Size", "ACC", "ASR", "Precision", "Recall", "Score poisoned",
              "Score clean"};
  for (const auto& r : all) {
    if (r.status != Status::kDone) continue;
    const std::string cell = CellKey{r.dataset, r.model, r.attack, r.seed}.group_path();
    const Columns steps = read_columns(path, cell + "/defenses/" + r.defense + "/steps");
    const auto precision = column(steps, "clean_precision");
    if (precision.empty()) continue;  // not a data-selecting defense (PBE)
    const auto step = column(steps, "step"), size = column(steps, "size"), acc = column(steps, "acc"),
               asr = column(steps, "asr"), recall = column(steps, "clean_recall");
    const Columns scores = read_columns(path, cell + "/defenses/" + r.defense + "/rows");
    const auto mask = column(read_columns(path, cell + "/attack"), "poison_mask");
    for (size_t i = 0; i < precision.size(); ++i) {
      const auto at = [&](const std::vector<double>& v, double scale, int decimals) {
        return i < v.size() ? number(scale * v[i], decimals) : word("-");
      };
      // Mean score of the rows with mask == poisoned; "-" after the last step (no score) or
      // when the file has no scores or no such rows.
      const auto score = column(scores, "score_step" + std::to_string(i));
      const auto mean_score = [&](bool poisoned) {
        if (score.size() != mask.size()) return word("-");
        double sum = 0;
        int64_t n = 0;
        for (size_t j = 0; j < score.size(); ++j)
          if ((mask[j] != 0) == poisoned) sum += score[j], ++n;
        return n > 0 ? number(sum / n, 3) : word("-");
      };
      t.rows.push_back({word(r.attack), word(std::to_string(r.seed)), word(r.defense), at(step, 1, 0), at(size, 1, 0),
                        at(acc, 100, 2), at(asr, 100, 2), at(precision, 100, 2), at(recall, 100, 2),
                        mean_score(true), mean_score(false)});
    }
  }
  return t;
}

double value(const NamedValues& values, const std::string& name) {
  for (const auto& [n, v] : values)
    if (n == name) return v;
  return std::nan("");
}

ReportTable observation_table(const std::string& path, const std::vector<MatrixRow>& all) {
  ReportTable t;
  t.name = "observation";
  t.title = "The observation: adversarial examples landing on the target (%), for the infected and the clean model; "
            "infected model's feature distance to the triggered images; top-k neuron overlap with them";
  t.header = {"Attack", "Seed", "On target infected", "On target clean", "Distance adversarial", "Distance clean",
              "Overlap adversarial", "Overlap clean"};
  std::vector<CellKey> cells;
  for (const auto& r : all) {
    CellKey k{r.dataset, r.model, r.attack, r.seed};
    if (std::none_of(cells.begin(), cells.end(), [&](const CellKey& c) { return c.group_path() == k.group_path(); }))
      cells.push_back(k);
  }
  for (const auto& k : cells) {
    const NamedValues infected = read_values(path, k.group_path() + "/attack/probes/infected");
    if (infected.empty()) continue;
    const NamedValues clean = read_values(path, k.group_path() + "/attack/probes/clean");
    t.rows.push_back({word(k.attack), word(std::to_string(k.seed)), number(100 * value(infected, "target_fraction")),
                      number(100 * value(clean, "target_fraction")), number(value(infected, "adversarial_to_triggered")),
                      number(value(infected, "clean_to_triggered")), number(value(infected, "adversarial_overlap"), 3),
                      number(value(infected, "clean_overlap"), 3)});
  }
  return t;
}

std::string plain(const ReportValue& v) { return v.text.empty() ? fmt::format("{:.{}f}", v.mean, v.decimals) : v.text; }
std::string plain_std(const ReportValue& v) {
  return v.text.empty() && !std::isnan(v.std) ? fmt::format("{:.{}f}", v.std, v.decimals) : "";
}
// `escape` applies to the words and numbers, not to the separator `pm` (LaTeX's $\pm$).
std::string with_std(const ReportValue& v, const std::string& pm, std::string (*escape)(const std::string&)) {
  const std::string s = plain_std(v);
  return s.empty() ? escape(plain(v)) : escape(plain(v)) + pm + escape(s);
}

std::string markdown_escape(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string latex_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\textbackslash{}"; break;
      case '~': out += "\\textasciitilde{}"; break;
      case '^': out += "\\textasciicircum{}"; break;
      case '_': case '%': case '&': case '#': case '$': case '{': case '}': out += '\\'; out += c; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::vector<ReportTable> report_tables(const std::string& path, const ReportLayout* layout) {
  check_results_file(path);
  const std::vector<MatrixRow> rows = read_matrix(path);
  std::vector<ReportTable> out = matrix_tables(rows, layout);
  for (auto t : {pbe_steps_table(path, rows), observation_table(path, rows)})
    if (!t.rows.empty()) out.push_back(std::move(t));
  return out;
}

std::string render_markdown(const std::vector<ReportTable>& tables) {
  std::string out;
  for (const auto& t : tables) {
    out += "### " + t.title + "\n\n|";
    for (const auto& h : t.header) out += " " + markdown_escape(h) + " |";
    out += "\n|";
    for (size_t i = 0; i < t.header.size(); ++i) out += i == 0 ? "---|" : "---:|";
    out += "\n";
    for (const auto& row : t.rows) {
      out += "|";
      for (const auto& v : row) out += " " + with_std(v, " ± ", markdown_escape) + " |";
      out += "\n";
    }
    out += "\n";
  }
  return out;
}

std::string render_latex(const std::vector<ReportTable>& tables) {
  std::string out;
  for (const auto& t : tables) {
    out += "\\begin{table}[t]\n\\centering\n\\caption{" + latex_escape(t.title) + "}\n\\begin{tabular}{l" +
           std::string(t.header.size() - 1, 'r') + "}\n\\toprule\n";
    for (size_t i = 0; i < t.header.size(); ++i) out += (i ? " & " : "") + latex_escape(t.header[i]);
    out += " \\\\\n\\midrule\n";
    for (const auto& row : t.rows) {
      for (size_t i = 0; i < row.size(); ++i) out += (i ? " & " : "") + with_std(row[i], " $\\pm$ ", latex_escape);
      out += " \\\\\n";
    }
    out += "\\bottomrule\n\\end{tabular}\n\\end{table}\n\n";
  }
  return out;
}

std::string render_csv(const ReportTable& t) {
  const auto quoted = [](const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  };
  // Columns holding a number somewhere get a "<name> std" column beside them.
  std::vector<bool> numeric(t.header.size(), false);
  for (const auto& row : t.rows)
    for (size_t i = 0; i < row.size(); ++i) numeric[i] = numeric[i] || !std::isnan(row[i].std);
  std::string out;
  for (size_t i = 0; i < t.header.size(); ++i) {
    out += (i ? "," : "") + quoted(t.header[i]);
    if (numeric[i]) out += "," + quoted(t.header[i] + " std");
  }
  out += "\n";
  for (const auto& row : t.rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += (i ? "," : "") + quoted(plain(row[i]));
      if (numeric[i]) out += "," + plain_std(row[i]);
    }
    out += "\n";
  }
  return out;
}

}  // namespace pbe
