#pragma once
#include <mpi.h>

#include <memory>
#include <string>
#include <vector>

#include "distributed/process_group.h"

namespace pbe {

enum class Backend { kMpi, kNccl };

// MPI's lifetime (RAII) and where this process stands in the job. Works under mpirun/srun and as
// an MPI singleton (plain `pbe_dist ...`). Exactly one World per process, created first in main().
class World {
 public:
  World(int* argc, char*** argv);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Rank and rank count among the processes on this host (shared-memory split of the world).
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  MPI_Comm comm() const { return MPI_COMM_WORLD; }

  // One hostname per rank, gathered over the world (collective).
  std::vector<std::string> hostnames() const;
  // MPI library version string.
  static std::string mpi_library_version();

  // The GPU this rank uses: its local rank among the GPUs the host shows it, or GPU 0 when it is
  // shown exactly one (a launcher that gives each rank its own, e.g. srun --gpus-per-task=1).
  // -1 when it sees no GPU. DistributedError when the host runs more ranks than it shows GPUs
  // (NCCL refuses two ranks on one device).
  int local_gpu() const;
  // A process group over the whole world: single-process for one rank; otherwise the backend's
  // (NCCL on local_gpu()).
  std::unique_ptr<ProcessGroup> make_process_group(Backend backend = Backend::kMpi) const;
  // The world cut into consecutive groups of `group_size` ranks (which must divide the world
  // size): this rank's group, ranks ordered as in the world. Collective.
  std::unique_ptr<ProcessGroup> make_group(int group_size, Backend backend = Backend::kMpi) const;

  // Ends every rank of the job (MPI_Abort); used when one rank fails so no rank hangs.
  [[noreturn]] void abort(int exit_code) const;

 private:
  bool owns_mpi_ = false;
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
};

// A job-wide counter that any rank advances on its own (MPI one-sided fetch-and-add on world
// rank 0's memory): how groups of ranks take the next unit of work as they finish. Construction
// and destruction are collective over the world.
class SharedCounter {
 public:
  explicit SharedCounter(const World& world);
  ~SharedCounter();
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;
  // The counter's value before this call added 1 to it: 0, 1, 2, ... across all callers.
  int64_t next() { return add(1); }
  // Adds `amount` (0 reads it); returns the value before.
  int64_t add(int64_t amount);

 private:
  MPI_Win window_ = MPI_WIN_NULL;
  void* base_ = nullptr;
};

// A job-wide mutex that any rank takes on its own (a ticket lock: MPI one-sided fetch-and-add on
// world rank 0's memory, waiting with a growing sleep; first come, first served): how the groups' first ranks take turns committing to
// the results file. Construction and destruction are collective over the world. Not reentrant.
class JobLock {
 public:
  explicit JobLock(const World& world);
  ~JobLock();
  JobLock(const JobLock&) = delete;
  JobLock& operator=(const JobLock&) = delete;
  void lock();
  void unlock();

 private:
  MPI_Win window_ = MPI_WIN_NULL;
  void* base_ = nullptr;
};

}  // namespace pbe
