#pragma once
// The models a spec can name. Each registers itself at the end of its own .cc,
//   PBE_REGISTER_MODEL(SmallCnn, "small-cnn", "four 3x3 convolutions ...")
// and is built from ModelOptions (core/models/classifier.h): the dataset's shape and statistics,
// the spec's width, the device.
#include <functional>
#include <memory>
#include <string>

#include "core/models/classifier.h"
#include "core/registry.h"

namespace pbe {

struct ModelPlugin {
  std::string name;     // As specs name it.
  std::string summary;  // One line: the architecture and its default width.
  std::function<Classifier(const ModelOptions&)> make;  // A freshly initialised model on the CPU.
};
using ModelRegistry = Registry<ModelPlugin>;

#define PBE_REGISTER_MODEL(Type, name, summary)                                                      \
  namespace {                                                                                       \
  const bool registered_model = ::pbe::ModelRegistry::instance().add(::pbe::ModelPlugin{            \
      name, summary, [](const ::pbe::ModelOptions& o) -> ::pbe::Classifier { return std::make_shared<Type>(o); }}); \
  }

}  // namespace pbe
