#include "distributed/world.h"

#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "distributed/mpi_check.h"
#include "distributed/mpi_process_group.h"
#include "distributed/nccl_process_group.h"
#include "distributed/single_process_group.h"

// LeakSanitizer ignores what MPI_Init and MPI_Finalize allocate: Open MPI 4.1 leaves ~120 KB per
// rank there, in components it has dlclose'd by exit, which LSan can neither name nor suppress
// (docs/reliability.md). In builds without it this is nothing.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PBE_LEAK_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(PBE_LEAK_SANITIZER)
#include <sanitizer/lsan_interface.h>
#define PBE_MPI_LEAKS_ARE_MPIS __lsan::ScopedDisabler leaks_here_are_mpis
#else
#define PBE_MPI_LEAKS_ARE_MPIS
#endif

namespace pbe {

std::string mpi_error_string(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, len);
}

World::World(int* argc, char*** argv) {
  int initialized = 0;
  PBE_MPI_CHECK(MPI_Initialized(&initialized));
  if (!initialized) {
    int provided = 0;
    PBE_MPI_LEAKS_ARE_MPIS;
    PBE_MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
    owns_mpi_ = true;
  }
  // Errors come back as return codes so PBE_MPI_CHECK can report them with context.
  PBE_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  PBE_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  PBE_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  MPI_Comm node_comm;
  PBE_MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL,
                                    &node_comm));
  PBE_MPI_CHECK(MPI_Comm_rank(node_comm, &local_rank_));
  PBE_MPI_CHECK(MPI_Comm_size(node_comm, &local_size_));
  PBE_MPI_CHECK(MPI_Comm_free(&node_comm));
}

World::~World() {
  if (!owns_mpi_) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  PBE_MPI_LEAKS_ARE_MPIS;
  MPI_Finalize();
}

std::vector<std::string> World::hostnames() const {
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int len = 0;
  PBE_MPI_CHECK(MPI_Get_processor_name(name, &len));
  std::vector<char> all(static_cast<size_t>(size_) * MPI_MAX_PROCESSOR_NAME);
  PBE_MPI_CHECK(MPI_Allgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(),
                              MPI_MAX_PROCESSOR_NAME, MPI_CHAR, MPI_COMM_WORLD));
  std::vector<std::string> out;
  for (int r = 0; r < size_; ++r) out.emplace_back(all.data() + static_cast<size_t>(r) * MPI_MAX_PROCESSOR_NAME);
  return out;
}

std::string World::mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int len = 0;
  if (MPI_Get_library_version(text, &len) != MPI_SUCCESS) return "unknown";
  std::string s(text, len);
  auto nl = s.find_first_of("\n,");
  return nl == std::string::npos ? s : s.substr(0, nl);
}

int World::local_gpu() const {
  const int visible = static_cast<int>(torch::cuda::device_count());
  if (visible == 0) return -1;
  if (visible >= local_size_) return local_rank_;
  if (visible == 1) return 0;
  throw DistributedError(std::to_string(local_size_) + " ranks on this host but it shows " + std::to_string(visible) +
                         " GPUs (one rank per GPU)");
}

namespace {

std::unique_ptr<ProcessGroup> make_backend(MPI_Comm comm, Backend backend, int gpu) {
  if (backend == Backend::kNccl) {
    if (gpu < 0) throw DistributedError("backend nccl: no GPU visible to this rank");
    return make_nccl_process_group(comm, gpu);
  }
  return std::make_unique<MpiProcessGroup>(comm);  // duplicates it
}

}  // namespace

std::unique_ptr<ProcessGroup> World::make_process_group(Backend backend) const {
  if (size_ == 1) return std::make_unique<SingleProcessGroup>();
  return make_backend(MPI_COMM_WORLD, backend, backend == Backend::kNccl ? local_gpu() : -1);
}

std::unique_ptr<ProcessGroup> World::make_group(int group_size, Backend backend) const {
  if (group_size < 1 || size_ % group_size != 0)
    throw DistributedError("a group size of " + std::to_string(group_size) + " does not divide " + std::to_string(size_) +
                           " ranks");
  MPI_Comm comm;
  PBE_MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, rank_ / group_size, rank_, &comm));
  std::unique_ptr<ProcessGroup> group;
  try {
    if (group_size == 1) group = std::make_unique<SingleProcessGroup>();
    else group = make_backend(comm, backend, backend == Backend::kNccl ? local_gpu() : -1);
  } catch (...) {
    MPI_Comm_free(&comm);
    throw;
  }
  PBE_MPI_CHECK(MPI_Comm_free(&comm));
  return group;
}

namespace {

// `n` int64s on world rank 0, 0 at first, that every rank may update atomically without rank 0's
// help (passive-target one-sided communication). Collective.
void allocate_rank_zero_words(const World& world, int n, void** base, MPI_Win* window) {
  const auto bytes = static_cast<MPI_Aint>(n * sizeof(int64_t));
  PBE_MPI_CHECK(MPI_Win_allocate(world.rank() == 0 ? bytes : 0, sizeof(int64_t), MPI_INFO_NULL, MPI_COMM_WORLD,
                                 base, window));
  if (world.rank() == 0) {  // local stores made visible to the others' atomics by the epoch
    PBE_MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, *window));
    std::fill_n(static_cast<int64_t*>(*base), n, int64_t{0});
    PBE_MPI_CHECK(MPI_Win_unlock(0, *window));
  }
  PBE_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
}

// Atomically adds `add` to word `index` on rank 0; returns its value before.
int64_t fetch_and_add(MPI_Win window, int index, int64_t add) {
  int64_t before = 0;
  PBE_MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, window));
  PBE_MPI_CHECK(MPI_Fetch_and_op(&add, &before, MPI_INT64_T, 0, index, MPI_SUM, window));
  PBE_MPI_CHECK(MPI_Win_unlock(0, window));
  return before;
}

}  // namespace

SharedCounter::SharedCounter(const World& world) { allocate_rank_zero_words(world, 1, &base_, &window_); }

SharedCounter::~SharedCounter() { MPI_Win_free(&window_); }

int64_t SharedCounter::add(int64_t amount) { return fetch_and_add(window_, 0, amount); }

// A ticket lock on two words: the next ticket to hand out, and the ticket being served. Only
// fetch-and-add is used (Open MPI 4.1's shared-memory compare-and-swap to the own rank crashes).
JobLock::JobLock(const World& world) { allocate_rank_zero_words(world, 2, &base_, &window_); }

JobLock::~JobLock() { MPI_Win_free(&window_); }

void JobLock::lock() {
  const int64_t ticket = fetch_and_add(window_, 0, 1);
  for (int wait_ms = 1; fetch_and_add(window_, 1, 0) != ticket; wait_ms = std::min(2 * wait_ms, 100))
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
}

void JobLock::unlock() { fetch_and_add(window_, 1, 1); }

void World::abort(int exit_code) const {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized && size_ > 1) MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::exit(exit_code);
}

}  // namespace pbe
