#pragma once
// `pbe_dist report`: the paper's tables from a results file (docs/results-format.md).
#include <limits>
#include <string>
#include <vector>

namespace pbe {

// One table cell: a number (mean over seeds, its sample standard deviation with two or more
// seeds, in the table's units) or a word ("failed", "missing", "-" for a metric that does not
// apply). Never a number for a unit that did not finish.
struct ReportValue {
  std::string text;  // Set for words; empty for numbers.
  double mean = std::numeric_limits<double>::quiet_NaN();
  double std = std::numeric_limits<double>::quiet_NaN();  // NaN with one seed
  int decimals = 2;
};

struct ReportTable {
  std::string name;   // File stem for CSV: "matrix-fashion-mnist-small-cnn", "pbe-steps", "observation".
  std::string title;  // Caption.
  std::vector<std::string> header;
  std::vector<std::vector<ReportValue>> rows;
};

// The tables of a results file (a job may still be writing it; merged files too):
// - per dataset and model, the attack x defense matrix: each attack's ACC/ASR without defense,
//   then ACC, ASR and DER (%) after each defense, mean +- std over seeds;
// - PBE's per-step table (size, ACC, ASR, clean precision and recall of the selection), for each
//   cell and defense that recorded one;
// - the observation: adversarial examples on the target for the infected and the clean model,
//   feature distances to the triggered images, top-k neuron overlap.
// Throws StorageError for a file that is not results of a known schema version.
// `layout` (the spec's cells, when known) makes units that have not run yet appear as "missing"
// (a file a job is still writing); without it the rows of /matrix define the table.
struct ReportLayout {
  std::string dataset, model;
  std::vector<std::string> attacks, defenses;
  std::vector<int> seeds;
};
std::vector<ReportTable> report_tables(const std::string& path, const ReportLayout* layout = nullptr);

// All tables as Markdown (md) or LaTeX booktabs (tex), or one table as CSV (csv: a number's
// standard deviation in a column of its own, "<column> std").
std::string render_markdown(const std::vector<ReportTable>& tables);
std::string render_latex(const std::vector<ReportTable>& tables);
std::string render_csv(const ReportTable& table);

}  // namespace pbe
