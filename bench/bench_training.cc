// Throughput of the training and evaluation steps the matrix spends its time in.
// Baselines: 1 intra-op thread (threads/2 is compared with it), the un-synchronised step
// (the SingleProcessGroup path; the flat-buffer gradient packing is compared with it) and NCHW
// convolution weights (the spec's channels_last: true is compared with it, for training and PGD).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "core/adversarial/pgd.h"
#include "core/data/dataset.h"
#include "core/metrics/evaluation.h"
#include "core/models/classifier.h"
#include "distributed/single_process_group.h"

namespace {

pbe::Classifier fmnist_cnn(bool channels_last = false) {
  torch::manual_seed(0);
  pbe::ModelOptions o;  // small-cnn on 1x28x28, 10 classes
  o.channels_last = channels_last;
  return pbe::make_model(o);
}

// One SGD step per iteration on the same random batch of `batch` images.
void train_steps(benchmark::State& state, const pbe::Classifier& model, int64_t batch) {
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  auto x = torch::rand({batch, 1, 28, 28});
  auto y = torch::randint(10, {batch}, torch::kLong);
  for (auto _ : state) {
    opt.zero_grad();
    torch::nn::functional::cross_entropy(model->forward(x), y).backward();
    opt.step();
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

void BM_TrainStep(benchmark::State& state) {
  torch::set_num_threads(static_cast<int>(state.range(0)));
  train_steps(state, fmnist_cnn(), 128);
}
BENCHMARK(BM_TrainStep)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();

// One rank's share of a 2-rank global batch of 128, 1 thread, by weight layout (0 NCHW, 1 NHWC).
void BM_LayoutTrainStep(benchmark::State& state) {
  torch::set_num_threads(1);
  train_steps(state, fmnist_cnn(state.range(0) != 0), 64);
}
BENCHMARK(BM_LayoutTrainStep)->Arg(0)->Arg(1)->ArgName("channels_last")->Unit(benchmark::kMillisecond)->UseRealTime();

// PBE's PGD (7 steps, eps 6/255) on the same share, by weight layout.
void BM_LayoutPgd(benchmark::State& state) {
  torch::set_num_threads(1);
  auto model = fmnist_cnn(state.range(0) != 0);
  auto x = torch::rand({64, 1, 28, 28});
  auto y = torch::randint(10, {64}, torch::kLong);
  for (auto _ : state) benchmark::DoNotOptimize(pbe::pgd(*model, x, y, pbe::pbe_pgd_options(), 0).data_ptr());
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_LayoutPgd)->Arg(0)->Arg(1)->ArgName("channels_last")->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_GradientPackUnpack(benchmark::State& state) {
  // What allreduce_gradients adds around the collective: flatten every gradient into one buffer
  // and copy it back (measured on the single-process path with the collective itself a no-op).
  torch::set_num_threads(1);
  auto model = fmnist_cnn();
  for (auto& p : model->parameters()) p.mutable_grad() = torch::randn_like(p);
  for (auto _ : state) {
    std::vector<torch::Tensor> views;
    for (auto& p : model->parameters()) views.push_back(p.grad().reshape(-1));
    auto flat = torch::cat(views);
    int64_t offset = 0;
    for (auto& p : model->parameters()) {
      p.mutable_grad().copy_(flat.narrow(0, offset, p.numel()).view_as(p));
      offset += p.numel();
    }
    benchmark::DoNotOptimize(flat.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * 128);
}
BENCHMARK(BM_GradientPackUnpack)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Predict(benchmark::State& state) {
  torch::set_num_threads(1);
  auto model = fmnist_cnn();
  pbe::SingleProcessGroup group;
  auto images = torch::randint(256, {2048, 1, 28, 28}, torch::kLong).to(torch::kByte);
  for (auto _ : state) benchmark::DoNotOptimize(pbe::predict(*model, images, group));
  state.SetItemsProcessed(state.iterations() * 2048);
}
BENCHMARK(BM_Predict)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
