#pragma once
// TorchScript classifiers built without Python, for tests: what a user's torch.jit.script output
// holds (a module tree with parameters, a buffer, TorchScript methods), saved in the same format.
#include <torch/script.h>
#include <torch/utils.h>

#include <string>

namespace pbe::testing {

struct ScriptedNetOptions {
  int channels = 1, size = 28, classes = 10;
  bool feature_methods = false;  // Also define features() and head().
  bool dropout = false;          // Dropout in the head (train/eval mode matters).
  bool linear_module = false;    // The head as submodule "fc" (fc.weight, fc.bias), as
                                 // torch.jit.script makes of nn.Linear; else parameters fc_w, fc_b.
  bool smooth = false;           // tanh and average pooling for relu and max pooling: a loss whose
                                 // gradient is differentiable everywhere.
  uint64_t seed = 0;
};

// mean buffer -> conv 3x3 (submodule "conv": parameter names conv.weight, conv.bias) -> relu ->
// 2x2 max pool (smooth: tanh, 2x2 average pool) -> flatten -> [dropout] -> linear (fc_w, fc_b, or
// submodule fc).
inline torch::jit::Module make_scripted_net(const ScriptedNetOptions& o) {
  torch::manual_seed(o.seed);
  const int64_t filters = 8, pooled = o.size / 2;
  torch::jit::Module conv("__torch__.Conv");
  // nn.Module's `training` flag, which torch.jit.script gives every module.
  auto with_training = [](torch::jit::Module& m) { m.register_attribute("training", c10::BoolType::get(), true); };
  with_training(conv);
  // As nn.Parameter would: trainable.
  auto param = [](at::Tensor t) { return t.requires_grad_(true); };
  conv.register_parameter("weight", param(torch::randn({filters, o.channels, 3, 3}) * 0.3), false);
  conv.register_parameter("bias", param(torch::zeros({filters})), false);
  conv.define(R"(
def forward(self, x):
    return torch.conv2d(x, self.weight, self.bias, [1, 1], [1, 1])
)");
  torch::jit::Module net("__torch__.Net");
  with_training(net);
  net.register_buffer("mean", torch::full({1}, 0.5));
  net.register_module("conv", conv);
  auto fc_w = param(torch::randn({o.classes, filters * pooled * pooled}) * 0.02), fc_b = param(torch::zeros({o.classes}));
  std::string head_weight = "self.fc_w", head_bias = "self.fc_b";
  if (o.linear_module) {
    torch::jit::Module fc("__torch__.Linear");
    with_training(fc);
    fc.register_parameter("weight", fc_w, false);
    fc.register_parameter("bias", fc_b, false);
    fc.define("def forward(self, x):\n    return torch.addmm(self.bias, x, self.weight.t())\n");
    net.register_module("fc", fc);
    head_weight = "self.fc.weight";
    head_bias = "self.fc.bias";
  } else {
    net.register_parameter("fc_w", fc_w, false);
    net.register_parameter("fc_b", fc_b, false);
  }
  const std::string dropout = o.dropout ? "    h = torch.dropout(h, 0.5, self.training)\n" : "";
  const std::string activation = o.smooth ? "torch.tanh" : "torch.relu", pool = o.smooth ? "torch.avg_pool2d" : "torch.max_pool2d";
  net.define(R"(
def features(self, x):
    h = )" + activation + R"((self.conv.forward(x - self.mean))
    h = )" + pool + R"((h, [2, 2])
    return torch.flatten(h, 1)

def head(self, h):
)" + dropout + "    return torch.addmm(" + head_bias + ", h, " + head_weight + R"(.t())

def forward(self, x):
    return self.head(self.features(x))
)");
  if (!o.feature_methods) {
    // Only forward at the top: the methods stay inside the wrapped module.
    torch::jit::Module outer("__torch__.Outer");
    with_training(outer);
    outer.register_module("body", net);
    outer.define(R"(
def forward(self, x):
    return self.body.forward(x)
)");
    return outer;
  }
  return net;
}

// The same net with every parameter frozen (requires_grad false): cannot be fine-tuned.
inline torch::jit::Module make_frozen_net(const ScriptedNetOptions& o) {
  auto net = make_scripted_net(o);
  for (auto p : net.parameters()) p.requires_grad_(false);
  return net;
}

}  // namespace pbe::testing
