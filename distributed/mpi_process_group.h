#pragma once
#include <mpi.h>

#include "distributed/process_group.h"

namespace pbe {

// ProcessGroup over an MPI communicator, for CPU tensors (GPU tensors go through a host copy).
// The communicator is duplicated so our collectives never interleave with other traffic. Call
// from one thread at a time.
class MpiProcessGroup final : public ProcessGroup {
 public:
  explicit MpiProcessGroup(MPI_Comm comm);
  ~MpiProcessGroup() override;
  MpiProcessGroup(const MpiProcessGroup&) = delete;
  MpiProcessGroup& operator=(const MpiProcessGroup&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend_name() const override { return "mpi"; }
  void allreduce(at::Tensor& tensor, ReduceOp op) override;
  void broadcast(at::Tensor& tensor, int root) override;
  at::Tensor allgather(const at::Tensor& tensor) override;
  void barrier() override;

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace pbe
