#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <limits>

#include "core/attacks/attack.h"
#include "core/data/dataset.h"
#include "core/models/classifier.h"
#include "distributed/process_group.h"

namespace pbe {

using ImageTransform = std::function<at::Tensor(const at::Tensor&)>;

// Logits (float [N, classes], on the CPU) for uint8 CPU images, identical on every rank: each rank
// runs its contiguous shard in eval mode on the model's device, the shards are all-gathered.
// `transform` (e.g. a trigger) is applied to the float images first, on the CPU. Every rank calls
// it with the same images.
at::Tensor predict_logits(ClassifierImpl& model, const at::Tensor& images_u8, ProcessGroup& group,
                          const ImageTransform& transform = {}, int64_t batch_size = 128);
// The predicted labels (int64 [N]) of predict_logits().
at::Tensor predict(ClassifierImpl& model, const at::Tensor& images_u8, ProcessGroup& group,
                   const ImageTransform& transform = {}, int64_t batch_size = 128);


// ACC (shared/docs/metrics.md): the share of `data` the model classifies correctly; NaN if empty.
double clean_accuracy(ClassifierImpl& model, const Dataset& data, ProcessGroup& group);

// ACC, ASR and RA as shared/docs/metrics.md defines them. For a clean model (no trigger) ASR and
// RA are NaN.
struct BackdoorMetrics {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  double acc = kNaN, asr = kNaN, ra = kNaN;
  int64_t acc_denominator = 0;  // test samples
  int64_t asr_denominator = 0;  // triggered test samples counted for ASR/RA
};

BackdoorMetrics evaluate_backdoor(ClassifierImpl& model, const Dataset& test, const Attack& attack,
                                  ProcessGroup& group);

}  // namespace pbe
