#include "launcher/commands.h"

#include <spdlog/spdlog.h>
#include <torch/version.h>

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <thread>

#include "analysis/matrix_table.h"
#include "core/data/release_check.h"
#include "core/errors.h"
#include "core/models/autocast.h"
#include "core/training/stop.h"
#include "distributed/distributed_error.h"
#include "distributed/nccl_process_group.h"
#include "launcher/cell_runner.h"
#include "launcher/logging.h"
#include "launcher/plan.h"
#include "launcher/spec.h"
#include "launcher/stop_signals.h"
#include "pbe_version.h"
#include "storage/h5.h"
#include "storage/result_store.h"
#include "storage/storage_error.h"
#include "util/atomic_file.h"

namespace pbe {
namespace {

std::string iso_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// The spec's model store: none, or its folder ("auto": models/ beside the results file).
std::unique_ptr<ModelStore> open_model_store(const ExperimentSpec& spec) {
  if (spec.model_store == "none") return nullptr;
  return std::make_unique<ModelStore>(spec.model_store == "auto" ? directory_of(spec.output) + "/models"
                                                                  : spec.model_store);
}

ExperimentSpec load_spec(const RunOptions& o) {
  ExperimentSpec spec = parse_spec_file(o.spec_path);
  if (!o.output.empty()) spec.output = o.output;
  if (o.threads >= 0) spec.threads = o.threads;
  if (!o.model_store.empty()) spec.model_store = o.model_store;
  return spec;
}

Provenance make_provenance(const World& world, const RunOptions& o, const ExperimentSpec& spec, int threads,
                           torch::Device device, const ProcessGroup& group) {
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
                                "." + std::to_string(SPDLOG_VER_PATCH)}};
  p.compute = {{"device", device.str()},
               {"backend", group.backend_name()},
               {"precision", to_string(spec.precision)},
               {"channels_last", spec.channels_last ? "true" : "false"},
               {"threads_per_rank", std::to_string(threads)}};
  return p;
}

// Every rank learns whether any rank failed a step; the lowest failing rank prints its error (once
// for the job). Collective over `everyone`.
bool all_succeeded(ProcessGroup& everyone, int rank, const std::string& error) {
  constexpr int kNone = std::numeric_limits<int>::max();
  auto first = torch::tensor({error.empty() ? kNone : rank}, torch::kInt);
  everyone.allreduce(first, ReduceOp::kMin);
  if (first.item<int>() == rank) std::cerr << "pbe_dist: error: " << error << std::endl;
  return first.item<int>() == kNone;
}

// This rank's device: the CPU, or for `device: cuda` its GPU (World::local_gpu()).
torch::Device rank_device(const ExperimentSpec& spec, const World& world) {
  if (spec.device == Device::kCpu) return torch::kCPU;
  int gpu = -1;
  try {
    gpu = world.local_gpu();
  } catch (const DistributedError& e) {
    throw ConfigError(spec.file + ": device cuda: " + e.what());
  }
  if (gpu < 0)
    throw ConfigError(spec.file + ": device cuda: rank " + std::to_string(world.rank()) +
                      " sees no CUDA GPU (no NVIDIA driver, or CUDA_VISIBLE_DEVICES hides them)");
  return {torch::kCUDA, static_cast<c10::DeviceIndex>(gpu)};
}

// The cell groups' collectives: NCCL for `backend: nccl`, and for `auto` on GPUs when built in.
Backend cell_backend(const ExperimentSpec& spec) {
  if (spec.backend == BackendChoice::kNccl && !nccl_compiled_in())
    throw ConfigError(spec.file + ": backend nccl: this pbe_dist was built without NCCL (configure with -DPBE_WITH_NCCL=ON, as the presets do)");
  const bool nccl = spec.backend == BackendChoice::kNccl ||
                    (spec.backend == BackendChoice::kAuto && spec.device == Device::kCuda && nccl_compiled_in());
  return nccl ? Backend::kNccl : Backend::kMpi;
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

namespace {

// The ranks that run each cell together: all of them, or spec.ranks_per_cell. ConfigError when that
// does not divide the rank count.
int ranks_per_cell(const ExperimentSpec& spec, const World& world) {
  const int k = spec.ranks_per_cell == 0 ? world.size() : spec.ranks_per_cell;
  if (world.size() % k != 0)
    throw ConfigError(spec.file + ": ranks_per_cell " + std::to_string(k) + " does not divide the " +
                      std::to_string(world.size()) + " ranks");
  return k;
}

// The results file of an interrupted run of `spec`, checked before anything is written to it
// (StorageError "<path>: cannot resume: <why>; nothing was changed"); leftover commit copies of
// the killed run are removed.
std::unique_ptr<ResultStore> open_to_resume(const ExperimentSpec& spec) {
  const std::string& path = spec.output;
  const auto refuse = [&](const std::string& why) {
    return StorageError(path + ": cannot resume: " + why + "; nothing was changed");
  };
  if (const std::string problem = results_file_problem(path); !problem.empty()) throw refuse(problem);
  if (read_spec_text(path) != spec.text)
    throw refuse("it was started by another spec (its /spec differs from " + spec.file + ")");
  ResultStore::remove_stale_commit_copies(path);
  return ResultStore::open(path);
}

// A victim batch larger than its training set is a slip (one step per epoch): refused before any work.
void check_batch_size(const ExperimentSpec& spec, int64_t train_size) {
  if (spec.training.batch_size > train_size)
    throw ConfigError(spec.file + ": training.batch_size: " + std::to_string(spec.training.batch_size) +
                      " is more than the " + std::to_string(train_size) + " training images");
}

}  // namespace

int plan_command(const World& world, const RunOptions& o) {
  ExperimentSpec spec = load_spec(o);
  // Sized from the data when it is here; else from the dataset's official size, so a cluster
  // allocation can be planned before the data is copied.
  int64_t train_size = 0;
  int classes = image_shape(spec.dataset).num_classes;
  std::string note;
  try {
    TrainTest data = load_dataset(spec.dataset);
    train_size = data.train.size();
    classes = data.train.num_classes;
  } catch (const DataError& e) {
    const int64_t official = official_release(spec.dataset.name).train;
    if (official == 0) throw;
    train_size = spec.dataset.train_subset > 0 ? std::min<int64_t>(spec.dataset.train_subset, official) : official;
    note = std::string("(no data here: ") + e.what() + "; sized as the official " + std::to_string(official) +
           "-image training set)\n";
  }
  check_batch_size(spec, train_size);
  Plan plan = make_plan(spec, train_size, classes);
  const int per_cell = ranks_per_cell(spec, world);
  if (world.rank() == 0) {
    std::cout << note << describe_plan(spec, plan, train_size, world.size());
    if (per_cell < world.size())
      std::cout << "ranks_per_cell " << per_cell << ": " << world.size() / per_cell
                << " groups; each takes the next cell in this order as it finishes one\n";
  }
  return 0;
}

int run_command(const World& world, const RunOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  ExperimentSpec spec = load_spec(o);
  const int per_cell = ranks_per_cell(spec, world);
  const int groups = world.size() / per_cell;
  const int threads = set_torch_threads(spec.threads, world);
  auto everyone = world.make_process_group();  // MPI: flags, counts and the end of the run
  torch::Device device = torch::kCPU;
  Backend backend = Backend::kMpi;
  std::string setup_error;
  try {
    device = rank_device(spec, world);
    backend = cell_backend(spec);
  } catch (const ConfigError& e) {
    setup_error = e.what();
  }
  if (!all_succeeded(*everyone, world.rank(), setup_error)) return kExitBadInput;
  auto own_group = world.make_group(per_cell, backend);
  ProcessGroup& group = *own_group;  // the ranks of this rank's cells
  // Every pass of every cell on this rank under bf16 autocast, if asked for; float32 work on TF32
  // tensor cores only for `precision: tf32`.
  BFloat16Autocast autocast(device.type(), spec.precision == Precision::kBf16);
  set_cuda_tf32(spec.precision == Precision::kTf32);
  // Collective: gathers hostnames.
  Provenance provenance = make_provenance(world, o, spec, threads, device, group);

  TrainTest data = load_dataset(spec.dataset);
  data.train.validate(spec.dataset.name + " training set");
  data.test.validate(spec.dataset.name + " test set");
  check_batch_size(spec, data.train.size());
  Plan plan = make_plan(spec, data.train.size(), data.train.num_classes);
  const std::vector<int> selected = select_cells(o.cells, static_cast<int>(plan.cells.size()));  // --cells
  spdlog::info("{}: {} cells on {} rank(s) in {} group(s), {} thread(s) each, {} ({}, {}{}); {} training / {} test "
               "images -> {}",
               spec.file, plan.cells.size(), world.size(), groups, threads, device.str(), group.backend_name(),
               to_string(spec.precision), spec.channels_last ? ", channels_last" : "", data.train.size(), data.test.size(),
               spec.output);

  // Rank 0 creates the results file. Every group's first rank commits its own cells' units to it,
  // one rank at a time (JobLock), so each finished unit is in the file as soon as it finishes.
  std::unique_ptr<ResultStore> store;
  std::string store_error;
  auto resume_flag = torch::tensor({world.rank() == 0 && o.resume && std::filesystem::exists(spec.output) ? 1 : 0},
                                   torch::kInt);
  everyone->broadcast(resume_flag, 0);  // rank 0's view decides
  const bool resuming = resume_flag.item<int>() == 1;
  try {
    if (world.rank() == 0) {
      store = resuming ? open_to_resume(spec) : ResultStore::create(spec.output, o.overwrite, spec.text, provenance);
      if (!resuming) std::filesystem::remove_all(spec.output + ".ckpt");  // an earlier run's: not this one's
    }
  } catch (const StorageError& e) {
    store_error = e.what();
  }
  if (!all_succeeded(*everyone, world.rank(), store_error)) return kExitBadInput;
  try {
    if (group.rank() == 0 && !store) store = ResultStore::open(spec.output);
  } catch (const StorageError& e) {
    store_error = std::string(e.what()) + " (seen from rank " + std::to_string(world.rank()) +
                  ": the output must be on a filesystem every group's first rank shares)";
  }
  if (!all_succeeded(*everyone, world.rank(), store_error)) return kExitBadInput;
  StoredResults runner_resume;
  if (resuming) {  // every rank reads what is done before any unit is committed, and all must agree
    try {
      runner_resume = read_stored_results(spec.output);
    } catch (const StorageError& e) {
      store_error = e.what();
    }
    const int64_t seen = store_error.empty() ? static_cast<int64_t>(runner_resume.rows.size() * 100003 + runner_resume.attacks.size()) : -1;
    auto low = torch::tensor({seen}), high = torch::tensor({seen});
    everyone->allreduce(low, ReduceOp::kMin);
    everyone->allreduce(high, ReduceOp::kMax);
    if (store_error.empty() && low.item<int64_t>() != high.item<int64_t>())
      store_error = spec.output + ": ranks see different contents: the output must be on a filesystem every rank shares";
    if (!all_succeeded(*everyone, world.rank(), store_error)) return kExitBadInput;
    spdlog::info("{}: resuming: {} of {} results already in it", spec.output, runner_resume.rows.size(),
                 plan.cells.size() * spec.defenses.size());
  }
  everyone->barrier();
  JobLock commit_lock(world);
  if (store && groups > 1) store->set_commit_lock({[&] { commit_lock.lock(); }, [&] { commit_lock.unlock(); }});

  // Each group's first rank reports its group's progress (its log lines carry its rank).
  if (group.rank() == 0) log_at_requested_level();
  ProgressReporter progress(group.rank() == 0, plan.image_epochs_to_run(selected, runner_resume) / groups);
  const auto models = open_model_store(spec);
  if (models && world.rank() == 0) spdlog::info("model store: {}", models->dir());
  CellRunner runner(spec, data, group, device, store.get(), progress, models.get(), RecipeCompute{group.size(), threads});
  runner.resume_from(std::move(runner_resume));
  install_stop_signals();
  // SIGTERM, SIGINT, SIGUSR1: every group stops at its next safe point (a rank that got the signal
  // raises a job-wide vote; stop points read it), with all finished units in the file.
  SharedCounter stop_votes(world);
  bool voted = false;
  set_stop_check([&] {
    if (stop_signal_received() && !voted) {
      stop_votes.add(1);
      voted = true;
    }
    return stop_votes.add(0) > 0;
  });
  bool stopped = false;
  auto counts = torch::zeros({2}, torch::kLong);  // rows, failed rows of this rank's cells
  auto run = [&](const Cell& cell) {
    progress.start_cell(cell, static_cast<int>(plan.cells.size()));
    for (const MatrixRow& row : runner.run(cell)) {
      counts[0] += 1;
      counts[1] += row.status == Status::kFailed ? 1 : 0;
    }
  };
  // Each group takes the next cell as it finishes one (one group: every cell in plan order).
  SharedCounter next_cell(world);
  try {
    for (;;) {
      auto next = torch::tensor({group.rank() == 0 ? next_cell.next() : int64_t{0}});
      group.broadcast(next, 0);
      if (next.item<int64_t>() >= static_cast<int64_t>(selected.size())) break;
      run(plan.cells[static_cast<size_t>(selected[static_cast<size_t>(next.item<int64_t>())])]);
    }
  } catch (const StopRequested&) {
    stopped = true;  // the other groups stop at their own next safe point
  } catch (const std::exception& e) {
    // Maybe only this rank saw it (a failed write): the others would wait for it in a collective
    // forever, and unwinding would block in the windows' collective frees. End the job.
    std::cerr << "pbe_dist: error on rank " << world.rank() << ": " << e.what() << std::endl;
    world.abort(exit_code_of(e));
  }
  if (group.rank() != 0) counts.zero_();  // each group's rows counted once
  everyone->allreduce(counts);
  everyone->barrier();  // every unit committed
  set_stop_check({});
  const int64_t rows = counts[0].item<int64_t>(), failed = counts[1].item<int64_t>();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto any_stopped = torch::tensor({stopped ? 1 : 0}, torch::kInt);
  everyone->allreduce(any_stopped, ReduceOp::kMax);
  if (any_stopped.item<int>() > 0) {
    if (world.rank() == 0)
      std::cerr << "pbe_dist: stopped by a signal after " << format_duration(seconds) << "; every finished unit is in "
                << spec.output << " (pbe_dist inspect); finish it with --resume" << std::endl;
    return kExitStopped;
  }
  if (world.rank() == 0) {
    const std::string path = store->path();
    store->commit([&](ResultWriter& w) {  // rows in plan order, as one group would have written them
      w.set_matrix(in_plan_order(read_matrix(path), plan));
      w.write_end_time(iso_now());
    });
    std::filesystem::remove_all(spec.output + ".ckpt");  // every unit is in the file
    std::cout << format_matrix_table(read_matrix(path));
    std::cout << "results: " << path << " (" << format_duration(seconds) << " on " << world.size()
              << " rank(s))" << std::endl;
    if (failed > 0)
      std::cerr << "pbe_dist: " << failed << " of " << rows << " results failed (status and error in " << path
                << ")" << std::endl;
  }
  return failed > 0 ? kExitSomeFailed : kExitOk;
}

}  // namespace pbe
