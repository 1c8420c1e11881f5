// Built when CUDA or NCCL was not found (or PBE_WITH_NCCL is off): the backend is absent.
#include "distributed/distributed_error.h"
#include "distributed/nccl_process_group.h"

namespace pbe {

std::unique_ptr<ProcessGroup> make_nccl_process_group(MPI_Comm, int) {
  throw DistributedError("backend nccl: this pbe_dist was built without NCCL (configure with -DPBE_WITH_NCCL=ON, as the presets do)");
}

bool nccl_compiled_in() { return false; }

}  // namespace pbe
