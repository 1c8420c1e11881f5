#pragma once
// Checkpoints: named tensors on disk that a resumed run takes back (pbe_dist run --resume).
// A checkpoint file is "PBECKPT1", the payload's byte count and CRC-32 (little-endian uint64,
// uint32), then the payload (torch::pickle_save of a dict name -> CPU tensor). It is written to a
// temporary file, fsynced and renamed into place, so a kill leaves the old checkpoint or the new
// one. A missing, truncated or corrupt file is reported, never loaded.
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "core/named_tensors.h"
#include "core/training/trainer.h"
#include "distributed/process_group.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pbe {


// A checkpoint file's bytes around `payload`: the header (magic, byte count, CRC-32), then it.
std::vector<char> checkpoint_bytes(const std::vector<char>& payload);

// Writes `tensors` (copied to the CPU) to `path`, creating its directory. Throws std::runtime_error
// (an I/O failure is not a cell's scientific failure: the job ends).
void save_checkpoint(const std::string& path, const NamedTensors& tensors);

// The tensors saved at `path`, in their order; std::nullopt with `problem` set ("no checkpoint",
// "truncated: ...", "checksum mismatch ...") when it cannot be used.
std::optional<NamedTensors> load_checkpoint(const std::string& path, std::string& problem);

// Loads `path` on every rank of `group` and agrees: the tensors when every rank read the same
// checkpoint (its CRC), else std::nullopt on every rank with this rank's `problem` (or "another
// rank read another version" when the file changed between the reads). Collective.
std::optional<NamedTensors> load_checkpoint_on_all(const std::string& path, ProcessGroup& group, std::string& problem);

// The tensor named `name`; std::runtime_error naming `path` when it is absent.
const at::Tensor& checkpoint_tensor(const NamedTensors& tensors, const std::string& name, const std::string& path);

// A module's parameters and buffers as "<prefix><name>" entries, and back (std::runtime_error
// naming `path` and the tensor when one is missing or differs in shape or dtype; the model is
// then left as it was).
NamedTensors model_state(torch::nn::Module& model, const std::string& prefix = "model/");
void load_model_state(torch::nn::Module& model, const NamedTensors& tensors, const std::string& path,
                      const std::string& prefix = "model/");

// The rest of a training's state, for the loops that checkpoint every epoch (train_classifier,
// Input-aware's joint training): an optimiser's state as one byte tensor, and a curve as one
// double tensor [epochs, 7], and back. Loading throws std::runtime_error naming `path`.
at::Tensor optimizer_state(torch::optim::Optimizer& optimizer);
void load_optimizer_state(torch::optim::Optimizer& optimizer, const at::Tensor& bytes, torch::Device device,
                          const std::string& path);
at::Tensor curve_state(const TrainCurve& curve);
TrainCurve load_curve_state(const at::Tensor& rows, const std::string& path);

}  // namespace pbe
