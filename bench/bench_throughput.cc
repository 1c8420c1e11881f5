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
#include "core/data/dataset_source.h"
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
  const pbe::DatasetInfo cifar10 = pbe::dataset_info("cifar10", 3);
  pbe::ModelOptions o;
  o.name = "preact-resnet18";
  o.in_channels = 3;
  o.image_size = 32;
  o.mean = cifar10.mean;
  o.std = cifar10.std;
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

// One benchmark: `step` runs over `steps` batches of random images per iteration, in the mode's
// precision and layout; the GPU is waited for at each iteration's end.
using Step = void (*)(pbe::ClassifierImpl& model, const pbe::Dataset& data, int64_t batch);
void measure(benchmark::State& state, const Settings& s, torch::Device device, int64_t batch, const Mode& mode,
             Step step) {
  auto model = preact_resnet18(s, device, mode.channels_last);
  const auto data = random_images(batch * s.steps);
  pbe::set_cuda_tf32(mode.precision == "tf32");
  pbe::BFloat16Autocast autocast(device.type(), mode.precision == "bf16");
  for (auto _ : state) {
    step(*model, data, batch);
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
  }
  state.SetItemsProcessed(state.iterations() * data.size());
}

// An epoch of training steps.
void train(pbe::ClassifierImpl& model, const pbe::Dataset& data, int64_t batch) {
  pbe::TrainOptions o;
  o.epochs = 1;
  o.batch_size = batch;
  o.eval_every = 0;
  pbe::SingleProcessGroup group;
  pbe::train_classifier(model, data, o, group);
}

// PGD-7 at PBE's eps (6/255) over every image.
void pgd(pbe::ClassifierImpl& model, const pbe::Dataset& data, int64_t batch) {
  pbe::SingleProcessGroup group;
  benchmark::DoNotOptimize(
      pbe::pgd_sharded(model, data, torch::arange(data.size()), data.labels, pbe::pbe_pgd_options(), group, 0, batch)
          .data_ptr());
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  torch::Device device = torch::kCPU;
  std::vector<Mode> modes;
  try {
    s = parse_settings(argc, argv);
    device = device_of(s);
    for (const auto& name : s.modes) modes.push_back(parse_mode(name));
  } catch (const std::exception& e) {
    std::cerr << "pbe_bench_throughput: " << e.what() << "\n";
    return 2;
  }
  if (s.threads > 0) torch::set_num_threads(s.threads);
  for (size_t m = 0; m < modes.size(); ++m) {
    for (int64_t batch : s.batches) {
      const std::string suffix = "/batch:" + std::to_string(batch) + "/" + s.modes[m];
      for (const auto& [name, step] : {std::pair<std::string, Step>{"train", train}, {"pgd7", pgd}}) {
        benchmark::RegisterBenchmark((name + suffix).c_str(),
                                     [=, mode = modes[m], step = step](benchmark::State& st) {
                                       measure(st, s, device, batch, mode, step);
                                     })
            ->UseRealTime()->Unit(benchmark::kMillisecond)->MinWarmUpTime(1.0);
      }
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
