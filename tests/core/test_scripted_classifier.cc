// A user's TorchScript classifier: loaded with checks, trained in place, saved and reloaded.
#include <gtest/gtest.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "core/data/synthetic.h"
#include "core/defenses/pbe.h"
#include "core/errors.h"
#include "core/models/scripted_classifier.h"
#include "core/training/trainer.h"
#include "distributed/single_process_group.h"
#include "tests/temp_dir_test.h"
#include "tests/tools/scripted_models.h"

using namespace pbe;
using pbe::testing::ScriptedNetOptions;

namespace {

class ScriptedClassifierTest : public pbe::testing::TempDirTest {
 protected:
  std::string save(const torch::jit::Module& m, const std::string& name) {
    const auto path = (dir_ / name).string();
    m.save(path);
    return path;
  }
  static std::string error_of(const std::string& path, const ImageShape& shape = {1, 28, 28, 10}) {
    try {
      load_scripted_classifier(path, shape);
    } catch (const DataError& e) {
      return e.what();
    }
    return "no error";
  }
};

TEST_F(ScriptedClassifierTest, ComputesWhatTheScriptedModuleComputes) {
  auto module = pbe::testing::make_scripted_net({});
  auto model = load_scripted_classifier(save(module, "m.pt"), {1, 28, 28, 10});
  auto x = torch::rand({4, 1, 28, 28});
  torch::NoGradGuard no_grad;
  model->eval();
  module.eval();
  EXPECT_TRUE(torch::allclose(model->forward(x), module.forward({x}).toTensor()));
  // Parameters (submodule names included, '.' -> '/') and the buffer are registered.
  auto names = model->named_parameters().keys();
  EXPECT_NE(std::find(names.begin(), names.end(), "body/conv/weight"), names.end());
  EXPECT_EQ(model->named_buffers().size(), 1u);
  EXPECT_FALSE(model->has_feature_methods());
}

TEST_F(ScriptedClassifierTest, UsesTheModulesFeatureMethodsWhenItHasThem) {
  ScriptedNetOptions o;
  o.feature_methods = true;
  auto model = load_scripted_classifier(save(pbe::testing::make_scripted_net(o), "f.pt"), {1, 28, 28, 10});
  ASSERT_TRUE(model->has_feature_methods());
  torch::NoGradGuard no_grad;
  model->eval();
  auto x = torch::rand({3, 1, 28, 28});
  EXPECT_EQ(model->features(x).sizes(), (std::vector<int64_t>{3, 8 * 14 * 14}));
  EXPECT_TRUE(torch::allclose(model->head(model->features(x)), model->forward(x)));
}

TEST_F(ScriptedClassifierTest, TrainAndEvalReachTheScriptedModule) {
  ScriptedNetOptions o;
  o.dropout = true;
  auto model = load_scripted_classifier(save(pbe::testing::make_scripted_net(o), "d.pt"), {1, 28, 28, 10});
  torch::NoGradGuard no_grad;
  auto x = torch::rand({8, 1, 28, 28});
  model->eval();
  EXPECT_TRUE(torch::equal(model->forward(x), model->forward(x)));
  model->train();
  EXPECT_FALSE(torch::equal(model->forward(x), model->forward(x)));  // dropout is active
}

TEST_F(ScriptedClassifierTest, TrainingUpdatesTheModuleAndSavedWeightsReloadExactly) {
  SyntheticOptions s;
  s.size = 28;
  s.num_classes = 10;
  TrainTest data = make_synthetic(s);
  auto model = load_scripted_classifier(save(pbe::testing::make_scripted_net({}), "m.pt"), {1, 28, 28, 10});
  torch::NoGradGuard no_grad_outside;
  model->eval();
  auto before = model->forward(to_float(data.test.images));
  TrainOptions t;
  t.epochs = 3;
  t.batch_size = 64;
  t.lr = 0.05;
  SingleProcessGroup group;
  {
    torch::GradMode::set_enabled(true);
    train_classifier(*model, data.train, t, group);
    torch::GradMode::set_enabled(false);
  }
  model->eval();
  auto after = model->forward(to_float(data.test.images));
  EXPECT_FALSE(torch::allclose(before, after));
  const double acc = after.argmax(1).eq(data.test.labels).to(torch::kDouble).mean().item<double>();
  EXPECT_GT(acc, 0.5) << "training the scripted model through the registered parameters works";

  const auto out = (dir_ / "purified.pt").string();
  model->save(out);
  auto reloaded = load_scripted_classifier(out, {1, 28, 28, 10});
  reloaded->eval();
  EXPECT_TRUE(torch::equal(reloaded->forward(to_float(data.test.images)), after));
}

// What MCR and NAD do with a model: a replica trains on its own (its parameters are leaves an
// optimiser takes; `purify --method mcr` died with "can't optimize a non-leaf Tensor") and leaves
// the original as it was.
TEST_F(ScriptedClassifierTest, AReplicaTrainsApartFromTheOriginal) {
  SyntheticOptions s;
  s.size = 28;
  s.num_classes = 10;
  s.train_size = 128;
  TrainTest data = make_synthetic(s);
  auto model = load_scripted_classifier(save(pbe::testing::make_scripted_net({}), "m.pt"), {1, 28, 28, 10});
  auto replica = model->replicate();
  const auto originals = model->parameters();
  const auto copies = replica->parameters();
  ASSERT_EQ(copies.size(), originals.size());
  for (size_t i = 0; i < copies.size(); ++i) {
    EXPECT_TRUE(copies[i].is_leaf()) << i;
    EXPECT_EQ(copies[i].requires_grad(), originals[i].requires_grad()) << i;
    EXPECT_TRUE(torch::equal(copies[i], originals[i])) << i;
    EXPECT_NE(copies[i].data_ptr(), originals[i].data_ptr()) << i;
  }
  std::vector<at::Tensor> before;
  for (const auto& p : originals) before.push_back(p.detach().clone());
  TrainOptions t;
  t.epochs = 1;
  t.batch_size = 64;
  SingleProcessGroup group;
  train_classifier(*replica, data.train, t, group);
  EXPECT_FALSE(torch::equal(replica->parameters()[0], before[0])) << "the replica trained";
  for (size_t i = 0; i < originals.size(); ++i) EXPECT_TRUE(torch::equal(originals[i], before[i])) << i;
}

// Loading a TorchScript model runs its code, so what can be checked without loading it is
// checked first: a zip archive, undamaged, with TorchScript's records.
TEST_F(ScriptedClassifierTest, ArchivesThatAreNotTorchScriptAreRefusedBeforeLoading) {
  const auto model = save(pbe::testing::make_scripted_net({}), "model.pt");
  EXPECT_EQ(scripted_archive_problem(model), "");

  const auto empty = (dir_ / "empty.pt").string();
  std::ofstream(empty).close();
  EXPECT_EQ(scripted_archive_problem(empty), "empty or unreadable file");

  const auto cut = (dir_ / "cut.pt").string();
  std::filesystem::copy_file(model, cut);
  std::filesystem::resize_file(cut, std::filesystem::file_size(model) / 2);
  EXPECT_EQ(scripted_archive_problem(cut).rfind("not a TorchScript model (a damaged zip archive: ", 0), 0u)
      << scripted_archive_problem(cut);

  // What torch.save writes: a zip with the pickled objects, without TorchScript's code.
  const auto pickled = (dir_ / "weights.pt").string();
  {
    caffe2::serialize::PyTorchStreamWriter writer(pickled);
    const std::string pickle = "\x80\x02}q\x00.";
    writer.writeRecord("data.pkl", pickle.data(), pickle.size());
    writer.writeEndOfFile();
  }
  EXPECT_EQ(scripted_archive_problem(pickled).rfind("not a TorchScript model but torch.save's pickled objects", 0), 0u)
      << scripted_archive_problem(pickled);
  EXPECT_NE(error_of(pickled).find(pickled + ": not a TorchScript model but torch.save's"), std::string::npos)
      << error_of(pickled);
}

TEST_F(ScriptedClassifierTest, RejectsWhatCannotBePurified) {
  const auto garbage = (dir_ / "garbage.pt").string();
  std::ofstream(garbage) << "not a model";
  EXPECT_NE(error_of(garbage).find(garbage + ": not a TorchScript model"), std::string::npos) << error_of(garbage);
  EXPECT_NE(error_of((dir_ / "missing.pt").string()).find("missing.pt: file not found"), std::string::npos);

  const auto frozen = save(pbe::testing::make_frozen_net({}), "frozen.pt");
  EXPECT_NE(error_of(frozen).find(frozen + ": the model has no parameters that require grad"), std::string::npos)
      << error_of(frozen);

  ScriptedNetOptions five;
  five.classes = 5;
  const auto wrong_classes = save(pbe::testing::make_scripted_net(five), "five.pt");
  EXPECT_NE(error_of(wrong_classes).find("to shape [2, 5], the data needs logits [N, 10]"), std::string::npos)
      << error_of(wrong_classes);

  ScriptedNetOptions rgb;
  rgb.channels = 3;
  const auto wrong_channels = save(pbe::testing::make_scripted_net(rgb), "rgb.pt");
  const auto message = error_of(wrong_channels);
  EXPECT_NE(message.find(wrong_channels + ": the model cannot take the data's images [2, 1, 28, 28]"),
            std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
}

}  // namespace
