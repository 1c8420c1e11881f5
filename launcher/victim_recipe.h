#pragma once
// What determines a cell's victim - its weights, its attack's state and its training curve - as
// text: one "name: value" line per input, in a fixed order. Its SHA-256 is the victim's key in
// the model store (core/training/model_store.h), and the text is stored beside the entry, so
// `pbe_dist models show` says what made a model. A new input to victim training belongs here;
// tests/launcher/test_victim_recipe.cc changes each kind of input and expects another key.
#include <string>

#include "core/data/dataset.h"
#include "core/models/classifier.h"
#include "launcher/spec.h"

namespace pbe {

// The compute a victim's numbers depend on besides the spec: ranks training it together, their
// intra-op threads.
struct RecipeCompute {
  int group_size = 1;
  int threads = 1;
};

// SHA-256 of the training set's images and labels, then the curves' test subset's.
std::string data_digest(const Dataset& train, const Dataset& curve_test);

std::string victim_recipe(const ExperimentSpec& spec, const AttackEntry& attack, int seed, const ModelOptions& model,
                          const std::string& data_digest, const RecipeCompute& compute);

}  // namespace pbe
