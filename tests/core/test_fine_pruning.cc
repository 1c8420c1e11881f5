// Fine-Pruning's mechanism on a small trained model: the least active channels go first, and
// pruning stops at the accuracy bound.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/data/synthetic.h"
#include "core/defenses/fine_pruning.h"
#include "core/errors.h"
#include "core/metrics/evaluation.h"
#include "distributed/single_process_group.h"

using namespace pbe;

namespace {

struct Trained {
  TrainTest data;
  ModelOptions options;
  Classifier model;
};

const Trained& trained() {
  static const Trained t = [] {
    Trained r;
    SyntheticOptions so;
    so.size = 12;
    so.train_size = 400;
    r.data = make_synthetic(so);
    r.options.image_size = 12;
    r.options.num_classes = 4;
    r.options.width = 4;  // 8 channels in the last conv layer
    torch::manual_seed(3);
    r.model = make_model(r.options);
    TrainOptions t;
    t.epochs = 4;
    t.batch_size = 32;
    SingleProcessGroup group;
    train_classifier(*r.model, r.data.train, t, group);
    return r;
  }();
  return t;
}

double accuracy(ClassifierImpl& m, const Dataset& d) {
  SingleProcessGroup group;
  return clean_accuracy(m, d, group);
}

TEST(FinePruning, PrunesTheLeastActiveChannelsFirstAndStopsAtTheBound) {
  const auto& t = trained();
  SingleProcessGroup group;
  for (double bound : {0.0, 0.05, 0.3}) {
    Classifier model = clone_model(*t.model, t.options);
    const auto activation = mean_channel_activation(*model, t.data.test, group);
    FinePruningOptions o;
    o.max_acc_drop = bound;
    o.epochs = 0;  // pruning only
    DefenseContext ctx{t.data.train, t.data.test, {}, group, 1, {}, {}, {}};
    DefenseResult r = FinePruning(o).purify(*model, ctx);
    const auto mask = model->last_conv_mask();
    const int64_t pruned = mask.eq(0).sum().item<int64_t>();
    SCOPED_TRACE("bound " + std::to_string(bound) + ", pruned " + std::to_string(pruned));
    // The pruned channels are exactly the `pruned` least active ones.
    const auto order = std::get<1>(activation.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
    for (int64_t i = 0; i < mask.numel(); ++i)
      EXPECT_EQ(mask[order[i].item<int64_t>()].item<float>(), i < pruned ? 0.0f : 1.0f) << "rank " << i;
    // Within the bound; and one more channel would have broken it (unless the ratio cap stopped it).
    const double base = r.steps[1].second.front();
    EXPECT_DOUBLE_EQ(base, accuracy(*t.model, t.data.test));
    EXPECT_GE(accuracy(*model, t.data.test), (1 - bound) * base);
    const int64_t cap = static_cast<int64_t>(std::floor(0.95 * static_cast<double>(mask.numel())));
    if (pruned < cap) {
      torch::NoGradGuard no_grad;
      mask[order[pruned].item<int64_t>()] = 0.0f;
      EXPECT_LT(accuracy(*model, t.data.test), (1 - bound) * base);
    }
    // The trials are recorded: the unpruned model, then one row per channel tried.
    EXPECT_EQ(r.steps[0].first, "pruned");
    EXPECT_EQ(static_cast<int64_t>(r.steps[0].second.size()), std::min(pruned + 2, cap + 1));
  }
}

TEST(FinePruning, PrunedChannelsStayPrunedThroughFineTuningAndCopies) {
  const auto& t = trained();
  SingleProcessGroup group;
  Classifier model = clone_model(*t.model, t.options);
  FinePruningOptions o;
  o.max_acc_drop = 0.3;
  o.epochs = 2;
  DefenseContext ctx{t.data.train, t.data.test, {}, group, 1, {}, {}, {}};
  FinePruning(o).purify(*model, ctx);
  const auto mask = model->last_conv_mask();
  ASSERT_GT(mask.eq(0).sum().item<int64_t>(), 0);
  // A pruned channel is zero in the layer's output, and a copy of the model keeps the mask.
  auto maps = model->last_conv_maps(to_float(t.data.test.images.narrow(0, 0, 8)));
  const int64_t off = mask.eq(0).nonzero()[0][0].item<int64_t>();
  EXPECT_EQ(maps.select(1, off).abs().max().item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(clone_model(*model, t.options)->last_conv_mask(), mask));
}

TEST(FinePruning, RejectsBadOptionsAndModelsWithoutAConvLayer) {
  FinePruningOptions o;
  o.max_prune_ratio = 1.0;
  EXPECT_THROW(FinePruning{o}, ConfigError);
  o = {};
  o.max_acc_drop = -0.1;
  EXPECT_THROW(FinePruning{o}, ConfigError);
  struct Linear : ClassifierImpl {
    Linear() { w = register_parameter("w", torch::zeros({4, 4})); }
    torch::Tensor features(const torch::Tensor& x) override { return x.flatten(1).narrow(1, 0, 4); }
    torch::Tensor head(const torch::Tensor& f) override { return f.matmul(w); }
    torch::Tensor w;
  } model;
  const auto& t = trained();
  SingleProcessGroup group;
  DefenseContext ctx{t.data.train, t.data.test, {}, group, 1, {}, {}, {}};
  EXPECT_THROW(FinePruning(FinePruningOptions{}).purify(model, ctx), ConfigError);
}

}  // namespace
