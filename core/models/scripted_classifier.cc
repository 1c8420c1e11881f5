#include "core/models/scripted_classifier.h"

#include <caffe2/serialize/inline_container.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "util/atomic_file.h"
#include "util/file_env.h"
#include "util/memory.h"

namespace pbe {
namespace {

std::string torch_name(std::string name) {
  std::replace(name.begin(), name.end(), '.', '/');
  return name;
}

// The line of an exception's text that says what went wrong: TorchScript's interpreter puts it
// last, after its traceback; c10 puts a C++ backtrace after it.
std::string key_line(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error ? c10_error->what_without_backtrace() : e.what();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  const auto traceback = text.find("Traceback of TorchScript");
  if (traceback != std::string::npos) return text.substr(text.rfind('\n') + 1);
  return text.substr(0, text.find('\n'));
}

}  // namespace

ScriptedClassifierImpl::ScriptedClassifierImpl(torch::jit::Module module) : module_(std::move(module)) {
  for (const auto& p : module_.named_parameters(/*recurse=*/true))
    register_parameter(torch_name(p.name), p.value, p.value.requires_grad());
  for (const auto& b : module_.named_buffers(/*recurse=*/true)) register_buffer(torch_name(b.name), b.value);
  has_feature_methods_ = module_.find_method("features").has_value() && module_.find_method("head").has_value();
  train(module_.is_training());
}

torch::Tensor ScriptedClassifierImpl::features(const torch::Tensor& images) {
  if (has_feature_methods_) return module_.get_method("features")({images}).toTensor();
  return module_.forward({images}).toTensor();
}

torch::Tensor ScriptedClassifierImpl::head(const torch::Tensor& features) {
  if (has_feature_methods_) return module_.get_method("head")({features}).toTensor();
  return features;
}

ClassifierImpl::LinearHead ScriptedClassifierImpl::linear_head() {
  LinearHead head;
  const auto params = named_parameters(/*recurse=*/false);
  for (const auto& p : params) {
    const std::string& name = p.key();
    const auto suffix = name.rfind("/weight");
    if (p.value().dim() != 2 || suffix == std::string::npos || suffix + 7 != name.size()) continue;
    const auto* bias = params.find(name.substr(0, suffix) + "/bias");
    if (bias && bias->dim() == 1 && bias->size(0) == p.value().size(0)) head = {p.value(), *bias};
  }
  return head;
}

void ScriptedClassifierImpl::train(bool on) {
  ClassifierImpl::train(on);
  module_.train(on);
}

std::shared_ptr<ClassifierImpl> ScriptedClassifierImpl::replicate() {
  // Cloned with autograd on, a parameter that requires grad comes back as the output of a clone
  // op, not a leaf, and no optimiser takes it; cloned without, it is a leaf that then gets the
  // original's requires_grad.
  torch::jit::Module module;
  {
    torch::NoGradGuard no_grad;
    module = module_.clone();
  }
  const auto originals = module_.named_parameters(/*recurse=*/true);
  auto original = originals.begin();
  for (const auto& p : module.named_parameters(/*recurse=*/true)) p.value.set_requires_grad((*original++).value.requires_grad());
  auto copy = std::make_shared<ScriptedClassifierImpl>(std::move(module));
  copy->train(is_training());
  return copy;
}

void ScriptedClassifierImpl::save(const std::string& path) {
  std::ostringstream bytes;
  module_.save(bytes);
  const std::string s = bytes.str();
  try {
    write_atomically(path, [&](const std::string& partial) { file_env().write_file(partial, s.data(), s.size()); },
                     "partial");
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": cannot write the model (" + e.what() + ")");
  }
}

std::string scripted_archive_problem(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return "file not found";
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size == 0) return "empty or unreadable file";
  if (const std::string problem = memory_problem(2.0 * static_cast<double>(size), "loading it"); !problem.empty())
    return problem;
  char magic[4] = {};
  std::ifstream(path, std::ios::binary).read(magic, sizeof magic);
  if (std::memcmp(magic, "PK\x03\x04", sizeof magic) != 0)
    return "not a TorchScript model (not a zip archive, as torch.jit.save writes)";
  std::vector<std::string> records;
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);  // reads the zip's directory, runs nothing
    records = reader.getAllRecords();
  } catch (const std::exception& e) {
    return "not a TorchScript model (a damaged zip archive: " + key_line(e) + ")";
  }
  const auto has = [&](const std::string& prefix) {
    return std::any_of(records.begin(), records.end(), [&](const std::string& r) { return r.rfind(prefix, 0) == 0; });
  };
  if (has("data.pkl") && !(has("code/") && has("constants.pkl")))
    return "not a TorchScript model but torch.save's pickled objects: save it with "
           "torch.jit.script(model).save(path)";
  if (!has("data.pkl") || !has("code/") || !has("constants.pkl"))
    return "not a TorchScript model (a zip archive without data.pkl, constants.pkl and code/)";
  return "";
}

std::shared_ptr<ScriptedClassifierImpl> load_scripted_classifier(const std::string& path,
                                                                 const ImageShape& shape) {
  if (const std::string problem = scripted_archive_problem(path); !problem.empty())
    throw DataError(path + ": " + problem);
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, torch::kCPU);
  } catch (const c10::Error& e) {
    throw DataError(path + ": not a TorchScript model (" + key_line(e) + ")");
  }
  if (!module.find_method("forward"))
    throw DataError(path + ": the TorchScript module has no forward method");
  auto model = std::make_shared<ScriptedClassifierImpl>(std::move(module));
  const auto params = model->parameters();
  if (std::none_of(params.begin(), params.end(), [](const at::Tensor& p) { return p.requires_grad(); }))
    throw DataError(path + ": the model has no parameters that require grad, so it cannot be fine-tuned");

  const std::string expected = "[N, " + std::to_string(shape.num_classes) + "]";
  const std::string input = "[2, " + std::to_string(shape.channels) + ", " + std::to_string(shape.height) +
                            ", " + std::to_string(shape.width) + "]";
  at::Tensor logits;
  try {
    torch::NoGradGuard no_grad;
    FrozenModel frozen(*model);
    logits = model->forward(torch::rand({2, shape.channels, shape.height, shape.width}));
  } catch (const std::exception& e) {
    throw DataError(path + ": the model cannot take the data's images " + input + ": " +
                    key_line(e));
  }
  if (logits.dim() != 2 || logits.size(0) != 2 || logits.size(1) != shape.num_classes)
    throw DataError(path + ": the model maps " + input + " images to shape " + c10::str(logits.sizes()) +
                    ", the data needs logits " + expected);
  if (!logits.is_floating_point() || !torch::isfinite(logits).all().item<bool>())
    throw DataError(path + ": the model's logits are not finite floats");
  return model;
}

}  // namespace pbe
