// pbe_dist: the experiment orchestrator's command line. Exit codes (util/error.h): 0 ok, 1 run
// failure, 2 bad usage or bad input (spec, data, model, results file), 3 some results failed,
// 75 stopped by a signal (SIGTERM, SIGINT, SIGUSR1) at a safe point: finish with --resume.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "core/data/dataset_source.h"
#include "distributed/world.h"
#include "launcher/commands.h"
#include "launcher/logging.h"
#include "pbe_version.h"
#include "util/error.h"
#include "util/join.h"
#include "util/memory.h"

namespace {

// `pbe_dist SPEC.yaml ...` means `pbe_dist run SPEC.yaml ...`: a first argument that is neither
// one of `app`'s subcommands nor an option is a spec.
std::vector<std::string> with_default_subcommand(CLI::App& app, int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0].rfind('-', 0) == 0) return args;
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == args[0]) return args;
  args.insert(args.begin(), "run");
  return args;
}

void add_common(CLI::App* cmd, pbe::RunOptions& o, std::string& log_level) {
  cmd->add_option("spec", o.spec_path, "Experiment spec (YAML)")->required();
  cmd->add_option("-o,--output", o.output, "Results file (default: the spec's output)");
  cmd->add_option("--threads", o.threads, "Intra-op threads per rank (0 = cores / local ranks)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  pbe::keep_freed_memory();
  std::unique_ptr<pbe::World> world;
  try {
    world = std::make_unique<pbe::World>(&argc, &argv);
  } catch (const std::exception& e) {
    std::cerr << "pbe_dist: error: cannot start MPI: " << e.what() << "\n";
    return 1;
  }
  const bool root = world->rank() == 0;

  CLI::App app{"pbe-dist: distributed backdoor attack x defense experiments (PBE, CVPR 2023)", "pbe_dist"};
  app.set_version_flag("--version", std::string("pbe_dist ") + PBE_VERSION + " (" + PBE_GIT_REVISION + ")");
  app.require_subcommand(1);
  pbe::RunOptions options;
  std::string log_level = "info";
  auto* run = app.add_subcommand("run", "Run the attack x defense matrix of a spec (default)");
  add_common(run, options, log_level);
  auto* overwrite = run->add_flag("--overwrite", options.overwrite, "Replace an existing results file");
  run->add_flag("--resume", options.resume,
                "Finish the results file of an interrupted run of this spec: skip its finished units, reuse its "
                "checkpoints (starts the file if there is none)")
      ->excludes(overwrite);
  run->add_option("--model-store", options.model_store,
                  "Model store folder: trained victims are taken from it and stored in it (auto: <results "
                  "folder>/models; none: train every victim). Overrides the spec's model_store");
  run->add_option("--cells", options.cells,
                  "Run only these cells, by their number in `pbe_dist plan` (1,3-4): one SLURM array task's share; "
                  "`pbe_dist merge` joins the files");
  std::string data_name, data_path;
  auto* data = app.add_subcommand(
      "data", "Check a dataset folder before runs use it: the whole official release, every file, size and label");
  data->add_option("name", data_name, "The dataset: " + pbe::join(pbe::file_datasets()))
      ->required()
      ->check(CLI::IsMember(pbe::file_datasets()));
  data->add_option("path", data_path, "The folder a spec's dataset.path names")->required();
  auto* list = app.add_subcommand(
      "list", "Every dataset, model, attack and defense a spec can name, with their options (Markdown)");
  std::string store_dir = "results/models", model_key;
  auto* models = app.add_subcommand("models", "The model store: its trained victims and what made them");
  models->require_subcommand(1);
  auto* models_list = models->add_subcommand("list", "Every model in the store, with what made it and its size");
  auto* models_show = models->add_subcommand("show", "One model: its recipe, its tensors, whether its checksum holds");
  models_show->add_option("key", model_key, "Its key, or a prefix that only it has")->required();
  std::vector<std::string> gc_results;
  bool gc_delete = false;
  auto* models_gc = models->add_subcommand(
      "gc", "The models no given results file refers to: listed (a dry run), deleted with --delete");
  models_gc->add_option("results", gc_results, "Results files (HDF5) whose models stay")->required();
  models_gc->add_flag("--delete", gc_delete, "Delete them");
  for (auto* cmd : {models_list, models_show, models_gc})
    cmd->add_option("--store", store_dir, "The store's folder (a spec's model_store)")->capture_default_str();
  std::string inspect_path;
  auto* inspect = app.add_subcommand("inspect", "List the cells of a results file and each unit's state");
  inspect->add_option("file", inspect_path, "Results file (HDF5)")->required();
  pbe::ReportOptions report_options;
  auto* report = app.add_subcommand("report", "The paper's tables (and figures) from a results file");
  report->add_option("file", report_options.path, "Results file (HDF5); a running job's or a merged one too")->required();
  report->add_option("--format", report_options.format, "md, csv or tex (booktabs)")
      ->check(CLI::IsMember({"md", "csv", "tex"}))
      ->capture_default_str();
  report->add_option("--out", report_options.out, "Directory for the tables (default: stdout) and figures");
  report->add_flag("--figures", report_options.figures,
                   "Also draw the figures (PNG and PDF) with analysis/figures.py (python3, matplotlib, h5py)");
  pbe::MergeOptions merge_options;
  auto* merge = app.add_subcommand("merge", "Join the results files of separate jobs of one spec");
  merge->add_option("files", merge_options.inputs, "Results files (HDF5) of the same spec")->required();
  merge->add_option("-o,--output", merge_options.output, "Merged results file")->required();
  merge->add_flag("--overwrite", merge_options.overwrite, "Replace an existing output");
  auto* plan = app.add_subcommand("plan", "Print the cells of a spec and the work estimate; train nothing");
  add_common(plan, options, log_level);

  pbe::PurifyOptions purify_options;
  auto* purify = app.add_subcommand(
      "purify", "Purify a TorchScript model with PBE (its possibly poisoned training data) or a defense using clean data");
  purify->add_option("--model", purify_options.model,
                     "TorchScript classifier: images in [0,1] [N,C,H,W] -> logits. Loading a TorchScript model runs "
                     "its code: trusted input only")
      ->required();
  purify->add_option("--data", purify_options.data, "Dataset folder; its training split is the defender's set")
      ->required();
  purify->add_option("--format", purify_options.format,
                     "The dataset whose official layout --data (and --clean) has: " + pbe::join(pbe::file_datasets()))
      ->check(CLI::IsMember(pbe::file_datasets()))
      ->capture_default_str();
  purify->add_option("--method", purify_options.method, "pbe (no clean data) or a clean-data defense")
      ->check(CLI::IsMember(pbe::purify_methods()))
      ->capture_default_str();
  purify->add_option("--clean", purify_options.clean, "All but PBE: folder of clean extra data (its training split)");
  purify->add_option("--out", purify_options.out, "Purified model (TorchScript)")->capture_default_str();
  purify->add_flag("--overwrite", purify_options.overwrite, "Replace an existing --out file");
  purify->add_option("--set", purify_options.set,
                     "Method option key=value, repeatable, as in a spec's defense entry (pgd.eps=0.05)");
  purify->add_option("--seed", purify_options.seed, "Seed of the method's random choices")->capture_default_str();
  purify->add_option("--threads", purify_options.threads, "Intra-op threads per rank (0 = cores / local ranks)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  purify->add_option("--log-level", log_level, "trace, debug, info, warn, error or off")->capture_default_str();

  auto args = with_default_subcommand(app, argc, argv);
  std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    // Every rank parsed the same arguments; one of them explains.
    const int code = root ? app.exit(e) : e.get_exit_code();
    return code == 0 ? pbe::kExitOk : pbe::kExitBadInput;
  }
  for (int i = 0; i < argc; ++i) options.command_line += (i ? " " : "") + std::string(argv[i]);

  int code = 0;
  try {
    pbe::setup_logging(world->rank(), world->size(), log_level);
    if (purify->parsed())
      code = pbe::purify_command(*world, purify_options);
    else if (data->parsed())
      code = pbe::data_command(*world, data_name, data_path);
    else if (list->parsed())
      code = pbe::list_command(*world);
    else if (models_list->parsed())
      code = pbe::models_list_command(*world, store_dir);
    else if (models_show->parsed())
      code = pbe::models_show_command(*world, store_dir, model_key);
    else if (models_gc->parsed())
      code = pbe::models_gc_command(*world, store_dir, gc_results, gc_delete);
    else if (inspect->parsed())
      code = pbe::inspect_command(*world, inspect_path);
    else if (report->parsed())
      code = pbe::report_command(*world, report_options);
    else if (merge->parsed())
      code = pbe::merge_command(*world, merge_options);
    else
      code = run->parsed() ? pbe::run_command(*world, options) : pbe::plan_command(*world, options);
  } catch (const std::exception& e) {
    const auto* error = dynamic_cast<const pbe::Error*>(&e);
    if (world->size() == 1 || (error && error->raised_on_every_rank())) {
      if (root) std::cerr << "pbe_dist: error: " << e.what() << "\n";
      code = pbe::exit_code_of(e);
    } else {
      // Something only this rank may have hit: report it and take the whole job down (no hang).
      std::cerr << "pbe_dist: error on rank " << world->rank() << ": " << e.what() << std::endl;
      world->abort(pbe::exit_code_of(e));
    }
  }
  return code;
}
