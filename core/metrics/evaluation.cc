#include "core/metrics/evaluation.h"

namespace pbe {

at::Tensor predict_logits(ClassifierImpl& model, const at::Tensor& images_u8, ProcessGroup& group,
                          const ImageTransform& transform, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const int64_t n = images_u8.size(0);
  const int64_t chunk = (n + group.size() - 1) / group.size();
  const int64_t begin = std::min(n, chunk * group.rank()), end = std::min(n, begin + chunk);
  const torch::Device device = model.device();
  // The class count, from one image, so that a rank with no rows can still join the gather.
  auto probe = to_float(images_u8.narrow(0, 0, std::min<int64_t>(n, 1)));
  const int64_t classes = n > 0 ? model.forward((transform ? transform(probe) : probe).to(device)).size(1) : 0;
  auto local = torch::zeros({chunk, classes});
  for (int64_t b = begin; b < end; b += batch_size) {
    const int64_t len = std::min(batch_size, end - b);
    auto x = to_float(images_u8.narrow(0, b, len));
    if (transform) x = transform(x);
    local.narrow(0, b - begin, len).copy_(model.forward(x.to(device)));
  }
  model.train(was_training);
  return group.allgather(local).reshape({-1, classes}).narrow(0, 0, n);
}

at::Tensor predict(ClassifierImpl& model, const at::Tensor& images_u8, ProcessGroup& group,
                   const ImageTransform& transform, int64_t batch_size) {
  return predict_logits(model, images_u8, group, transform, batch_size).argmax(1);
}

double clean_accuracy(ClassifierImpl& model, const Dataset& data, ProcessGroup& group) {
  return predict(model, data.images, group).eq(data.labels).to(torch::kDouble).mean().item<double>();
}

BackdoorMetrics evaluate_backdoor(ClassifierImpl& model, const Dataset& test, const Attack& attack,
                                  ProcessGroup& group) {
  BackdoorMetrics m;
  m.acc_denominator = test.size();
  m.acc = clean_accuracy(model, test, group);
  if (attack.is_clean()) return m;
  auto rows = attack.asr_mask(test.labels).nonzero().squeeze(1);
  m.asr_denominator = rows.numel();
  if (rows.numel() == 0) return m;
  auto y = test.labels.index_select(0, rows);
  auto pred = predict(model, test.images.index_select(0, rows), group,
                      [&](const at::Tensor& x) { return attack.apply_trigger(x); });
  m.asr = pred.eq(attack.target_labels(y, test.num_classes)).to(torch::kDouble).mean().item<double>();
  m.ra = pred.eq(y).to(torch::kDouble).mean().item<double>();
  return m;
}

}  // namespace pbe
