// `pbe_dist inspect` and `pbe_dist merge`: what a results file holds, and joining several.
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "analysis/report.h"
#include "core/errors.h"
#include "launcher/commands.h"
#include "launcher/plan.h"
#include "launcher/spec.h"
#include "storage/result_store.h"
#include "storage/storage_error.h"
#include "util/atomic_file.h"
#include "util/file_env.h"

namespace pbe {
namespace fs = std::filesystem;
namespace {

// A results file read back with the plan of the spec that started it.
struct ReadBack {
  StoredResults stored;
  ExperimentSpec spec;
  Plan plan;
};

// The spec stored in `path` as `text`, and its plan (cells and their order; no work estimates).
std::pair<ExperimentSpec, Plan> stored_plan(const std::string& path, const std::string& text) {
  if (text.empty()) throw StorageError(path + ": no /spec: not a pbe-dist results file");
  ExperimentSpec spec = parse_spec_text(text, path + ":/spec");
  Plan plan = make_plan(spec, 1, 2);
  return {std::move(spec), std::move(plan)};
}

ReadBack read_back(const std::string& path) {
  ReadBack r;
  r.stored = read_stored_results(path);  // StorageError for a file that is not results
  std::tie(r.spec, r.plan) = stored_plan(path, r.stored.spec_text);
  return r;
}

using UnitKey = std::pair<std::string, std::string>;  // cell group path, defense id

std::map<UnitKey, MatrixRow> rows_by_unit(const std::vector<MatrixRow>& rows) {
  std::map<UnitKey, MatrixRow> out;
  for (const auto& r : rows) out.emplace(UnitKey{CellKey{r.dataset, r.model, r.attack, r.seed}.group_path(), r.defense}, r);
  return out;
}

bool same_value(double a, double b) { return (std::isnan(a) && std::isnan(b)) || std::abs(a - b) <= 1e-4; }

// "" when one unit's two records agree (the same result computed twice), else how they differ.
std::string conflict(Status status_a, Status status_b, const std::vector<double>& a,
                     const std::vector<double>& b) {
  if (status_a != status_b) return "status " + to_string(status_a) + " vs " + to_string(status_b);
  for (size_t i = 0; i < a.size(); ++i)
    if (!same_value(a[i], b[i])) return "ACC/ASR/RA " + std::to_string(a[i]) + " vs " + std::to_string(b[i]);
  return "";
}
std::string conflict(const MatrixRow& a, const MatrixRow& b) {
  return conflict(a.status, b.status, {a.acc, a.asr, a.ra}, {b.acc, b.asr, b.ra});
}
std::string conflict(const StoredUnit& a, const StoredUnit& b) { return conflict(a.status, b.status, {a.acc, a.asr}, {b.acc, b.asr}); }

}  // namespace

int inspect_command(const World& world, const std::string& path) {
  if (world.rank() != 0) return 0;
  const ReadBack r = read_back(path);
  const auto rows = rows_by_unit(r.stored.rows);
  int done = 0, failed = 0, missing = 0;
  std::string lines;
  for (const Cell& cell : r.plan.cells) {
    const std::string group = cell.key.group_path();
    const auto attack = r.stored.attacks.find(group);
    lines += std::to_string(cell.index + 1) + " " + cell.key.attack + " seed " + std::to_string(cell.key.seed) +
             ": attack " + (attack == r.stored.attacks.end() ? "missing" : to_string(attack->second.status));
    if (attack != r.stored.attacks.end() && attack->second.status == Status::kFailed) lines += " (" + attack->second.error + ")";
    lines += "\n";
    for (const auto& d : r.spec.defenses) {
      const auto row = rows.find({group, d.id});
      std::string state = "missing";
      if (row != rows.end()) state = row->second.status == Status::kFailed ? "failed: " + row->second.error : to_string(row->second.status);
      (row == rows.end() ? missing : row->second.status == Status::kFailed ? failed : done) += 1;
      lines += "    " + d.id + ": " + state + "\n";
    }
  }
  std::cout << path << ": spec '" << r.spec.name << "', " << r.plan.cells.size() << " cells x " << r.spec.defenses.size()
            << " defenses: " << done << " done, " << failed << " failed, " << missing << " missing\n"
            << lines;
  return 0;
}

int merge_command(const World& world, const MergeOptions& o) {
  if (world.rank() != 0) return 0;
  // What the merged file takes from each input beyond the first (whose copy it starts from): whole
  // cells, and defenses of cells it has (unless the cell's copy brought them). Every conflict is
  // found here, before anything is written (exit 2).
  struct Copy {
    size_t input;
    std::string group;
    bool unless_present;
  };
  std::vector<Copy> copies;
  std::vector<MatrixRow> rows;
  std::vector<ReadBack> inputs;
  try {
    if (fs::exists(o.output) && !o.overwrite)
      throw StorageError(o.output + ": exists; pass --overwrite to replace it");
    for (const auto& path : o.inputs) {
      inputs.push_back(read_back(path));
      if (inputs.back().stored.spec_text != inputs.front().stored.spec_text)
        throw StorageError(path + ": another spec than " + o.inputs.front() + "'s (their /spec differ)");
    }
    auto have = rows_by_unit(inputs.front().stored.rows);
    auto cells = inputs.front().stored.attacks;
    rows = inputs.front().stored.rows;
    for (size_t i = 1; i < inputs.size(); ++i) {
      const StoredResults& s = inputs[i].stored;
      for (const auto& [group, unit] : s.attacks) {
        if (const auto it = cells.find(group); it == cells.end()) {
          copies.push_back({i, group, false});  // the whole cell: attack and defenses
          cells.emplace(group, unit);
        } else if (const std::string why = conflict(it->second, unit); !why.empty()) {
          // Another infected model: its defenses' records cannot be joined to this one's.
          throw StorageError(o.inputs[i] + ": conflicting duplicate of " + group + " attack: " + why);
        }
      }
      for (const auto& [key, row] : rows_by_unit(s.rows)) {
        const auto it = have.find(key);
        if (it == have.end()) {
          copies.push_back({i, key.first + "/defenses/" + key.second, true});  // absent: the attack failed
          have.emplace(key, row);
          rows.push_back(row);
        } else if (const std::string why = conflict(it->second, row); !why.empty()) {
          throw StorageError(o.inputs[i] + ": conflicting duplicate of " + key.first + " " + key.second + ": " + why);
        }
      }
    }
  } catch (const std::exception& e) {  // StorageError, a spec that no longer parses
    throw StorageError(std::string(e.what()) + "; nothing was written");
  }
  try {
    // The merged file is built in a temporary and replaces o.output whole (util/atomic_file.h).
    write_atomically(o.output, [&](const std::string& tmp) {
      file_env().copy_file(o.inputs.front(), tmp);
      ResultStore::open(tmp)->commit([&](ResultWriter& w) {
        for (const Copy& c : copies)
          if (!c.unless_present || !w.has_object(c.group)) w.copy_object(o.inputs[c.input], c.group);
        w.set_matrix(in_plan_order(rows, inputs.front().plan));
        w.write_merged_from(o.inputs);
      });
    }, "merging");
  } catch (const std::exception& e) {  // the file system under the output: a full disk (exit 1)
    throw StorageError(std::string(e.what()) + "; nothing was written", kExitRunFailure);
  }
  std::cout << o.output << ": " << read_matrix(o.output).size() << " results from " << o.inputs.size() << " files\n";
  return 0;
}

int report_command(const World& world, const ReportOptions& o) {
  if (world.rank() != 0) return 0;
  // The cells of the spec that started the file, so units not run yet show as missing.
  ReportLayout layout;
  bool have_layout = false;
  check_results_file(o.path);
  try {
    const auto [spec, plan] = stored_plan(o.path, read_spec_text(o.path));
    layout = {spec.dataset.name, spec.model, {}, plan.defenses, spec.seeds};
    for (const auto& a : spec.attacks) layout.attacks.push_back(a.id);
    have_layout = true;
  } catch (const ConfigError&) {  // a spec this pbe_dist no longer parses: /matrix alone
  } catch (const DataError&) {
  }
  const std::vector<ReportTable> tables = report_tables(o.path, have_layout ? &layout : nullptr);
  const auto write = [](const fs::path& file, const std::string& text) {
    std::ofstream out(file);
    out << text;
    if (!out) throw StorageError(file.string() + ": cannot write");
  };
  if (o.out.empty()) {
    if (o.format == "md") std::cout << render_markdown(tables);
    if (o.format == "tex") std::cout << render_latex(tables);
    if (o.format == "csv")
      for (const auto& t : tables) std::cout << "# " << t.name << "\n" << render_csv(t) << "\n";
  } else {
    std::error_code ec;
    fs::create_directories(o.out, ec);
    if (ec) throw StorageError(o.out + ": cannot create the report's directory: " + ec.message());
    if (o.format == "md") write(fs::path(o.out) / "report.md", render_markdown(tables));
    if (o.format == "tex") write(fs::path(o.out) / "report.tex", render_latex(tables));
    if (o.format == "csv")
      for (const auto& t : tables) write(fs::path(o.out) / (t.name + ".csv"), render_csv(t));
    std::cout << "report: " << tables.size() << " tables in " << o.out << "\n";
  }
  if (!o.figures) return 0;
  const fs::path dir = fs::path(o.out.empty() ? "report" : o.out) / "figures";
  const std::string script = std::string(PBE_SOURCE_DIR) + "/analysis/figures.py";
  const std::string command = std::string(PBE_PYTHON) + " '" + script + "' '" + o.path + "' '" + dir.string() + "'";
  const int status = std::system(command.c_str());
  if (status != 0)
    std::cerr << "pbe_dist: figures not drawn (" << script << " exited " << WEXITSTATUS(status)
              << "); the tables are complete" << std::endl;
  return 0;
}

}  // namespace pbe
