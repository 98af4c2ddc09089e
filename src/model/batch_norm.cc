// roost/model/batch_norm.cc — BatchNorm with statistics over all ranks (see batch_norm.h).
#include "roost/model/batch_norm.h"

namespace roost::model {

namespace {
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor weight, torch::Tensor bias,
                               torch::Tensor running_mean, torch::Tensor running_var, double momentum, double eps,
                               BatchNormSync* sync) {
    const int64_t channels = x.size(1);
    torch::Tensor xf = x.to(torch::kFloat32);
    // Local mean and variance computed in two passes, combined across ranks in float64.
    auto [var_local, mean_local] = torch::var_mean(xf, {0, 2, 3}, /*unbiased=*/false);
    const double n_local = static_cast<double>(x.numel() / channels);
    // A rank with no images this step (all unreadable) still joins the collective, adding
    // nothing: the mean of no values would be NaN and poison every rank's sum.
    torch::Tensor m =
        n_local > 0 ? mean_local.to(torch::kCPU, torch::kFloat64) : torch::zeros({channels}, torch::kFloat64);
    torch::Tensor v =
        n_local > 0 ? var_local.to(torch::kCPU, torch::kFloat64) : torch::zeros({channels}, torch::kFloat64);
    torch::Tensor stats = torch::cat({m * n_local, (v + m * m) * n_local, torch::full({1}, n_local, torch::kFloat64)});
    sync->allreduce_sum(stats);
    const double n = stats[2 * channels].item<double>();
    torch::Tensor mean = stats.slice(0, 0, channels) / n;
    torch::Tensor var = (stats.slice(0, channels, 2 * channels) / n - mean * mean).clamp_min(0);
    {
      torch::NoGradGuard no_grad;
      const double unbias = n > 1 ? n / (n - 1) : 1.0;
      running_mean.mul_(1 - momentum).add_(mean.to(running_mean.options()), momentum);
      running_var.mul_(1 - momentum).add_((var * unbias).to(running_var.options()), momentum);
    }
    auto shape = [&](const torch::Tensor& t) { return t.to(xf.options()).view({1, channels, 1, 1}); };
    torch::Tensor mean_d = shape(mean), invstd_d = shape(torch::rsqrt(var + eps));
    torch::Tensor y = (xf - mean_d) * invstd_d * shape(weight) + shape(bias);
    ctx->save_for_backward({xf, weight, mean_d, invstd_d});
    ctx->saved_data["n"] = n;
    ctx->saved_data["sync"] = reinterpret_cast<int64_t>(sync);
    return y.to(x.scalar_type());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    torch::Tensor xf = saved[0], weight = saved[1], mean = saved[2], invstd = saved[3];
    const double n = ctx->saved_data["n"].toDouble();
    auto* sync = reinterpret_cast<BatchNormSync*>(ctx->saved_data["sync"].toInt());
    const int64_t channels = xf.size(1);
    torch::Tensor dy = grads[0].to(torch::kFloat32);
    torch::Tensor xmu = xf - mean;
    torch::Tensor sum_dy_local = dy.sum({0, 2, 3});
    torch::Tensor sum_dy_xmu_local = (dy * xmu).sum({0, 2, 3});
    torch::Tensor both =
        torch::cat({sum_dy_local.to(torch::kCPU, torch::kFloat64), sum_dy_xmu_local.to(torch::kCPU, torch::kFloat64)});
    sync->allreduce_sum(both);
    auto shape = [&](const torch::Tensor& t) { return t.to(xf.options()).view({1, channels, 1, 1}); };
    torch::Tensor mean_dy = shape(both.slice(0, 0, channels) / n);
    torch::Tensor mean_dy_xmu = shape(both.slice(0, channels, 2 * channels) / n);
    torch::Tensor w = weight.to(xf.options()).view({1, channels, 1, 1});
    torch::Tensor dx = (dy - mean_dy - xmu * invstd * invstd * mean_dy_xmu) * invstd * w;
    // Parameter gradients are this rank's own; the gradient allreduce averages them.
    torch::Tensor dweight = (sum_dy_xmu_local * invstd.view({channels})).to(weight.scalar_type());
    torch::Tensor dbias = sum_dy_local.to(weight.scalar_type());
    return {dx.to(grads[0].scalar_type()), dweight, dbias, {}, {}, {}, {}, {}};
  }
};
}  // namespace

SyncableBatchNormImpl::SyncableBatchNormImpl(const torch::nn::BatchNorm2dOptions& options_) : options(options_) {
  reset();
}

void SyncableBatchNormImpl::reset() {
  // torchvision's order: weight, bias, running_mean, running_var, num_batches_tracked.
  const int64_t c = options.num_features();
  weight = register_parameter("weight", torch::ones({c}));
  bias = register_parameter("bias", torch::zeros({c}));
  running_mean = register_buffer("running_mean", torch::zeros({c}));
  running_var = register_buffer("running_var", torch::ones({c}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::tensor(0, torch::kLong));
}

void SyncableBatchNormImpl::pretty_print(std::ostream& stream) const {
  stream << "roost::SyncableBatchNorm(" << options.num_features() << ", eps=" << options.eps()
         << ", momentum=" << options.momentum().value_or(0.1) << ")";
}

torch::Tensor SyncableBatchNormImpl::forward(const torch::Tensor& input) {
  TORCH_CHECK(input.dim() == 4, "SyncableBatchNorm expects NCHW input, got ", input.dim(), " dims");
  const double momentum = options.momentum().value_or(0.1);
  if (is_training()) {
    torch::NoGradGuard no_grad;
    num_batches_tracked.add_(1);
  }
  if (sync_ && is_training())
    return SyncBatchNormFunction::apply(input, weight, bias, running_mean, running_var, momentum, options.eps(), sync_);
  return torch::batch_norm(input, weight, bias, running_mean, running_var, is_training(), momentum, options.eps(),
                           at::globalContext().userEnabledCuDNN());
}

void set_batch_norm_sync(torch::nn::Module& module, BatchNormSync* sync) {
  for (auto& m : module.modules(/*include_self=*/true))
    if (auto* bn = m->as<SyncableBatchNormImpl>()) bn->set_sync(sync);
}

}  // namespace roost::model
