// sgd_device.cc — Sgd's fused GPU step (see sgd_device.h and roost/kernels/fused_sgd.h): the
// eager step() of CUDA parameters in one launch, and the pieces a CUDA-graph step needs.
#include "sgd_device.h"

#include <c10/core/DeviceGuard.h>

#include "roost/core/error.h"
#include "roost/gpu/torch_cuda.h"
#include "roost/train/sgd.h"

namespace roost::train {

namespace detail {

namespace {

constexpr size_t kMaxPlans = 4;  // the first step's, the steady one's, and room for a change

bool same(const std::vector<kernels::SgdTensor>& a, const std::vector<kernels::SgdTensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].param != b[i].param || a[i].grad != b[i].grad || a[i].momentum != b[i].momentum ||
        a[i].numel != b[i].numel || a[i].param_type != b[i].param_type || a[i].grad_type != b[i].grad_type ||
        a[i].first != b[i].first)
      return false;
  return true;
}

bool kernel_type(torch::ScalarType t, kernels::SgdType* out) {
  switch (t) {
    case torch::kFloat32: *out = kernels::SgdType::kFloat32; return true;
    case torch::kBFloat16: *out = kernels::SgdType::kBFloat16; return true;
    case torch::kFloat16: *out = kernels::SgdType::kFloat16; return true;
    default: return false;
  }
}

bool laid_out_like(const torch::Tensor& t, const torch::Tensor& p) {
  return t.device() == p.device() && t.sizes() == p.sizes() && t.strides() == p.strides();
}

}  // namespace

const kernels::FusedSgdPlan& DeviceSgd::plan(const std::vector<kernels::SgdTensor>& tensors, void* stream, bool pin) {
  for (auto& [key, plan] : pinned)
    if (same(key, tensors)) return *plan;
  for (auto it = plans.begin(); it != plans.end(); ++it) {
    if (!same(it->first, tensors)) continue;
    if (!pin) return *it->second;
    pinned.push_back(std::move(*it));
    plans.erase(it);
    return *pinned.back().second;
  }
  if (pin) {
    pinned.emplace_back(tensors, std::make_unique<kernels::FusedSgdPlan>(tensors, stream));
    return *pinned.back().second;
  }
  if (plans.size() == kMaxPlans) plans.erase(plans.begin());  // the oldest
  plans.emplace_back(tensors, std::make_unique<kernels::FusedSgdPlan>(tensors, stream));
  return *plans.back().second;
}

void DeviceSgd::set_lr(double value, const torch::Device& device) {
  if (!lr.defined() || lr.device() != device) {
    lr = torch::full({}, value, torch::TensorOptions().dtype(torch::kFloat32).device(device));
  } else if (value != lr_written) {
    lr.fill_(value);
  }
  lr_written = value;
}

std::string device_obstacle(const torch::Tensor& p, const torch::Tensor& buf, const torch::Device& device) {
  kernels::SgdType type;
  const torch::Tensor& g = p.grad();
  if (!p.is_cuda() || p.device() != device) return "the parameters are not all on one CUDA device";
  if (!kernel_type(p.scalar_type(), &type)) return "a parameter is neither float32, bfloat16 nor float16";
  if (!p.is_non_overlapping_and_dense()) return "a parameter is not dense";
  if (!g.defined() || !laid_out_like(g, p) ||
      (g.scalar_type() != p.scalar_type() && g.scalar_type() != torch::kFloat32))
    return "a gradient is not laid out as its parameter, of its type or float32";
  if (buf.defined() && (!laid_out_like(buf, p) || buf.scalar_type() != torch::kFloat32))
    return "a momentum buffer is not float32 laid out as its parameter";
  return "";
}

}  // namespace detail

namespace {

// The kernel's view of parameters `which`; with `start`, momentum buffers are created for
// those that have none (as float32 shaped like the parameter), flagged first.
std::vector<kernels::SgdTensor> describe(const std::vector<torch::Tensor>& params, std::vector<torch::Tensor>& buffers,
                                         const std::vector<size_t>& which, bool momentum, bool start) {
  std::vector<kernels::SgdTensor> out;
  for (size_t i : which) {
    const torch::Tensor& p = params[i];
    kernels::SgdTensor t;
    t.param = p.data_ptr();
    t.grad = p.grad().data_ptr();
    t.numel = p.numel();
    detail::kernel_type(p.scalar_type(), &t.param_type);
    detail::kernel_type(p.grad().scalar_type(), &t.grad_type);
    if (momentum && start && !buffers[i].defined()) {
      buffers[i] = torch::empty_like(p, p.options().dtype(torch::kFloat32));  // the same strides
      t.first = true;
    }
    if (momentum && buffers[i].defined()) t.momentum = buffers[i].data_ptr<float>();
    out.push_back(t);
  }
  return out;
}

kernels::SgdHyper hyper_of(const SgdOptions& o) {
  kernels::SgdHyper h;
  h.momentum = o.momentum;
  h.dampening = o.dampening;
  h.weight_decay = o.weight_decay;
  h.nesterov = o.nesterov;
  return h;
}

}  // namespace

bool Sgd::step_on_gpu(const std::vector<size_t>& which) {
  if (which.empty() || !params_[which[0]].is_cuda() || !kernels::fused_sgd_available()) return false;
  const torch::Device device = params_[which[0]].device();
  for (size_t i : which)
    if (!detail::device_obstacle(params_[i], buffers_[i], device).empty()) return false;
  const c10::DeviceGuard on(device);  // torch's current stream and the plan's memory: this device's
  if (!device_) device_ = std::make_unique<detail::DeviceSgd>();
  device_->set_lr(options_.lr, device);
  void* stream = gpu::current_stream();
  const auto tensors = describe(params_, buffers_, which, options_.momentum != 0, /*start=*/true);
  device_->plan(tensors, stream).step(hyper_of(options_), {device_->lr.data_ptr<float>(), nullptr, nullptr}, stream);
  return true;
}

std::string Sgd::device_step_obstacle() const {
  const std::vector<size_t> which = with_gradients();
  if (which.empty()) return "no parameter has a gradient";
  if (!kernels::fused_sgd_available()) return "roost was built without CUDA (or no CUDA device is present)";
  for (size_t i : which)
    if (std::string why = detail::device_obstacle(params_[i], buffers_[i], params_[which[0]].device()); !why.empty())
      return why;
  return "";
}

void Sgd::preallocate_momentum() {
  if (options_.momentum == 0) return;
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i)
    if (!buffers_[i].defined())
      buffers_[i] = torch::zeros_like(params_[i], params_[i].options().dtype(torch::kFloat32));
}

std::vector<size_t> Sgd::device_step_parameters() const {
  const std::string why = device_step_obstacle();
  ROOST_CHECK(why.empty(), "the fused GPU step cannot run: ", why);
  std::vector<size_t> which = with_gradients();
  for (size_t i : which)
    ROOST_CHECK(options_.momentum == 0 || buffers_[i].defined(),
                "the fused GPU step on device scalars needs momentum buffers (preallocate_momentum or a step first)");
  return which;
}

const kernels::FusedSgdPlan& Sgd::device_plan(const std::vector<size_t>& which, void* stream) {
  if (!device_) device_ = std::make_unique<detail::DeviceSgd>();
  // Pinned: the device-scalar step is the one graphs capture.
  return device_->plan(describe(params_, buffers_, which, options_.momentum != 0, /*start=*/false), stream,
                       /*pin=*/true);
}

void Sgd::prepare_device_step() {
  const std::vector<size_t> which = device_step_parameters();
  const c10::DeviceGuard on(params_[which[0]].device());
  device_plan(which, gpu::current_stream());
}

void Sgd::step_on_device(const float* lr, const float* inv_scale, const float* found_inf) {
  const std::vector<size_t> which = device_step_parameters();
  const c10::DeviceGuard on(params_[which[0]].device());
  void* stream = gpu::current_stream();
  device_plan(which, stream).step(hyper_of(options_), {lr, inv_scale, found_inf}, stream);
}

void Sgd::find_non_finite_on_device(float* found_inf) {
  const std::vector<size_t> which = device_step_parameters();
  const c10::DeviceGuard on(params_[which[0]].device());
  void* stream = gpu::current_stream();
  device_plan(which, stream).find_non_finite(found_inf, stream);
}

}  // namespace roost::train
