// `pbe_dist report`'s tables from a hand-built results file with known numbers: two seeds (mean
// and sample std), a failed and a missing unit (words, never numbers), PBE's steps and the
// observation probes, in Markdown, CSV and LaTeX; a file of another schema version is refused.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "analysis/report.h"
#include "storage/h5.h"
#include "storage/result_store.h"
#include "storage/storage_error.h"
#include "tests/temp_dir_test.h"

using namespace pbe;

namespace {

class ReportTest : public pbe::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    path_ = (dir_ / "r.h5").string();
    auto store = ResultStore::create(path_, false, "name: t\n", Provenance{});
    const double nan = std::nan("");
    // attack, seed, defense, status, acc, asr, der
    const std::vector<std::tuple<std::string, int, std::string, std::string, double, double, double>> rows{
        {"none", 0, "none", "done", 0.90, nan, 0.5},     {"none", 0, "ft", "done", 0.88, nan, 0.5},
        {"none", 0, "pbe", "done", 0.89, nan, 0.5},      {"none", 1, "none", "done", 0.92, nan, 0.5},
        {"none", 1, "ft", "done", 0.90, nan, 0.5},       // none seed 1 pbe: missing
        {"badnets", 0, "none", "done", 0.90, 1.0, 0.5},  {"badnets", 0, "ft", "done", 0.88, 0.5, 0.74},
        {"badnets", 0, "pbe", "done", 0.89, 0.02, 0.98}, {"badnets", 1, "none", "done", 0.90, 0.98, 0.5},
        {"badnets", 1, "ft", "done", 0.86, 0.3, 0.83},   {"badnets", 1, "pbe", "failed", nan, nan, nan}};
    for (const auto& [attack, seed, defense, status, acc, asr, der] : rows) {
      MatrixRow r;
      r.dataset = "fmnist";
      r.model = "cnn";
      r.attack = attack;
      r.seed = seed;
      r.defense = defense;
      r.status = status == "failed" ? Status::kFailed : Status::kDone;
      r.error = status == "failed" ? "loss is nan" : "";
      r.acc = acc;
      r.asr = asr;
      r.der = der;
      const CellKey key{"fmnist", "cnn", attack, seed};
      store->commit([&](ResultWriter& w) {
        DefenseRecord d;
        if (attack == "badnets" && seed == 0 && defense == "pbe")
          d.steps = {{"step", {0, 1}}, {"size", {100, 200}}, {"acc", {0.85, 0.89}}, {"asr", {0.5, 0.02}},
                     {"clean_precision", {0.9, 0.95}}, {"clean_recall", {0.1, 0.2}}};
        if (attack == "badnets" && seed == 0 && defense == "pbe") d.rows = {{"score_step0", {0.2, 0.9, 0.4, 0.8}}};
        w.write_defense(key, defense, d);
        w.append_matrix_row(r);
      });
    }
    AttackRecord a;
    a.poison_mask = {1, 0, 1, 0};
    a.probes = {{"infected", {{"target_fraction", 0.6}, {"adversarial_to_triggered", 1.5}, {"clean_to_triggered", 3.0},
                              {"adversarial_overlap", 0.5}, {"clean_overlap", 0.2}}, {1, 0, 0, 1}, 2, {}, {}, {}},
                {"clean", {{"target_fraction", 0.1}}, {1, 0, 0, 1}, 2, {}, {}, {}}};
    store->commit([&](ResultWriter& w) { w.write_attack({"fmnist", "cnn", "badnets", 0}, a); });
  }
  std::string path_;
};

TEST_F(ReportTest, MarkdownTables) {
  EXPECT_EQ(render_markdown(report_tables(path_)),
            "### fmnist / cnn: ACC, ASR and DER (%) after each defense, mean +- std over 2 seed(s)\n\n"
            "| Attack | No defense ACC | No defense ASR | ft ACC | ft ASR | ft DER | pbe ACC | pbe ASR | pbe DER |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
            "| none | 91.00 ± 1.41 | - | 89.00 ± 1.41 | - | 50.00 ± 0.00 | missing | missing | missing |\n"
            "| badnets | 90.00 ± 0.00 | 99.00 ± 1.41 | 87.00 ± 1.41 | 40.00 ± 14.14 | 78.50 ± 6.36 | failed | failed | failed |\n"
            "\n"
            "### PBE per step: training-set size kept, ACC and ASR (%), clean precision and recall of the selection (%), "
            "mean filter score after the step of the poisoned and the clean training rows\n\n"
            "| Attack | Seed | Defense | Step | Size | ACC | ASR | Precision | Recall | Score poisoned | Score clean |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
            "| badnets | 0 | pbe | 0 | 100 | 85.00 | 50.00 | 90.00 | 10.00 | 0.300 | 0.850 |\n"
            "| badnets | 0 | pbe | 1 | 200 | 89.00 | 2.00 | 95.00 | 20.00 | - | - |\n"
            "\n"
            "### The observation: adversarial examples landing on the target (%), for the infected and the clean model; "
            "infected model's feature distance to the triggered images; top-k neuron overlap with them\n\n"
            "| Attack | Seed | On target infected | On target clean | Distance adversarial | Distance clean | "
            "Overlap adversarial | Overlap clean |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|\n"
            "| badnets | 0 | 60.00 | 10.00 | 1.50 | 3.00 | 0.500 | 0.200 |\n"
            "\n");
}

TEST_F(ReportTest, CsvPutsTheStdBesideEachNumber) {
  const auto tables = report_tables(path_);
  ASSERT_EQ(tables.size(), 3u);
  EXPECT_EQ(tables[0].name, "matrix-fmnist-cnn");
  EXPECT_EQ(render_csv(tables[0]),
            "Attack,No defense ACC,No defense ACC std,No defense ASR,No defense ASR std,ft ACC,ft ACC std,ft ASR,"
            "ft ASR std,ft DER,ft DER std,pbe ACC,pbe ASR,pbe DER\n"
            "none,91.00,1.41,-,,89.00,1.41,-,,50.00,0.00,missing,missing,missing\n"
            "badnets,90.00,0.00,99.00,1.41,87.00,1.41,40.00,14.14,78.50,6.36,failed,failed,failed\n");
  const std::string steps = render_csv(tables[1]);
  EXPECT_EQ(steps.substr(0, steps.find('\n', steps.find('\n') + 1) + 1),
            "Attack,Seed,Defense,Step,Size,ACC,ASR,Precision,Recall,Score poisoned,Score clean\n"
            "badnets,0,pbe,0,100,85.00,50.00,90.00,10.00,0.300,0.850\n");
}

TEST_F(ReportTest, LatexBooktabs) {
  const auto tables = report_tables(path_);
  const std::string tex = render_latex({tables[0]});
  EXPECT_EQ(tex,
            "\\begin{table}[t]\n\\centering\n"
            "\\caption{fmnist / cnn: ACC, ASR and DER (\\%) after each defense, mean +- std over 2 seed(s)}\n"
            "\\begin{tabular}{lrrrrrrrr}\n\\toprule\n"
            "Attack & No defense ACC & No defense ASR & ft ACC & ft ASR & ft DER & pbe ACC & pbe ASR & pbe DER \\\\\n"
            "\\midrule\n"
            "none & 91.00 $\\pm$ 1.41 & - & 89.00 $\\pm$ 1.41 & - & 50.00 $\\pm$ 0.00 & missing & missing & missing \\\\\n"
            "badnets & 90.00 $\\pm$ 0.00 & 99.00 $\\pm$ 1.41 & 87.00 $\\pm$ 1.41 & 40.00 $\\pm$ 14.14 & 78.50 $\\pm$ 6.36 & "
            "failed & failed & failed \\\\\n"
            "\\bottomrule\n\\end{tabular}\n\\end{table}\n\n");
}

// analysis/figures.py on the same file: every figure it can draw from it is a non-empty PNG and PDF.
TEST_F(ReportTest, FiguresScriptDrawsFromTheFile) {
  if (std::system(PBE_PYTHON " -c 'import matplotlib, numpy, h5py' 2>/dev/null") != 0) {
    // CI (PBE_NO_SKIP=1) installs them: there a skip would hide an untested figures script.
    if (const char* no_skip = std::getenv("PBE_NO_SKIP"); no_skip && std::string(no_skip) == "1")
      FAIL() << PBE_PYTHON " has no matplotlib, numpy or h5py, and PBE_NO_SKIP=1 requires this test to run";
    GTEST_SKIP() << PBE_PYTHON " has no matplotlib, numpy or h5py: apt install python3-matplotlib python3-h5py";
  }
  const auto out = dir_ / "figures";
  const std::string command = std::string(PBE_PYTHON) + " " + PBE_SOURCE_DIR + "/analysis/figures.py " + path_ + " " +
                              out.string() + " > /dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0);
  for (const char* name : {"heatmap-asr-fmnist-cnn", "heatmap-acc-fmnist-cnn", "heatmap-der-fmnist-cnn", "pbe-steps",
                           "confusion-badnets-seed0"})
    for (const char* ext : {".png", ".pdf"}) {
      const auto file = out / (std::string(name) + ext);
      EXPECT_TRUE(std::filesystem::exists(file) && std::filesystem::file_size(file) > 1000) << file;
    }
}

// Ids are free text in a spec: each format escapes what would break it.
TEST(ReportFormats, EscapeWhatEachFormatReads) {
  ReportTable t;
  t.title = "a_b 5% & c";
  t.header = {"Attack", "my_def$ ACC"};
  ReportValue v;
  v.mean = 12.5;
  v.std = 0.25;
  t.rows = {{ReportValue{"x|y \"q\", z~^{}\\#"}, v}};
  EXPECT_NE(render_latex({t}).find("a\\_b 5\\% \\& c"), std::string::npos);
  EXPECT_NE(render_latex({t}).find("Attack & my\\_def\\$ ACC \\\\"), std::string::npos);
  EXPECT_NE(render_latex({t}).find("x|y \"q\", z\\textasciitilde{}\\textasciicircum{}\\{\\}\\textbackslash{}\\# & "
                                   "12.50 $\\pm$ 0.25 \\\\"),
            std::string::npos)
      << render_latex({t});
  EXPECT_NE(render_markdown({t}).find("| x\\|y \"q\", z~^{}\\# | 12.50 ± 0.25 |"), std::string::npos) << render_markdown({t});
  EXPECT_EQ(render_csv(t), "Attack,my_def$ ACC,my_def$ ACC std\n\"x|y \"\"q\"\", z~^{}\\#\",12.50,0.25\n");
}

TEST_F(ReportTest, AnotherSchemaVersionIsAClearError) {
  hid_t f = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  h5::write_attr(f, "schema_version", int64_t{7}, path_);
  H5Fclose(f);
  try {
    report_tables(path_);
    FAIL();
  } catch (const StorageError& e) {
    EXPECT_EQ(std::string(e.what()), path_ + ": schema version 7; this pbe_dist reads 1 to 2");
  }
}

}  // namespace
