#pragma once
#include <string>

#include "core/adversarial/pgd.h"
#include "core/defenses/defense.h"

namespace pbe {

// Which augmentation AFT and PBE apply before PGD and fine-tuning. The release augments CIFAR-10
// with pbe_release_augmentation(); `auto` (the default) does that on 3-channel (CIFAR-like) data
// and uses the dataset's usual augmentation otherwise: on Fashion-MNIST the release's 5-pixel
// crops and rotations cost 4-12 points of ACC (docs/results.md).
struct DefenseAugmentation {
  static constexpr const char* kDoc =
      "before PGD: auto (the release's on 3-channel data, the dataset's otherwise), release, dataset, or a "
      "mapping as the dataset's";
  enum class Kind { kAuto, kRelease, kDataset, kCustom } kind = Kind::kAuto;
  Augmentation custom;  // kCustom only
  // The augmentation for `data`, whose usual one is `dataset_augmentation`.
  Augmentation resolve(const Dataset& data, const Augmentation& dataset_augmentation) const;
  std::string name() const;  // auto | release | dataset | custom
  // ConfigError "<owner>: ..." for a custom augmentation check_augmentation() rejects.
  void check(const std::string& owner) const;
};

// The released code's fine-tuning: SGD lr 0.001, momentum 0.9, weight decay 5e-4, batch 128,
// constant learning rate.
SgdRecipe pbe_sgd_recipe();

// AFT, the PBE paper's clean-data setting (Mu et al. 2023): fine-tune the infected model on
// adversarial examples of a small clean set, then on the clean set itself. Defaults are the
// released code's: 20 epochs, the first 3 on untargeted L_inf PGD examples (eps 6/255, step
// eps/5, 7 steps, no random start, no clamping) with the images' own labels; SGD lr 0.001,
// momentum 0.9, weight decay 5e-4, batch 128, constant learning rate; the release's augmentation
// (crop padding 5 p 0.8, rotation +-10 degrees p 0.5, horizontal flip) before PGD on CIFAR-like
// data.
struct AftOptions {
  double clean_fraction = 0.05;
  int epochs = 20;
  int adversarial_epochs = 3;
  PgdOptions pgd = pbe_pgd_options();
  SgdRecipe sgd = pbe_sgd_recipe();
  DefenseAugmentation augmentation;
  void visit(OptionVisitor& v) {
    v("clean_fraction", clean_fraction, "clean extra set size / training set size");
    v("epochs", epochs, "fine-tuning epochs");
    v("adversarial_epochs", adversarial_epochs, "the first this many epochs train on PGD examples, the rest on the clean set");
    v.block("pgd", [this](OptionVisitor& b) { pgd.visit(b); }, "the adversarial examples' PGD");
    v("augmentation", augmentation, DefenseAugmentation::kDoc);
    sgd.visit(v);
  }
};

class Aft final : public Defense {
 public:
  explicit Aft(const AftOptions& options);  // ConfigError on bad options
  std::string name() const override { return "aft"; }
  double clean_fraction() const override { return options_.clean_fraction; }
  double estimated_image_epochs(const WorkSize& size) const override;
  DefenseResult purify(ClassifierImpl& model, const DefenseContext& context) const override;

 private:
  AftOptions options_;
};

// Training options for fine-tuning with a PGD transform applied where `adversarial(epoch, batch)`
// says so; shared by AFT and PBE. The PGD random start is seeded per (seed, epoch, batch).
BatchTransform adversarial_transform(const PgdOptions& pgd, uint64_t seed,
                                     std::function<bool(int epoch, int64_t batch)> adversarial);

}  // namespace pbe
