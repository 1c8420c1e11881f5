#pragma once
// Probes of the PBE paper's observation: in a backdoored model, untargeted adversarial examples
// behave like triggered images (they land on the target label and activate the same neurons).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/adversarial/pgd.h"
#include "core/attacks/attack.h"
#include "core/data/dataset.h"
#include "core/models/classifier.h"
#include "distributed/process_group.h"

namespace pbe {

struct ProbeOptions {
  int64_t samples = 1000;             // Test images probed, drawn (seeded) from the ASR rows. Default: 1000
  PgdOptions pgd = pbe_pgd_options();  // The adversarial examples (PBE's PGD). Default: eps 6/255
  int top_k = 10;                     // Penultimate neurons compared by top-k overlap. Default: 10
  // Activation dumps: the first dump_samples probed images, clean, triggered and adversarial, at
  // each of dump_layers (penultimate = features(), logits). Default: 256 at the penultimate layer;
  // 0 = no dumps.
  int64_t dump_samples = 256;
  std::vector<std::string> dump_layers{"penultimate"};
};

// The layers an activation dump may name.
const std::vector<std::string>& dump_layer_names();

// What the probes measure for one model and one attack's trigger, on the same probed images.
struct Observation {
  at::Tensor confusion;       // int64 [C, C]: true label x prediction on the adversarial example
  double target_fraction = 0;  // adversarial predictions equal to the attack's target label
  double clean_flip = 0;       // adversarial predictions that differ from the true label
  // Mean L2 distance at the penultimate layer from the triggered image's features: of the
  // adversarial example, and of the clean image (the baseline).
  double adversarial_to_triggered = 0, clean_to_triggered = 0;
  // Mean Jaccard overlap of the top_k most active penultimate neurons: adversarial vs triggered,
  // and clean vs triggered.
  double adversarial_overlap = 0, clean_overlap = 0;
  int64_t samples = 0;
  // "<clean|triggered|adversarial>/<layer>" -> float [dump rows, ...]; the dumped images are the
  // first dump_samples probed rows.
  std::vector<std::pair<std::string, at::Tensor>> activations;
};

// The probed rows of `test` (int64, sorted): a seeded `samples` of the attack's ASR rows.
at::Tensor probe_rows(const Dataset& test, const Attack& attack, int64_t samples, uint64_t seed);

// Runs the probes on `rows` of `test`: PGD is sharded over the group; every rank returns the
// same Observation.
Observation observe(ClassifierImpl& model, const Dataset& test, const at::Tensor& rows,
                    const Attack& attack, const ProbeOptions& options, ProcessGroup& group,
                    uint64_t seed);

// Mean Jaccard overlap of the top-k columns of two activation matrices [N, F], row by row.
double topk_jaccard(const at::Tensor& a, const at::Tensor& b, int k);

}  // namespace pbe
