#pragma once
#include <string>

#include "core/attacks/attack.h"

namespace pbe {

// SIG (Barni et al. 2019, "A new backdoor attack in CNNs by training set corruption without
// label poisoning"): a horizontal sinusoid v(i, j) = delta sin(2 pi j f / W) added to every row
// and channel, x' = clamp(x + v, 0, 1). Clean-label: only target-class training images get it,
// their labels unchanged; poison_rate is the fraction of the target class (1.0: the whole class,
// what the PBE paper's "10% of CIFAR-10" amounts to).
struct SigOptions : PoisonOptions {
  SigOptions() { poison_rate = 1.0; }
  double delta = 20.0 / 255;
  double test_delta = 20.0 / 255;  // the PBE code evaluates 10/255
  double frequency = 6;
  void visit(OptionVisitor& v) {
    PoisonOptions::visit(v);
    v("delta", delta, "the sinusoid's amplitude in the poisoned training images");
    v("test_delta", test_delta, "its amplitude at test time");
    v("frequency", frequency, "periods across the image width");
  }
};

class Sig final : public PoisonLabelAttack {
 public:
  Sig(const SigOptions& options, const ImageShape& shape);
  std::string name() const override { return "sig"; }
  at::Tensor apply_trigger(const at::Tensor& images) const override;
  NamedTensors artifacts(int64_t channels, int64_t height, int64_t width) const override;
  // delta sin(2 pi j f / W) as [C, H, W].
  at::Tensor signal(double delta, int64_t channels, int64_t height, int64_t width) const;

 protected:
  at::Tensor poison_images(const at::Tensor& images, const at::Tensor& rows) const override;

 private:
  SigOptions options_;
};

}  // namespace pbe
