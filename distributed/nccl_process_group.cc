#include "distributed/nccl_process_group.h"

#include <ATen/ATen.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include <string>

#include "distributed/mpi_check.h"

namespace pbe {
namespace {

#define PBE_CUDA_CHECK(call)                                                                          \
  do {                                                                                                \
    cudaError_t pbe_cuda_rc_ = (call);                                                                \
    if (pbe_cuda_rc_ != cudaSuccess)                                                                  \
      throw DistributedError(std::string(#call) + " failed: " + cudaGetErrorString(pbe_cuda_rc_));    \
  } while (0)

ncclDataType_t nccl_type(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: return ncclFloat32;
    case at::kDouble: return ncclFloat64;
    case at::kHalf: return ncclFloat16;
    case at::kBFloat16: return ncclBfloat16;
    case at::kInt: return ncclInt32;
    case at::kLong: return ncclInt64;
    case at::kByte: return ncclUint8;
    case at::kChar: return ncclInt8;
    default:
      throw DistributedError("backend nccl does not support dtype " + std::string(c10::toString(t.scalar_type())));
  }
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return ncclSum;
    case ReduceOp::kMax: return ncclMax;
    case ReduceOp::kMin: return ncclMin;
  }
  return ncclSum;
}

class NcclProcessGroup final : public ProcessGroup {
 public:
  NcclProcessGroup(MPI_Comm comm, int device) : device_(device) {
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess) devices = 0;
    if (device < 0 || device >= devices)
      throw DistributedError("backend nccl: no GPU " + std::to_string(device) + " (" + std::to_string(devices) +
                             " visible)");
    try {
      PBE_MPI_CHECK(MPI_Comm_dup(comm, &mpi_));
      PBE_MPI_CHECK(MPI_Comm_rank(mpi_, &rank_));
      PBE_MPI_CHECK(MPI_Comm_size(mpi_, &size_));
      PBE_CUDA_CHECK(cudaSetDevice(device_));
      ncclUniqueId id;
      if (rank_ == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
      PBE_MPI_CHECK(MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, mpi_));
      check(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank");
      PBE_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
      PBE_CUDA_CHECK(cudaEventCreateWithFlags(&before_, cudaEventDisableTiming));
      PBE_CUDA_CHECK(cudaEventCreateWithFlags(&after_, cudaEventDisableTiming));
    } catch (...) {
      release();
      throw;
    }
  }

  ~NcclProcessGroup() override { release(); }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend_name() const override { return "nccl"; }

  void allreduce(at::Tensor& tensor, ReduceOp op) override {
    at::Tensor t = on_device(tensor, "allreduce");
    run([&] { return ncclAllReduce(t.data_ptr(), t.data_ptr(), t.numel(), nccl_type(t), nccl_op(op), comm_, stream_); },
        "ncclAllReduce");
    if (!tensor.is_cuda()) tensor.copy_(t);
  }

  void broadcast(at::Tensor& tensor, int root) override {
    at::Tensor t = on_device(tensor, "broadcast");
    run([&] { return ncclBroadcast(t.data_ptr(), t.data_ptr(), t.numel(), nccl_type(t), root, comm_, stream_); },
        "ncclBroadcast");
    if (!tensor.is_cuda()) tensor.copy_(t);
  }

  at::Tensor allgather(const at::Tensor& tensor) override {
    const at::Tensor t = on_device(tensor, "allgather");
    std::vector<int64_t> shape{size_};
    shape.insert(shape.end(), t.sizes().begin(), t.sizes().end());
    at::Tensor out = at::empty(shape, t.options());
    run([&] { return ncclAllGather(t.data_ptr(), out.data_ptr(), t.numel(), nccl_type(t), comm_, stream_); },
        "ncclAllGather");
    return out.to(tensor.device());
  }

  void barrier() override {
    PBE_CUDA_CHECK(cudaSetDevice(device_));
    PBE_CUDA_CHECK(cudaDeviceSynchronize());
    PBE_MPI_CHECK(MPI_Barrier(mpi_));
  }

 private:
  // The tensor the collective runs on: `t` itself on this rank's GPU; a GPU copy of a CPU tensor
  // (small bookkeeping: counts, losses), which the caller copies back.
  at::Tensor on_device(const at::Tensor& t, const char* op) const {
    if (!t.is_contiguous()) throw DistributedError(std::string("backend nccl ") + op + " needs a contiguous tensor");
    if (t.is_cpu()) return t.to(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device_)));
    if (!t.is_cuda() || t.get_device() != device_)
      throw DistributedError(std::string("backend nccl ") + op + " needs a tensor on cuda:" + std::to_string(device_) +
                             " or the CPU (got " + t.device().str() + ")");
    return t;
  }

  // One collective on the group's stream, after the default stream's queued work and before its
  // next (the compute stream is the default stream: pbe-dist creates no streams of its own).
  template <class Call>
  void run(Call call, const char* what) {
    PBE_CUDA_CHECK(cudaSetDevice(device_));
    PBE_CUDA_CHECK(cudaEventRecord(before_, cudaStreamLegacy));
    PBE_CUDA_CHECK(cudaStreamWaitEvent(stream_, before_, 0));
    check(call(), what);
    PBE_CUDA_CHECK(cudaEventRecord(after_, stream_));
    PBE_CUDA_CHECK(cudaStreamWaitEvent(cudaStreamLegacy, after_, 0));
  }

  void release() {
    if (comm_) ncclCommDestroy(comm_);
    if (after_) cudaEventDestroy(after_);
    if (before_) cudaEventDestroy(before_);
    if (stream_) cudaStreamDestroy(stream_);
    if (mpi_ != MPI_COMM_NULL) MPI_Comm_free(&mpi_);
    comm_ = nullptr;
    after_ = before_ = nullptr;
    stream_ = nullptr;
  }

  // A failed NCCL call, or an asynchronous error NCCL reports when the next call is queued, aborts
  // the communicator and throws; the caller's rank then ends the job (World::abort). Errors are
  // checked only when calls are made: a peer that dies while this rank waits inside a collective
  // is caught by MPI's job teardown, not here (no watchdog thread polls NCCL).
  void check(ncclResult_t rc, const char* what) {
    ncclResult_t async = ncclSuccess;
    if (rc == ncclSuccess && comm_) ncclCommGetAsyncError(comm_, &async);
    if (rc == ncclSuccess && async == ncclSuccess) return;
    const std::string message = ncclGetErrorString(rc != ncclSuccess ? rc : async);
    if (comm_) {
      ncclCommAbort(comm_);
      comm_ = nullptr;
    }
    throw DistributedError(std::string("backend nccl: ") + what + " failed on rank " + std::to_string(rank_) + ": " +
                           message);
  }

  MPI_Comm mpi_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1, device_ = 0;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t before_ = nullptr, after_ = nullptr;
};

}  // namespace

std::unique_ptr<ProcessGroup> make_nccl_process_group(MPI_Comm comm, int device) {
  return std::make_unique<NcclProcessGroup>(comm, device);
}

bool nccl_compiled_in() { return true; }

}  // namespace pbe
