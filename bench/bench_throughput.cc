// PreAct-ResNet-18 on 3x32x32 as the project runs it: the training step (train_classifier: SGD
// with momentum and weight decay, one global batch per step, batches cut from uint8 images in
// host memory) and PGD-7 at PBE's eps (pgd_sharded: batches in, adversarial examples back in host
// memory), per batch size and compute mode, on the CPU or a GPU.
// bench/throughput_reference.py times the same model and steps in PyTorch (Python), and
// bench/throughput.sh runs both and prints each figure as a ratio against PyTorch's.
//
// usage: pbe_bench_throughput [--device cpu|cuda] [--width 64] [--batches 128,512]
//            [--modes fp32,tf32,bf16+cl] [--steps 8] [--threads 0] [Google Benchmark flags]
// A mode is a precision (fp32: IEEE float32; tf32: float32 on TF32 tensor cores; bf16: autocast)
// with "+cl" for channels-last weights. Each benchmark iteration is `steps` batches.
#include <benchmark/benchmark.h>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/adversarial/pgd.h"
#include "core/data/dataset.h"
#include "core/models/autocast.h"
#include "core/models/classifier.h"
#include "core/training/trainer.h"
#include "distributed/single_process_group.h"

namespace {

struct Settings {
  std::string device = "cpu";
  int width = 64;
  std::vector<int64_t> batches{128, 512};
  std::vector<std::string> modes{"fp32", "tf32", "bf16+cl"};
  int64_t steps = 8;
  int threads = 0;
};

struct Mode {
  std::string precision;  // fp32 | tf32 | bf16
  bool channels_last = false;
};

Mode parse_mode(const std::string& s) {
  Mode m{s, false};
  if (const auto plus = s.find('+'); plus != std::string::npos) {
    if (s.substr(plus) != "+cl") throw std::invalid_argument("mode '" + s + "': only +cl may follow the precision");
    m = {s.substr(0, plus), true};
  }
  if (m.precision != "fp32" && m.precision != "tf32" && m.precision != "bf16")
    throw std::invalid_argument("mode '" + s + "': the precision is fp32, tf32 or bf16");
  return m;
}

template <typename T>
std::vector<T> split(const std::string& list, T (*convert)(const std::string&)) {
  std::vector<T> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) out.push_back(convert(item));
  return out;
}

// Takes this benchmark's own flags out of argv (Google Benchmark reads the rest).
Settings parse_settings(int& argc, char** argv) {
  Settings s;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--device") s.device = value();
    else if (flag == "--width") s.width = std::stoi(value());
    else if (flag == "--batches") s.batches = split<int64_t>(value(), [](const std::string& v) { return static_cast<int64_t>(std::stoll(v)); });
    else if (flag == "--modes") s.modes = split<std::string>(value(), [](const std::string& v) { return v; });
    else if (flag == "--steps") s.steps = std::stoll(value());
    else if (flag == "--threads") s.threads = std::stoi(value());
    else rest.push_back(argv[i]);
  }
  argc = static_cast<int>(rest.size());
  std::copy(rest.begin(), rest.end(), argv);
  return s;
}

torch::Device device_of(const Settings& s) {
  if (s.device == "cuda") {
    if (!torch::cuda::is_available()) throw std::invalid_argument("--device cuda: no CUDA GPU visible");
    return {torch::kCUDA, 0};
  }
  if (s.device != "cpu") throw std::invalid_argument("--device: cpu or cuda");
  return torch::kCPU;
}

pbe::Classifier preact_resnet18(const Settings& s, torch::Device device, bool channels_last) {
  torch::manual_seed(0);
  pbe::ModelOptions o;
  o.name = "preact-resnet18";
  o.in_channels = 3;
  o.image_size = 32;
  o.mean = {0.4914, 0.4822, 0.4465};
  o.std = {0.2470, 0.2435, 0.2616};
  o.width = s.width;
  o.device = device;
  o.channels_last = channels_last;
  return pbe::make_model(o);
}

pbe::Dataset random_images(int64_t n) {
  torch::manual_seed(1);
  pbe::Dataset d;
  d.name = "random";
  d.images = torch::randint(256, {n, 3, 32, 32}, torch::kLong).to(torch::kByte);
  d.labels = torch::randint(10, {n}, torch::kLong);
  d.num_classes = 10;
  return d;
}

void wait_for(torch::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

// One iteration: an epoch of `steps` training steps.
void train(benchmark::State& state, const Settings& s, torch::Device device, int64_t batch, const Mode& mode) {
  auto model = preact_resnet18(s, device, mode.channels_last);
  const auto data = random_images(batch * s.steps);
  pbe::TrainOptions o;
  o.epochs = 1;
  o.batch_size = batch;
  o.eval_every = 0;
  o.augmentation = {};
  pbe::SingleProcessGroup group;
  pbe::set_cuda_tf32(mode.precision == "tf32");
  pbe::BFloat16Autocast autocast(device.type(), mode.precision == "bf16");
  for (auto _ : state) {
    pbe::train_classifier(*model, data, o, group);
    wait_for(device);
  }
  state.SetItemsProcessed(state.iterations() * data.size());
}

// One iteration: PGD-7 over `steps` batches.
void pgd(benchmark::State& state, const Settings& s, torch::Device device, int64_t batch, const Mode& mode) {
  auto model = preact_resnet18(s, device, mode.channels_last);
  model->eval();
  const auto data = random_images(batch * s.steps);
  const auto indices = torch::arange(data.size());
  pbe::PgdOptions o = pbe::pbe_pgd_options();  // eps 6/255, 7 steps
  pbe::SingleProcessGroup group;
  pbe::set_cuda_tf32(mode.precision == "tf32");
  pbe::BFloat16Autocast autocast(device.type(), mode.precision == "bf16");
  for (auto _ : state) {
    benchmark::DoNotOptimize(pbe::pgd_sharded(*model, data, indices, data.labels, o, group, 0, batch).data_ptr());
    wait_for(device);
  }
  state.SetItemsProcessed(state.iterations() * data.size());
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  torch::Device device = torch::kCPU;
  try {
    s = parse_settings(argc, argv);
    device = device_of(s);
    for (const auto& m : s.modes) parse_mode(m);
  } catch (const std::exception& e) {
    std::cerr << "pbe_bench_throughput: " << e.what() << "\n";
    return 2;
  }
  if (s.threads > 0) torch::set_num_threads(s.threads);
  for (const auto& name : s.modes) {
    const Mode mode = parse_mode(name);
    for (int64_t batch : s.batches) {
      const std::string suffix = "/batch:" + std::to_string(batch) + "/" + name;
      benchmark::RegisterBenchmark(("train" + suffix).c_str(),
                                   [=](benchmark::State& st) { train(st, s, device, batch, mode); })
          ->UseRealTime()->Unit(benchmark::kMillisecond)->MinWarmUpTime(1.0);
      benchmark::RegisterBenchmark(("pgd7" + suffix).c_str(),
                                   [=](benchmark::State& st) { pgd(st, s, device, batch, mode); })
          ->UseRealTime()->Unit(benchmark::kMillisecond)->MinWarmUpTime(1.0);
    }
  }
  benchmark::AddCustomContext("device", device.str());
  benchmark::AddCustomContext("libtorch", TORCH_VERSION);
  benchmark::AddCustomContext("threads", std::to_string(torch::get_num_threads()));
  benchmark::AddCustomContext("width", std::to_string(s.width));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
