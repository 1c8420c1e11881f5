#pragma once
#include <torch/script.h>

#include <string>

#include "core/data/dataset.h"
#include "core/models/classifier.h"

namespace pbe {

// A classifier the user brings as TorchScript (torch.jit.trace or torch.jit.script in PyTorch):
// forward(images in [0, 1], [N, C, H, W]) -> logits [N, classes]. Nothing about its architecture
// is assumed. Its parameters and buffers are registered here under their TorchScript names
// ('.' replaced by '/'), sharing storage, so the trainer, the optimisers and the collectives
// update the scripted module itself. train()/eval() reach the scripted module too (dropout,
// batch norm).
// features()/head(): the module's own `features` and `head` methods when it has both; otherwise
// features() are the logits and head() is the identity (probes then measure logit space).
class ScriptedClassifierImpl final : public ClassifierImpl {
 public:
  explicit ScriptedClassifierImpl(torch::jit::Module module);
  torch::Tensor features(const torch::Tensor& images) override;
  torch::Tensor head(const torch::Tensor& features) override;
  void train(bool on = true) override;
  // The module's last 2-D parameter <prefix>.weight with its <prefix>.bias of as many rows, in
  // registration order: a classifier's final linear layer; undefined when there is none.
  LinearHead linear_head() override;
  std::shared_ptr<ClassifierImpl> replicate() override;
  bool has_feature_methods() const { return has_feature_methods_; }
  // Writes the module (with the current weights) as TorchScript, loadable by torch.jit.load; an
  // existing file is replaced whole or not at all (util/atomic_file.h). std::runtime_error
  // "<path>: cannot write the model (...)" when the file system fails (a full disk).
  void save(const std::string& path);

 private:
  torch::jit::Module module_;
  bool has_feature_methods_ = false;
};

// What keeps `path` from being loaded as TorchScript, found without loading it (loading runs the
// model's code, so a model file is trusted input): a missing, empty or larger-than-memory file, not
// a zip archive, a damaged one, or one without TorchScript's records (data.pkl, constants.pkl,
// code/), such as torch.save's. "" when none.
std::string scripted_archive_problem(const std::string& path);

// Loads `path` and checks, before any work, that it can serve as a classifier for images of
// `shape`: scripted_archive_problem() first, then it loads as TorchScript, has parameters
// requiring grad, and maps a [2, C, H, W] batch to finite [2, num_classes] float logits.
// DataError "<path>: <problem>" otherwise.
std::shared_ptr<ScriptedClassifierImpl> load_scripted_classifier(const std::string& path,
                                                                 const ImageShape& shape);

}  // namespace pbe
