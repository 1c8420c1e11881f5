#include "launcher/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "core/errors.h"

namespace pbe {

double Plan::total_image_epochs() const {
  double total = 0;
  for (const auto& c : cells) total += c.image_epochs;
  return total;
}

double Plan::image_epochs_to_run(const std::vector<int>& selected, const StoredResults& stored) const {
  double total = 0;
  for (int i : selected) {
    const Cell& c = cells.at(static_cast<size_t>(i));
    double cell = 0;
    bool all_held = true;
    for (size_t d = 0; d < defenses.size(); ++d) {
      const bool held = std::any_of(stored.rows.begin(), stored.rows.end(), [&](const MatrixRow& r) {
        return r.dataset == c.key.dataset && r.model == c.key.model && r.attack == c.key.attack &&
               r.seed == c.key.seed && r.defense == defenses[d];
      });
      if (!held) cell += c.defense_image_epochs[d];
      all_held = all_held && held;
    }
    if (all_held) continue;  // the cell is skipped whole (an attack that failed has its failed rows)
    const auto attack = stored.attacks.find(c.key.group_path());
    if (attack == stored.attacks.end() || attack->second.status != Status::kDone) cell += c.attack_image_epochs;
    total += cell;
  }
  return total;
}

Plan make_plan(const ExperimentSpec& spec, int64_t train_size, int num_classes) {
  Plan plan;
  for (const auto& d : spec.defenses) plan.defenses.push_back(d.id);
  for (const auto& attack : spec.attacks) {
    for (int seed : spec.seeds) {
      Cell c;
      c.index = static_cast<int>(plan.cells.size());
      c.key = {spec.dataset.name, spec.model, attack.id, seed};
      c.attack = &attack;
      c.attack_image_epochs = static_cast<double>(spec.training.epochs) * static_cast<double>(train_size) +
                              attack.prototype->extra_image_epochs(train_size, spec.training.epochs);
      c.image_epochs = c.attack_image_epochs;
      for (const auto& d : spec.defenses) {
        c.defense_image_epochs.push_back(d.defense->estimated_image_epochs(
            {train_size, clean_extra_size(d.defense->clean_fraction(), train_size), num_classes}));
        c.image_epochs += c.defense_image_epochs.back();
      }
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

std::vector<MatrixRow> in_plan_order(std::vector<MatrixRow> rows, const Plan& plan) {
  std::map<std::pair<std::string, int>, int> cell;  // (attack id, seed) -> plan position
  for (const Cell& c : plan.cells) cell[{c.key.attack, c.key.seed}] = c.index;
  std::map<std::string, size_t> defense;
  for (size_t i = 0; i < plan.defenses.size(); ++i) defense[plan.defenses[i]] = i;
  const auto position = [&](const MatrixRow& r) { return std::make_pair(cell.at({r.attack, r.seed}), defense.at(r.defense)); };
  std::stable_sort(rows.begin(), rows.end(), [&](const MatrixRow& a, const MatrixRow& b) { return position(a) < position(b); });
  return rows;
}

std::vector<int> select_cells(const std::string& list, int cells) {
  std::set<int> chosen;
  if (list.empty())
    for (int i = 0; i < cells; ++i) chosen.insert(i);
  if (const auto slash = list.find('/'); slash != std::string::npos) {
    int k = 0, n = 0;
    size_t used_k = 0, used_n = 0;
    try {
      k = std::stoi(list.substr(0, slash), &used_k);
      n = std::stoi(list.substr(slash + 1), &used_n);
    } catch (const std::exception&) {
    }
    if (used_k != slash || used_n != list.size() - slash - 1 || n < 1 || k < 1 || k > n)
      throw ConfigError("--cells: '" + list + "' is not a slice k/n with 1 <= k <= n");
    for (int i = k - 1; i < cells; i += n) chosen.insert(i);
    return {chosen.begin(), chosen.end()};
  }
  if (!list.empty() && list.back() == ',') throw ConfigError("--cells: '" + list + "' ends with a comma");
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    const auto bad = [&] {
      return ConfigError("--cells: '" + item + "' is not a cell number or range in 1-" + std::to_string(cells));
    };
    const auto number = [&](const std::string& text) {
      size_t used = 0;
      int value = 0;
      try {
        value = std::stoi(text, &used);
      } catch (const std::exception&) {
        throw bad();
      }
      if (used != text.size()) throw bad();
      return value;
    };
    const auto dash = item.find('-');
    const int first = number(item.substr(0, dash));
    const int last = dash == std::string::npos ? first : number(item.substr(dash + 1));
    if (first < 1 || last > cells || first > last) throw bad();
    for (int i = first; i <= last; ++i) chosen.insert(i - 1);
  }
  return {chosen.begin(), chosen.end()};
}

}  // namespace pbe
