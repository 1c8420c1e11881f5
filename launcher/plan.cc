#include "launcher/plan.h"

#include <fmt/format.h>

namespace pbe {

double Plan::total_image_epochs() const {
  double total = 0;
  for (const auto& c : cells) total += c.image_epochs;
  return total;
}

Plan make_plan(const ExperimentSpec& spec, int64_t train_size, int num_classes) {
  Plan plan;
  for (const auto& attack : spec.attacks) {
    for (int seed : spec.seeds) {
      Cell c;
      c.index = static_cast<int>(plan.cells.size());
      c.key = {spec.dataset.name, spec.model, attack.id, seed};
      c.attack = &attack;
      c.image_epochs = static_cast<double>(spec.training.epochs) * static_cast<double>(train_size) +
                       attack.prototype->extra_image_epochs(train_size, spec.training.epochs);
      for (const auto& d : spec.defenses) c.image_epochs += d.defense->estimated_image_epochs(train_size, num_classes);
      plan.cells.push_back(c);
    }
  }
  return plan;
}

std::string describe_plan(const ExperimentSpec& spec, const Plan& plan, int64_t train_size, int ranks) {
  std::string defenses;
  for (const auto& d : spec.defenses) defenses += (defenses.empty() ? "" : ", ") + d.id;
  std::string out = fmt::format(
      "spec {} -> {}\n{} cells ({} attacks x {} seeds), defenses per cell: {}\n"
      "dataset {} ({} training images), model {}, {} epochs, global batch {}, {} rank(s)\n",
      spec.file, spec.output, plan.cells.size(), spec.attacks.size(), spec.seeds.size(), defenses,
      spec.dataset.name, train_size, spec.model, spec.training.epochs, spec.training.batch_size, ranks);
  out += fmt::format("{:>4}  {:<48} {:>14}\n", "#", "cell", "image-epochs");
  for (const auto& c : plan.cells)
    out += fmt::format("{:>4}  {:<48} {:>14.0f}\n", c.index + 1, c.key.group_path(), c.image_epochs);
  out += fmt::format("total {:.3g} image-epochs\n", plan.total_image_epochs());
  return out;
}

}  // namespace pbe
