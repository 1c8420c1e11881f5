#include "distributed/mpi_process_group.h"

#include <ATen/ATen.h>

#include "distributed/mpi_check.h"

namespace pbe {
namespace {

MPI_Datatype mpi_type(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: return MPI_FLOAT;
    case at::kDouble: return MPI_DOUBLE;
    case at::kInt: return MPI_INT32_T;
    case at::kLong: return MPI_INT64_T;
    case at::kByte: return MPI_UINT8_T;
    case at::kChar: return MPI_INT8_T;
    default:
      throw DistributedError(std::string("Backend mpi does not support dtype ") +
                             std::string(c10::toString(t.scalar_type())));
  }
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return MPI_SUM;
    case ReduceOp::kMax: return MPI_MAX;
    case ReduceOp::kMin: return MPI_MIN;
  }
  return MPI_SUM;
}

void check_contiguous(const at::Tensor& t, const char* op) {
  if (!t.is_contiguous()) throw DistributedError(std::string("Backend mpi ") + op + " needs a contiguous tensor");
  if (t.numel() > std::numeric_limits<int>::max()) {
    throw DistributedError(std::string("Backend mpi ") + op + ": tensor too large for one MPI call");
  }
}

// MPI reads host memory: a tensor on another device (a GPU) goes through a host copy.
at::Tensor on_host(const at::Tensor& t) { return t.device().is_cpu() ? t : t.cpu(); }

void copy_back(at::Tensor& tensor, const at::Tensor& host) {
  if (!tensor.device().is_cpu()) tensor.copy_(host);
}

}  // namespace

MpiProcessGroup::MpiProcessGroup(MPI_Comm comm) {
  PBE_MPI_CHECK(MPI_Comm_dup(comm, &comm_));
  PBE_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  PBE_MPI_CHECK(MPI_Comm_size(comm_, &size_));
}

MpiProcessGroup::~MpiProcessGroup() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void MpiProcessGroup::allreduce(at::Tensor& tensor, ReduceOp op) {
  check_contiguous(tensor, "allreduce");
  at::Tensor host = on_host(tensor);
  PBE_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, host.data_ptr(), static_cast<int>(host.numel()),
                              mpi_type(host), mpi_op(op), comm_));
  copy_back(tensor, host);
}

void MpiProcessGroup::broadcast(at::Tensor& tensor, int root) {
  check_contiguous(tensor, "broadcast");
  at::Tensor host = on_host(tensor);
  PBE_MPI_CHECK(MPI_Bcast(host.data_ptr(), static_cast<int>(host.numel()), mpi_type(host), root, comm_));
  copy_back(tensor, host);
}

at::Tensor MpiProcessGroup::allgather(const at::Tensor& tensor) {
  check_contiguous(tensor, "allgather");
  const at::Tensor host = on_host(tensor);
  std::vector<int64_t> shape{size_};
  for (auto d : host.sizes()) shape.push_back(d);
  at::Tensor out = at::empty(shape, host.options());
  PBE_MPI_CHECK(MPI_Allgather(host.data_ptr(), static_cast<int>(host.numel()), mpi_type(host), out.data_ptr(),
                              static_cast<int>(host.numel()), mpi_type(host), comm_));
  return out.to(tensor.device());
}

void MpiProcessGroup::barrier() { PBE_MPI_CHECK(MPI_Barrier(comm_)); }

}  // namespace pbe
