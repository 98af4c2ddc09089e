// roost/train/train_step.cc — forward, backward-and-reduce, update: one step of the trainer.
#include "roost/train/train_step.h"

#include "roost/core/log.h"
#include "roost/train/graph_step.h"
#include "step_parts.h"

namespace roost::train {

std::pair<torch::Tensor, torch::Tensor> forward_loss(RunParts& run, const torch::Tensor& inputs,
                                                     const torch::Tensor& labels) {
  torch::Tensor logits;
  {
    AutocastScope autocast(run.autocast(), run.amp_dtype);
    logits = run.net->forward(inputs);
  }
  torch::Tensor loss = torch::cross_entropy_loss(logits.to(torch::kFloat32), labels, {}, at::Reduction::Mean, -100,
                                                 run.config.label_smoothing);
  return {logits, loss};
}

namespace {

// At 32 px or less the last stage's maps are 1x1: a batch of one image gives BatchNorm one
// value per channel, whose unbiased variance (0/0) would make the running statistics NaN.
// Such a batch (a shard's last, of one image) is left out like an empty one: zero gradients
// from this rank. Not with synchronized BatchNorm over several ranks: its statistics count
// every rank's values, and its collectives need this rank's forward pass.
bool one_value_per_channel(RunParts& run, const data::Batch& batch) {
  const bool skip = batch.size == 1 && run.config.image_size <= 32 && !(run.config.sync_bn && run.world > 1);
  if (skip && !run.warned_one_image_batch) {
    log_warn("a training batch of one image at --image-size ", run.config.image_size,
             " is skipped (BatchNorm needs more than one value per channel)");
    run.warned_one_image_batch = true;
  }
  return skip;
}

// Forward and backward on this rank's batch, its gradients handed to the synchronizer by
// the hooks as backward produces them.
void forward_backward(RunParts& run, data::Batch& batch, DeviceSums& sums) {
  auto [inputs, labels] = run.source->to_device(batch);
  auto [logits, loss] = forward_loss(run, inputs, labels);
  (run.scaler->enabled() ? loss * run.scaler->scale() : loss).backward();
  torch::NoGradGuard no_grad;
  sums.loss_sum = sums.loss_sum + loss.detach().to(torch::kFloat64) * batch.size;
  sums.correct = sums.correct + logits.argmax(1).eq(labels).sum().to(torch::kFloat64);
  sums.images += batch.size;
}

// Synchronized BatchNorm's collectives need this rank's forward and backward pass even when
// every image of its batch was unreadable: an empty batch adds nothing to the statistics
// and its zero loss gives zero gradients, through the usual hooks.
void empty_forward_backward(RunParts& run) {
  const int s = run.config.image_size;
  const torch::Tensor empty = torch::zeros({0, 3, s, s}, torch::TensorOptions().device(run.device));
  torch::Tensor logits;
  {
    AutocastScope autocast(run.autocast(), run.amp_dtype);
    logits = run.net->forward(empty);
  }
  (logits.to(torch::kFloat32).sum() * 0.0).backward();
}

// After the gradients were averaged: unscale (fp16), skip a step with non-finite gradients,
// step whatever was not stepped already as its gradients arrived.
void update(RunParts& run, bool stepped_early, const StepPlace& at) {
  LossScaler& scaler = *run.scaler;
  bool finite = true;
  if (scaler.enabled()) {
    std::vector<torch::Tensor> grads;
    for (auto& p : run.params) grads.push_back(p.grad());
    finite = all_finite(grads);
  }
  if (scaler.update(finite)) {
    if (scaler.enabled()) {
      torch::NoGradGuard no_grad;
      for (auto& p : run.params) p.mutable_grad().div_(scaler.scale());
    }
    if (run.shared_update) {
      run.optimizer->end_sliced_step();  // every rank's share is stepped
    } else if (!stepped_early) {
      run.optimizer->set_lr(run.schedule->at(at.epoch, at.step, at.steps));
      run.optimizer->step();
    }
  }
  run.optimizer->zero_grad();
}

}  // namespace

DeviceSums::DeviceSums(double loss, double right, torch::Device device) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  loss_sum = torch::full({}, loss, f64);
  correct = torch::full({}, right, f64);
}

bool train_step(RunParts& run, data::Batch& batch, const StepPlace& at, DeviceSums& sums) {
  if (run.graphs) {
    if (run.graphs->step(batch, at, sums)) return true;
    run.graphs->scaler_to_host();  // --amp fp16: the eager step decides on the host
  }
  Sgd& optimizer = *run.optimizer;
  // The shared update steps parameters while backward runs: the step's rate is set first.
  if (run.shared_update) optimizer.set_lr(run.schedule->at(at.epoch, at.step, at.steps));
  run.synchronizer->begin_backward();
  if (batch.size > 0 && !one_value_per_channel(run, batch)) {
    forward_backward(run, batch, sums);
  } else if (batch.size == 0 && run.config.sync_bn && run.world > 1) {
    empty_forward_backward(run);
  } else {
    run.synchronizer->submit_zero_gradients();
  }
  // On the host without loss scaling, each group of parameters is stepped as soon as its
  // averaged gradients arrive, in time this thread would otherwise spend waiting for the
  // last allreduces (the same update, bitwise). Loss scaling must first see every gradient;
  // on a GPU the multi-tensor step over all parameters launches fewer kernels.
  const bool step_early = !run.on_gpu && !run.scaler->enabled() && !run.shared_update;
  if (step_early) optimizer.set_lr(run.schedule->at(at.epoch, at.step, at.steps));
  const sync::GradientSynchronizer::ReadyFn step_ready = [&](const std::vector<torch::Tensor>& ready) {
    optimizer.step(ready);
  };
  if (!run.synchronizer->synchronize(step_early ? step_ready : nullptr)) return false;
  update(run, step_early, at);
  return true;
}

}  // namespace roost::train
