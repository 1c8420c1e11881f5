#pragma once
#include <string>
#include <vector>

#include "distributed/world.h"

namespace pbe {

// Options of `pbe_dist run` / `pbe_dist plan` beyond the spec itself.
struct RunOptions {
  std::string spec_path;
  std::string output;          // Overrides the spec's output when non-empty.
  int threads = -1;            // Overrides the spec's threads when >= 0.
  bool overwrite = false;      // Replace an existing results file.
  bool resume = false;         // Finish an existing results file of the same spec (or start it).
  std::string cells;           // Run only these plan positions ("1,3-4"; SLURM array tasks). "" = all.
  std::string model_store;     // Overrides the spec's model_store when non-empty.
  std::string command_line;    // For the provenance record.
};

// Options of `pbe_dist purify`: a user's TorchScript model and data, purified by PBE (no clean data)
// or a clean-data defense.
struct PurifyOptions {
  std::string model;                 // TorchScript classifier (images in [0, 1] -> logits)
  std::string data;                  // Training split = the defender's (possibly poisoned) set
  std::string format = "mnist";      // The dataset whose layout --data has: one of file_datasets()
  std::string method = "pbe";        // One of purify_methods()
  std::string clean;                 // All but PBE: the clean extra set (its training split), same format
  std::string out = "purified.pt";   // The purified model, TorchScript
  bool overwrite = false;            // Replace an existing `out`.
  std::vector<std::string> set;      // Method options, key=value (pgd.eps=0.05, fractions=[0.2,0.5,0.7])
  uint64_t seed = 0;
  int threads = 0;                   // Intra-op threads per rank (0 = cores / local ranks)
};

// Intra-op threads for this rank: `requested`, or for 0 the host's cores / local ranks, at most the
// cores this process is bound to (mpirun's and srun's binding). Returns the count set.
int set_torch_threads(int requested, const World& world);


// `pbe_dist run`: the whole matrix; returns the process exit code. Collective over the world.
int run_command(const World& world, const RunOptions& options);
// The defenses `purify` offers: every one but "none" (FP, NAD and ANP need a model of ours, with
// layers they can see; on a TorchScript model they refuse with a one-line error).
const std::vector<std::string>& purify_methods();
// `pbe_dist purify`: returns the process exit code. Collective over the world; rank 0 writes the
// model and prints the report.
int purify_command(const World& world, const PurifyOptions& options);
// `pbe_dist plan`: prints the cells and the work estimate, trains nothing (rank 0 prints).
int plan_command(const World& world, const RunOptions& options);

// `pbe_dist data NAME PATH`: checks that the folder holds the dataset's whole official release as
// runs will read it (core/data/release_check.h) and prints its class counts. Rank 0 works. Exit 0;
// DataError / ConfigError (exit 2) with one line naming the file and what is wrong.
int data_command(const World& world, const std::string& name, const std::string& path);

// `pbe_dist list`: every attack and defense a spec can name, with its options' keys, defaults
// and meanings, as Markdown (docs/options.md). Rank 0 prints. Exit 0.
int list_command(const World& world);

// `pbe_dist models list [--store DIR]`: every entry of a model store (launcher/victim_recipe.h,
// core/training/model_store.h) with what made it and its size. `pbe_dist models show KEY`: one
// entry (a unique prefix of its key will do): its recipe, its tensors, and whether its checksum
// holds. Rank 0 prints. Exit 0; 2 for a key that names no entry, or several, or a corrupt entry.
int models_list_command(const World& world, const std::string& store);
int models_show_command(const World& world, const std::string& store, const std::string& key);
// `pbe_dist models gc RESULTS.h5... [--delete]`: the entries no attack unit of the given results
// files refers to (by its model_key); listed, and deleted with `remove`. Exit 0; 2 for a file that
// is not results (nothing deleted then).
int models_gc_command(const World& world, const std::string& store, const std::vector<std::string>& results,
                      bool remove);

// `pbe_dist inspect FILE`: every cell of the file's spec and the state of each unit (done,
// failed with its error, missing). Rank 0 prints. Exit 0; 2 for a file that is not results.
int inspect_command(const World& world, const std::string& path);

// `pbe_dist merge A B ... -o OUT`: the results of separate jobs of one spec (SLURM array tasks,
// --cells) in one file, /matrix in plan order. Identical duplicates are taken once; a unit with
// different results in two files, or files of different specs, is an error (exit 2) and nothing
// is written; so is an output the file system cannot take (exit 1). Rank 0 works.
struct MergeOptions {
  std::vector<std::string> inputs;
  std::string output;
  bool overwrite = false;
};
int merge_command(const World& world, const MergeOptions& options);

// `pbe_dist report FILE`: the paper's tables (analysis/report.h) as Markdown, CSV or LaTeX, on
// stdout or in `out` (report.md, report.tex, <table>.csv); with `figures`, analysis/figures.py
// draws the figures into out/figures (PNG and PDF). Rank 0 works. Exit 2 for a file that is not
// results; missing python3/matplotlib only skips the figures, saying what to install.
struct ReportOptions {
  std::string path;
  std::string format = "md";  // md | csv | tex
  std::string out;            // Directory; "" = stdout (figures then go to ./report/figures)
  bool figures = false;
};
int report_command(const World& world, const ReportOptions& options);

}  // namespace pbe
