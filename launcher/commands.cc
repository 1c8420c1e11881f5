#include "launcher/commands.h"

#include <spdlog/spdlog.h>
#include <torch/version.h>

#include <sched.h>

#include <chrono>
#include <ctime>
#include <iostream>
#include <thread>

#include "analysis/matrix_table.h"
#include "core/errors.h"
#include "launcher/cell_runner.h"
#include "launcher/plan.h"
#include "launcher/spec.h"
#include "pbe_version.h"
#include "storage/h5.h"
#include "storage/result_store.h"
#include "storage/storage_error.h"

namespace pbe {
namespace {

std::string iso_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

ExperimentSpec load_spec(const RunOptions& o) {
  ExperimentSpec spec = parse_spec_file(o.spec_path);
  if (!o.output.empty()) spec.output = o.output;
  if (o.threads >= 0) spec.threads = o.threads;
  return spec;
}

Provenance make_provenance(const World& world, const RunOptions& o, int threads) {
  Provenance p;
  p.version = PBE_VERSION;
  p.git_revision = PBE_GIT_REVISION;
  p.command_line = o.command_line;
  p.ranks = world.size();
  p.hosts = world.hostnames();
  p.start_time = iso_now();
  p.libraries = {{"libtorch", TORCH_VERSION},
                 {"mpi", World::mpi_library_version()},
                 {"hdf5", h5::library_version()},
                 {"spdlog", std::to_string(SPDLOG_VER_MAJOR) + "." + std::to_string(SPDLOG_VER_MINOR) +
                                "." + std::to_string(SPDLOG_VER_PATCH)},
                 {"threads_per_rank", std::to_string(threads)}};
  return p;
}

}  // namespace

int set_torch_threads(int requested, const World& world) {
  int threads = requested;
  if (threads == 0) {
    // The host's cores shared by its ranks, but never more than the cores this process may run
    // on: mpirun binds each rank to a core by default, srun to its --cpus-per-task.
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::max(1, cores / std::max(1, world.local_size()));
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) threads = std::min(threads, std::max(1, CPU_COUNT(&allowed)));
  }
  torch::set_num_threads(threads);
  return threads;
}

int plan_command(const World& world, const RunOptions& o) {
  ExperimentSpec spec = load_spec(o);
  TrainTest data = load_dataset(spec.dataset);
  Plan plan = make_plan(spec, data.train.size());
  if (world.rank() == 0) std::cout << describe_plan(spec, plan, data.train.size(), world.size());
  return 0;
}

int run_command(const World& world, const RunOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  ExperimentSpec spec = load_spec(o);
  const int threads = set_torch_threads(spec.threads, world);
  auto group = world.make_process_group();
  Provenance provenance = make_provenance(world, o, threads);  // collective: gathers hostnames

  TrainTest data = load_dataset(spec.dataset);
  data.train.validate(spec.dataset.name + " training set");
  data.test.validate(spec.dataset.name + " test set");
  Plan plan = make_plan(spec, data.train.size());
  spdlog::info("{}: {} cells on {} rank(s), {} thread(s) each; {} training / {} test images -> {}",
               spec.file, plan.cells.size(), world.size(), threads, data.train.size(),
               data.test.size(), spec.output);

  // Rank 0 owns the results file; every rank learns whether it could be created.
  std::unique_ptr<ResultStore> store;
  std::string store_error;
  if (world.rank() == 0) {
    try {
      store = ResultStore::create(spec.output, o.overwrite);
      store->write_spec(spec.text);
      store->write_provenance(provenance);
    } catch (const StorageError& e) {
      store_error = e.what();
    }
  }
  auto ok = torch::tensor({store_error.empty() ? 1 : 0}, torch::kInt);
  group->broadcast(ok, 0);
  if (ok.item<int>() == 0) {
    if (world.rank() == 0) std::cerr << "pbe_dist: error: " << store_error << "\n";
    return 2;
  }

  ProgressReporter progress(world.rank() == 0, plan.total_image_epochs());
  CellRunner runner(spec, data, *group, store.get(), progress);
  int64_t rows = 0, failed = 0;  // every rank sees every row
  for (const Cell& cell : plan.cells) {
    progress.start_cell(cell, static_cast<int>(plan.cells.size()));
    for (const MatrixRow& row : runner.run(cell)) {
      ++rows;
      failed += row.status == "failed";
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (store) {
    store->write_end_time(iso_now());
    const std::string path = store->path();
    store.reset();  // close before reading back
    std::cout << format_matrix_table(read_matrix(path));
    std::cout << "results: " << path << " (" << format_duration(seconds) << " on " << world.size()
              << " rank(s))" << std::endl;
    if (failed > 0)
      std::cerr << "pbe_dist: " << failed << " of " << rows << " results failed (status and error in " << path
                << ")" << std::endl;
  }
  return failed > 0 ? 3 : 0;
}

}  // namespace pbe
