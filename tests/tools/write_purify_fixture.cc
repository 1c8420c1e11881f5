// Writes what `pbe_dist purify` end-to-end tests need into DIR:
//   data/{train,t10k}-{images-idx3,labels-idx1}-ubyte   a small 10-class 28x28 IDX set
//   clean/train-*                                        a clean extra set (the first 128 training
//                                                        rows; AFT, FT, ...), no test split
//   model.pt          a TorchScript CNN for 1x28x28 images, 10 classes
//   model_5class.pt   the same with 5 outputs;  model_rgb.pt  one for 3-channel images
//   model_frozen.pt   no parameter requires grad;  garbage.pt  not TorchScript at all
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/data/synthetic.h"
#include "tests/tools/scripted_models.h"

namespace {

void put_u32(std::ofstream& out, uint32_t v) {
  const unsigned char b[4] = {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
                              static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
  out.write(reinterpret_cast<const char*>(b), 4);
}

void write_idx(const std::filesystem::path& dir, const std::string& prefix, const pbe::Dataset& d) {
  std::filesystem::create_directories(dir);
  std::ofstream images(dir / (prefix + "-images-idx3-ubyte"), std::ios::binary);
  put_u32(images, 0x803);
  put_u32(images, static_cast<uint32_t>(d.size()));
  put_u32(images, static_cast<uint32_t>(d.height()));
  put_u32(images, static_cast<uint32_t>(d.width()));
  auto pixels = d.images.contiguous();
  images.write(reinterpret_cast<const char*>(pixels.data_ptr<uint8_t>()), pixels.numel());
  std::ofstream labels(dir / (prefix + "-labels-idx1-ubyte"), std::ios::binary);
  put_u32(labels, 0x801);
  put_u32(labels, static_cast<uint32_t>(d.size()));
  auto bytes = d.labels.to(torch::kByte).contiguous();
  labels.write(reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()), bytes.numel());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: write_purify_fixture DIR\n";
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  pbe::SyntheticOptions s;
  s.train_size = 512;
  s.test_size = 256;
  s.size = 28;
  s.channels = 1;
  s.num_classes = 10;
  pbe::TrainTest data = pbe::make_synthetic(s);
  write_idx(dir / "data", "train", data.train);
  write_idx(dir / "data", "t10k", data.test);
  write_idx(dir / "clean", "train", data.train.subset(torch::arange(128, torch::kLong)));

  using pbe::testing::ScriptedNetOptions;
  pbe::testing::make_scripted_net({}).save((dir / "model.pt").string());
  ScriptedNetOptions five;
  five.classes = 5;
  pbe::testing::make_scripted_net(five).save((dir / "model_5class.pt").string());
  ScriptedNetOptions rgb;
  rgb.channels = 3;
  pbe::testing::make_scripted_net(rgb).save((dir / "model_rgb.pt").string());
  pbe::testing::make_frozen_net({}).save((dir / "model_frozen.pt").string());
  ScriptedNetOptions linear;  // its head as torch.jit.script makes nn.Linear: what FST needs
  linear.linear_module = true;
  pbe::testing::make_scripted_net(linear).save((dir / "model_linear.pt").string());
  std::ofstream(dir / "garbage.pt") << "this is not a TorchScript archive\n";
  return 0;
}
