#pragma once
// A small trained classifier for defense tests: a model trained a few epochs on 256 synthetic
// 12x12 images of 4 classes, with its data and options (for clone_model).
#include <torch/utils.h>

#include <string>

#include "core/data/synthetic.h"
#include "core/models/classifier.h"
#include "core/training/trainer.h"
#include "distributed/single_process_group.h"

namespace pbe::testing {

struct TrainedModel {
  TrainTest data;
  ModelOptions model_options;
  Classifier model;
};

inline TrainedModel trained_model(const std::string& name = "small-cnn", int width = 8, int epochs = 2) {
  TrainedModel s;
  SyntheticOptions so;
  so.size = 12;
  so.train_size = 256;
  s.data = make_synthetic(so);
  s.model_options.name = name;
  s.model_options.image_size = 12;
  s.model_options.num_classes = 4;
  s.model_options.width = width;
  torch::manual_seed(3);
  s.model = make_model(s.model_options);
  TrainOptions t;
  t.epochs = epochs;
  t.batch_size = 32;
  SingleProcessGroup group;
  train_classifier(*s.model, s.data.train, t, group);
  return s;
}

}  // namespace pbe::testing
