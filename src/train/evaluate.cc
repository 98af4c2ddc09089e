// roost/train/evaluate.cc — the validation pass of one epoch.
#include "roost/train/evaluate.h"

#include "roost/train/train_step.h"

namespace roost::train {

void evaluate(RunParts& run, int epoch, EpochSums& sums) {
  if (run.world > 1 && !run.config.sync_bn) broadcast_buffers(run.net, *run.comm);
  run.net->eval();
  torch::NoGradGuard no_grad;
  const std::unique_ptr<data::Loader> loader = run.passes->val(epoch);
  // Summed on the device and read once after the pass, as in training: a read per batch
  // would make the host wait for the GPU before it prepares the next batch.
  DeviceSums device_sums(sums.val_loss_sum, sums.val_correct, run.device);
  data::Batch batch;
  while (loader->next(batch)) {
    run.passes->after_val_batch(*loader, epoch);
    sums.data_wait_s += batch.wait_seconds;
    sums.skipped += batch.skipped;
    if (batch.size == 0) continue;
    run.class_counts->add_val(batch.labels, batch.size);
    auto [inputs, labels] = run.source->to_device(batch);
    AutocastScope autocast(run.autocast(), run.amp_dtype);
    torch::Tensor logits = run.net->forward(inputs).to(torch::kFloat32);
    device_sums.loss_sum =
        device_sums.loss_sum + torch::cross_entropy_loss(logits, labels, {}, at::Reduction::Sum).to(torch::kFloat64);
    device_sums.correct = device_sums.correct + logits.argmax(1).eq(labels).sum().to(torch::kFloat64);
    device_sums.images += batch.size;
  }
  sums.val_loss_sum = device_sums.loss_sum.item<double>();
  sums.val_correct = device_sums.correct.item<double>();
  sums.val_count += static_cast<double>(device_sums.images);
}

}  // namespace roost::train
