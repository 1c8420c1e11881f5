// Checkpoint files: what goes in comes back; a truncated, corrupt or foreign file is refused with
// its problem named. A training interrupted after an epoch and run again from its checkpoint
// ends with the weights and curve of an uninterrupted one; so does Input-aware's own training of
// the victim and its generators.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "core/attacks/input_aware.h"
#include "core/data/synthetic.h"
#include "core/models/classifier.h"
#include "core/training/checkpoint.h"
#include "core/training/trainer.h"
#include "distributed/single_process_group.h"
#include "tests/failing_file_env.h"
#include "tests/temp_dir_test.h"

using namespace pbe;
namespace fs = std::filesystem;

namespace {

class CheckpointTest : public pbe::testing::TempDirTest {
 protected:
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
};

TEST_F(CheckpointTest, RoundTripKeepsNamesOrderAndValues) {
  const NamedTensors saved{{"z/weights", torch::rand({3, 4})},
                           {"a/count", torch::tensor({7, 8}, torch::kLong)},
                           {"bytes", torch::tensor({1, 2, 255}, torch::kByte)}};
  save_checkpoint(path("sub/c.pt"), saved);
  std::string problem;
  auto loaded = load_checkpoint(path("sub/c.pt"), problem);
  ASSERT_TRUE(loaded) << problem;
  ASSERT_EQ(loaded->size(), saved.size());
  for (size_t i = 0; i < saved.size(); ++i) {
    EXPECT_EQ((*loaded)[i].first, saved[i].first);
    EXPECT_TRUE(torch::equal((*loaded)[i].second, saved[i].second));
  }
  EXPECT_TRUE(torch::equal(checkpoint_tensor(*loaded, "a/count", "c.pt"), saved[1].second));
  EXPECT_THROW(checkpoint_tensor(*loaded, "missing", "c.pt"), std::runtime_error);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "sub"), fs::directory_iterator()), 1) << "no temporary left";
}

TEST_F(CheckpointTest, TruncatedCorruptAndForeignFilesAreRefused) {
  save_checkpoint(path("c.pt"), {{"w", torch::rand({64})}});
  const auto size = fs::file_size(path("c.pt"));
  std::string problem;
  EXPECT_FALSE(load_checkpoint(path("none.pt"), problem));
  EXPECT_EQ(problem, "no checkpoint");

  fs::copy_file(path("c.pt"), path("cut.pt"));
  fs::resize_file(path("cut.pt"), size - 10);
  EXPECT_FALSE(load_checkpoint(path("cut.pt"), problem));
  EXPECT_EQ(problem.rfind("truncated", 0), 0u) << problem;

  fs::copy_file(path("c.pt"), path("flip.pt"));
  {
    std::fstream f(path("flip.pt"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size - 40));
    char c = 0;
    f.read(&c, 1);
    f.seekp(static_cast<std::streamoff>(size - 40));
    c = static_cast<char>(c ^ 0x5a);
    f.write(&c, 1);
  }
  EXPECT_FALSE(load_checkpoint(path("flip.pt"), problem));
  EXPECT_EQ(problem, "checksum mismatch (corrupt)");

  std::ofstream(path("text.pt")) << "hello";
  EXPECT_FALSE(load_checkpoint(path("text.pt"), problem));
  EXPECT_NE(problem.find("not a pbe-dist checkpoint"), std::string::npos);
}

// A checkpoint that meets a full disk: the error names the checkpoint and the reason; the previous
// checkpoint still loads, and no torn temporary is left next to it.
TEST_F(CheckpointTest, AWriteThatRunsOutOfSpaceLeavesThePreviousCheckpoint) {
  const NamedTensors first{{"w", torch::rand({256})}};
  save_checkpoint(path("c.pt"), first);
  {
    pbe::testing::FailingFileEnv env(pbe::testing::FailingFileEnv::Call::kWrite, path("c.pt"));
    try {
      save_checkpoint(path("c.pt"), {{"w", torch::rand({256})}});
      FAIL() << "no error";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(path("c.pt") + ": cannot write the checkpoint (", 0), 0u) << e.what();
      EXPECT_NE(std::string(e.what()).find("No space left on device"), std::string::npos) << e.what();
    }
    EXPECT_EQ(env.failures(), 1);
  }
  std::string problem;
  auto loaded = load_checkpoint(path("c.pt"), problem);
  ASSERT_TRUE(loaded) << problem;
  EXPECT_TRUE(torch::equal(checkpoint_tensor(*loaded, "w", "c.pt"), first[0].second));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1) << "a temporary was left";
}

// fuzz/checkpoint.cc's finding: a checkpoint (with a valid header and CRC) whose 'curve' tensor is
// a view reaching past its storage (sizes, strides and offset come from the pickle), which
// load_curve_state then read out of bounds. Such a checkpoint is now corrupt, reported, and never
// handed on. The file is the fuzzer's input, kept in tests/core/data.
TEST_F(CheckpointTest, ATensorViewOutsideItsStorageIsACorruptCheckpoint) {
  std::string problem;
  EXPECT_FALSE(load_checkpoint(std::string(PBE_SOURCE_DIR) + "/tests/core/data/view-outside-storage.pt", problem));
  EXPECT_EQ(problem, "corrupt: tensor 'curve' lies outside its data");
}

// A checkpoint that passes its checksum but was written for another model (a changed width, a
// newer version of a model) is refused with the tensor and both shapes named, before anything
// is copied: the model keeps its own weights.
TEST_F(CheckpointTest, AModelStateOfAnotherShapeOrTypeIsRefusedAndTheModelKeepsItsWeights) {
  torch::manual_seed(0);
  torch::nn::Linear saved_model(3, 2), model(4, 2);
  save_checkpoint(path("c.pt"), model_state(*saved_model));
  std::string problem;
  const auto state = load_checkpoint(path("c.pt"), problem);
  ASSERT_TRUE(state) << problem;
  const at::Tensor before = model->weight.clone();
  try {
    load_model_state(*model, *state, "c.pt");
    FAIL() << "a [2, 3] weight was loaded into a [2, 4] one";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "c.pt: checkpoint's 'model/weight' is Float [2, 3], the model's Float [2, 4]");
  }
  EXPECT_TRUE(torch::equal(model->weight, before));

  torch::nn::Linear same_shape(3, 2);
  const at::Tensor weight_before = same_shape->weight.clone();
  ASSERT_FALSE(torch::equal(weight_before, saved_model->weight));
  NamedTensors doubles = *state;
  ASSERT_EQ(doubles[1].first, "model/bias");
  doubles[1].second = doubles[1].second.to(torch::kDouble);
  EXPECT_THROW(
      try { load_model_state(*same_shape, doubles, "c.pt"); } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "c.pt: checkpoint's 'model/bias' is Double [2], the model's Float [2]");
        throw;
      },
      std::runtime_error);
  EXPECT_TRUE(torch::equal(same_shape->weight, weight_before)) << "the weight was loaded before the bias was refused";
}

// fuzz/checkpoint.cc's finding (UBSan): a curve row whose epoch does not fit an int was converted
// anyway, undefined behaviour. A curve's epochs must be whole numbers an int holds.
TEST_F(CheckpointTest, ACurveWhoseEpochIsNoWholeIntIsRefused) {
  for (const double epoch : {5.28332e+180, -1.0, 2.5, std::nan("")}) {
    at::Tensor rows = curve_state(TrainCurve(2));
    rows[1][0] = epoch;
    std::ostringstream expected;
    expected << "c.pt: checkpoint's curve has epoch " << epoch << " in row 1";
    EXPECT_THROW(
        try { load_curve_state(rows, "c.pt"); } catch (const std::runtime_error& e) {
          EXPECT_EQ(e.what(), expected.str());
          throw;
        },
        std::runtime_error)
        << epoch;
  }
}

struct Interrupt : std::runtime_error {
  Interrupt() : std::runtime_error("interrupted") {}
};

TEST_F(CheckpointTest, ATrainingResumedFromItsCheckpointEndsAsAnUninterruptedOne) {
  SyntheticOptions so;
  so.train_size = 256;
  const TrainTest data = make_synthetic(so);
  ModelOptions mo;
  mo.image_size = 12;
  mo.num_classes = 4;
  mo.width = 4;
  SingleProcessGroup group;
  TrainOptions t;
  t.epochs = 4;
  t.batch_size = 32;
  t.lr = 0.05;
  auto fresh = [&] {
    torch::manual_seed(3);
    return make_model(mo);
  };
  auto whole = fresh();
  const TrainCurve expected = train_classifier(*whole, data.train, t, group);

  t.checkpoint_path = path("train.pt");
  auto interrupted = fresh();
  // Stopped in epoch 2 (0-based), after the checkpoint of epochs 0-1.
  ProgressFn stop = [](const ProgressEvent& e) {
    if (e.epoch == 2) throw Interrupt();
  };
  EXPECT_THROW(train_classifier(*interrupted, data.train, t, group, {}, stop), Interrupt);
  ASSERT_TRUE(fs::exists(t.checkpoint_path));

  auto resumed = fresh();  // a new process: fresh weights, the checkpoint on disk
  int first_epoch_seen = -1;
  ProgressFn watch = [&](const ProgressEvent& e) {
    if (first_epoch_seen < 0) first_epoch_seen = e.epoch;
  };
  const TrainCurve curve = train_classifier(*resumed, data.train, t, group, {}, watch);
  EXPECT_EQ(first_epoch_seen, 2) << "epochs 0 and 1 come from the checkpoint";
  EXPECT_FALSE(fs::exists(t.checkpoint_path)) << "removed when the training ends";
  ASSERT_EQ(curve.size(), expected.size());
  for (size_t i = 0; i < curve.size(); ++i) {
    EXPECT_EQ(curve[i].epoch, expected[i].epoch);
    EXPECT_NEAR(curve[i].loss, expected[i].loss, 1e-6);
  }
  for (size_t i = 0; i < whole->parameters().size(); ++i)
    EXPECT_TRUE(torch::allclose(resumed->parameters()[i], whole->parameters()[i], 1e-5, 1e-6)) << i;

  // A corrupt checkpoint is not used: the training starts over and still ends the same.
  std::ofstream(t.checkpoint_path) << "PBECKPT1 garbage";
  auto over = fresh();
  first_epoch_seen = -1;
  train_classifier(*over, data.train, t, group, {}, watch);
  EXPECT_EQ(first_epoch_seen, 0);
  for (size_t i = 0; i < whole->parameters().size(); ++i)
    EXPECT_TRUE(torch::allclose(over->parameters()[i], whole->parameters()[i], 1e-5, 1e-6)) << i;
}

TEST_F(CheckpointTest, AnInputAwareInfectionResumedFromItsCheckpointEndsAsAnUninterruptedOne) {
  SyntheticOptions so;
  so.size = 16;
  so.train_size = 128;
  const TrainTest data = make_synthetic(so);
  const ImageShape shape = data.train.shape();
  ModelOptions mo;
  mo.in_channels = static_cast<int>(shape.channels);
  mo.image_size = static_cast<int>(shape.height);
  mo.num_classes = shape.num_classes;
  mo.width = 4;
  InputAwareOptions ia;
  ia.mask_epochs = 1;
  ia.train_epochs = 3;
  ia.generator_width = 4;
  SingleProcessGroup group;
  TrainOptions t;
  t.batch_size = 32;
  t.lr = 0.05;
  struct Run {
    std::unique_ptr<InputAware> attack;
    Classifier model;
    TrainCurve curve;
  };
  const auto infect = [&](const TrainOptions& options, const ProgressFn& progress) {
    Run run{std::make_unique<InputAware>(ia, shape), nullptr, {}};
    torch::manual_seed(3);
    run.model = make_model(mo);
    run.curve = run.attack->infect(*run.model, AttackContext{data.train, mo, options, group, 7, {}, progress}).curve;
    return run;
  };
  const Run whole = infect(t, {});

  t.checkpoint_path = path("victim.train.pt");
  ProgressFn stop = [](const ProgressEvent& e) {
    if (e.phase == "input-aware" && e.epoch == 2) throw Interrupt();
  };
  EXPECT_THROW(infect(t, stop), Interrupt);
  ASSERT_TRUE(fs::exists(t.checkpoint_path)) << "written after the mask and after joint epochs 0 and 1";

  std::vector<ProgressEvent> events;
  const Run resumed = infect(t, [&](const ProgressEvent& e) { events.push_back(e); });
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().phase, "input-aware") << "the mask generator is not trained again";
  EXPECT_EQ(events.front().epoch, 2);
  EXPECT_EQ(events.front().resumed_images, 128 * (ia.mask_epochs + 2));
  EXPECT_FALSE(fs::exists(t.checkpoint_path)) << "removed when the training ends";
  ASSERT_EQ(resumed.curve.size(), whole.curve.size());
  for (size_t i = 0; i < whole.curve.size(); ++i) {
    EXPECT_EQ(resumed.curve[i].epoch, whole.curve[i].epoch);
    EXPECT_NEAR(resumed.curve[i].loss, whole.curve[i].loss, 1e-6) << i;
  }
  for (size_t i = 0; i < whole.model->parameters().size(); ++i)
    EXPECT_TRUE(torch::allclose(resumed.model->parameters()[i], whole.model->parameters()[i], 1e-5, 1e-6)) << i;
  const auto x = data.test.images.narrow(0, 0, 16).to(torch::kFloat).div(255);
  EXPECT_TRUE(torch::allclose(resumed.attack->apply_trigger(x), whole.attack->apply_trigger(x), 1e-5, 1e-6))
      << "the generators are the uninterrupted run's";
}

}  // namespace
