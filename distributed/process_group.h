#pragma once
// The only view of collectives that core/ has: a c10d-style process group.
// Backends (single-process, MPI, NCCL) live behind it and are chosen at run time.
#include <ATen/core/Tensor.h>

#include <string>

namespace pbe {

enum class ReduceOp { kSum, kMax, kMin };

// Every collective is called by every rank of the group, in the same order, with tensors
// of the same shape and dtype (REQUIRES). Tensors must be contiguous; they may be on the CPU or
// on the rank's GPU whatever the backend (a backend copies what it cannot reach), and results
// come back on the tensor's device.
class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend_name() const = 0;

  // In place: every rank ends with op over all ranks' `tensor`.
  virtual void allreduce(at::Tensor& tensor, ReduceOp op = ReduceOp::kSum) = 0;
  // In place: every rank ends with `root`'s `tensor`.
  virtual void broadcast(at::Tensor& tensor, int root) = 0;
  // Returns [size, ...tensor.shape]: row r holds rank r's tensor.
  virtual at::Tensor allgather(const at::Tensor& tensor) = 0;
  virtual void barrier() = 0;
};

}  // namespace pbe
