#pragma once
// The NCCL backend of ProcessGroup, for CUDA tensors (CPU tensors go through a GPU copy). Compiled in only when the build finds CUDA
// and NCCL (-DPBE_WITH_NCCL=ON, as the presets do); otherwise make_nccl_process_group() says so.
#include <mpi.h>

#include <memory>

#include "distributed/process_group.h"

namespace pbe {

// A process group over `comm`'s ranks on GPU `device`: NCCL's unique id comes from the group's
// first rank over MPI, each rank joins with its own device. Collectives run on the group's own
// CUDA stream, ordered after the work already queued on the default stream and before what comes
// next there (CUDA events), so callers need no synchronisation. A failing NCCL call aborts the
// communicator and throws DistributedError naming the call and NCCL's message.
// DistributedError when NCCL is not compiled in or `device` does not exist.
std::unique_ptr<ProcessGroup> make_nccl_process_group(MPI_Comm comm, int device);

// Whether this build has the NCCL backend.
bool nccl_compiled_in();

}  // namespace pbe
