// onednn_resnet.cc — the folded ResNet as oneDNN primitives (onednn_resnet.h).
#include "onednn_resnet.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>
#include <unordered_map>

#include "roost/core/error.h"

namespace roost::model::onednn {

namespace {
using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;

dnnl::engine& cpu() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// What follows a convolution inside its primitive.
enum class Post { None, Relu, SumRelu };

// One convolution of a plan.
struct Step {
  dnnl::convolution_forward conv;
  memory weights, bias;
  memory::desc src, dst, scratch;
};

// 64-byte aligned floats that grow on demand.
struct Buffer {
  float* data = nullptr;
  size_t size = 0;
  void reserve(size_t n) {
    if (n <= size) return;
    std::free(data);
    data = static_cast<float*>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64));
    ROOST_CHECK(data != nullptr, "out of memory for ", n, " activations");
    size = n;
  }
  ~Buffer() { std::free(data); }
};

// The buffers of one forward pass: the stem's output, four rotating block activations, scratch.
struct Workspace {
  Buffer stem, blocks[4], scratch;
};

memory::dims out_dims(const memory::dims& src, const ConvLayer& c) {
  const int64_t k = c.weight.size(2);
  return {src[0], c.weight.size(0), (src[2] + 2 * c.padding - k) / c.stride + 1,
          (src[3] + 2 * c.padding - k) / c.stride + 1};
}
}  // namespace

struct Plan {
  std::vector<Step> steps;  // stem, then per block: downsample (if any), its convolutions
  dnnl::pooling_forward pool;
  memory::desc pool_src, pool_dst, out;
  size_t stem_elems = 0, block_elems = 0, scratch_bytes = 0;
};

struct Network::Impl {
  ConvLayer stem;
  std::vector<BlockLayers> blocks;
  std::mutex mutex;
  std::map<std::tuple<int64_t, int64_t, int64_t>, std::shared_ptr<const Plan>> plans;
  // Each layer's weights in each layout a plan asked for (layer order as Plan::steps).
  std::vector<std::vector<std::pair<memory::desc, memory>>> weights;
  std::vector<std::unique_ptr<Workspace>> idle;

  memory weights_for(size_t layer, const ConvLayer& c, const memory::desc& want);
  Step make_step(size_t layer, const ConvLayer& c, const memory::dims& src, Tag src_tag, Post post);
  std::shared_ptr<const Plan> plan(int64_t n, int64_t h, int64_t w);
};

memory Network::Impl::weights_for(size_t layer, const ConvLayer& c, const memory::desc& want) {
  if (weights.size() <= layer) weights.resize(layer + 1);
  for (const auto& [desc, mem] : weights[layer])
    if (desc == want) return mem;
  const torch::Tensor w = c.weight.contiguous();
  const memory::dims dims(w.sizes().begin(), w.sizes().end());
  memory plain({dims, kF32, Tag::oihw}, cpu(), w.data_ptr<float>());
  memory mem(want, cpu());
  dnnl::stream s(cpu());
  dnnl::reorder(plain, mem).execute(s, plain, mem);
  s.wait();
  weights[layer].emplace_back(want, mem);
  return mem;
}

// A convolution for an input of `src` dims: Winograd where oneDNN has it for the layer
// (3x3, stride 1), else direct; bias, and the ReLU or shortcut sum + ReLU, fused.
Step Network::Impl::make_step(size_t layer, const ConvLayer& c, const memory::dims& src, Tag src_tag, Post post) {
  const int64_t o = c.weight.size(0), i = c.weight.size(1), k = c.weight.size(2);
  const memory::desc sd(src, kF32, src_tag), dd(out_dims(src, c), kF32, Tag::nChw16c);
  const memory::desc wd({o, i, k, k}, kF32, Tag::any), bd({o}, kF32, Tag::x);
  dnnl::post_ops ops;
  if (post == Post::SumRelu) ops.append_sum(1.f);
  if (post != Post::None) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  auto make = [&](dnnl::algorithm a) {
    const dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, a, sd, wd, bd, dd, {c.stride, c.stride},
                                            {c.padding, c.padding}, {c.padding, c.padding});
    return dnnl::convolution_forward::primitive_desc(d, attr, cpu());
  };
  dnnl::convolution_forward::primitive_desc pd;
  bool done = false;
  if (k == 3 && c.stride == 1) try {
      pd = make(dnnl::algorithm::convolution_winograd);
      done = true;
    } catch (const dnnl::error&) {
      // no Winograd kernel for this CPU or shape: the direct one below
    }
  if (!done) pd = make(dnnl::algorithm::convolution_direct);
  Step step;
  step.conv = dnnl::convolution_forward(pd);
  step.weights = weights_for(layer, c, pd.weights_desc());
  step.bias = memory(bd, cpu());
  std::memcpy(step.bias.get_data_handle(), c.bias.contiguous().data_ptr<float>(), o * sizeof(float));
  step.src = sd;
  step.dst = dd;
  step.scratch = pd.scratchpad_desc();
  return step;
}

std::shared_ptr<const Plan> Network::Impl::plan(int64_t n, int64_t h, int64_t w) {
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = plans[{n, h, w}];
  if (slot) return slot;
  auto p = std::make_shared<Plan>();
  size_t layer = 0;
  auto elems = [](const memory::dims& d) { return static_cast<size_t>(d[0] * d[1] * d[2] * d[3]); };
  memory::dims dims{n, 3, h, w};
  p->steps.push_back(make_step(layer++, stem, dims, Tag::nchw, Post::Relu));
  dims = out_dims(dims, stem);
  p->stem_elems = elems(dims);
  const memory::dims pooled{dims[0], dims[1], (dims[2] - 1) / 2 + 1, (dims[3] - 1) / 2 + 1};  // 3x3, stride 2, pad 1
  p->pool_src = memory::desc(dims, kF32, Tag::nChw16c);
  p->pool_dst = memory::desc(pooled, kF32, Tag::nChw16c);
  p->pool = dnnl::pooling_forward({{dnnl::prop_kind::forward_inference,
                                    dnnl::algorithm::pooling_max,
                                    p->pool_src,
                                    p->pool_dst,
                                    {2, 2},
                                    {3, 3},
                                    {1, 1},
                                    {1, 1}},
                                   cpu()});
  dims = pooled;
  p->block_elems = elems(dims);
  for (const BlockLayers& b : blocks) {
    if (b.has_downsample) p->steps.push_back(make_step(layer++, b.downsample, dims, Tag::nChw16c, Post::None));
    memory::dims t = dims;
    for (size_t j = 0; j < b.convs.size(); ++j) {
      const bool last = j + 1 == b.convs.size();
      p->steps.push_back(make_step(layer++, b.convs[j], t, Tag::nChw16c, last ? Post::SumRelu : Post::Relu));
      t = out_dims(t, b.convs[j]);
      p->block_elems = std::max(p->block_elems, elems(t));
    }
    dims = t;
  }
  p->out = memory::desc(dims, kF32, Tag::nChw16c);
  for (const Step& s : p->steps) p->scratch_bytes = std::max(p->scratch_bytes, s.scratch.get_size());
  slot = p;
  return p;
}

Network::Network(ConvLayer stem, std::vector<BlockLayers> blocks) : impl_(std::make_unique<Impl>()) {
  impl_->stem = std::move(stem);
  impl_->blocks = std::move(blocks);
}

Network::~Network() = default;

torch::Tensor Network::features(const torch::Tensor& input) const {
  const torch::Tensor x = input.to(torch::kFloat32).contiguous();
  ROOST_CHECK(x.dim() == 4 && x.size(1) == 3, "a ResNet takes [N, 3, H, W] images");
  const std::shared_ptr<const Plan> plan = impl_->plan(x.size(0), x.size(2), x.size(3));
  std::unique_ptr<Workspace> ws;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (!impl_->idle.empty()) ws = std::move(impl_->idle.back()), impl_->idle.pop_back();
  }
  if (!ws) ws = std::make_unique<Workspace>();
  ws->stem.reserve(plan->stem_elems);
  for (Buffer& b : ws->blocks) b.reserve(plan->block_elems);
  ws->scratch.reserve(plan->scratch_bytes / sizeof(float) + 1);
  dnnl::stream s(cpu());
  auto run = [&](const Step& step, void* src, void* dst) {
    step.conv.execute(s, {{DNNL_ARG_SRC, memory(step.src, cpu(), src)},
                          {DNNL_ARG_WEIGHTS, step.weights},
                          {DNNL_ARG_BIAS, step.bias},
                          {DNNL_ARG_DST, memory(step.dst, cpu(), dst)},
                          {DNNL_ARG_SCRATCHPAD, memory(step.scratch, cpu(), ws->scratch.data)}});
  };
  run(plan->steps[0], x.data_ptr(), ws->stem.data);
  plan->pool.execute(s, {{DNNL_ARG_SRC, memory(plan->pool_src, cpu(), ws->stem.data)},
                         {DNNL_ARG_DST, memory(plan->pool_dst, cpu(), ws->blocks[0].data)}});
  // cur holds the block's input; its output goes to `out`, which first holds the shortcut
  // (the input itself, or the downsampled input) that the last convolution adds in place.
  int cur = 0;
  size_t k = 1;
  auto free_buffer = [](std::initializer_list<int> busy) {
    for (int i = 0; i < 4; ++i)
      if (std::find(busy.begin(), busy.end(), i) == busy.end()) return i;
    return -1;
  };
  for (const BlockLayers& b : impl_->blocks) {
    int out = cur, t = cur;
    if (b.has_downsample) run(plan->steps[k++], ws->blocks[cur].data, ws->blocks[out = free_buffer({cur})].data);
    for (size_t j = 0; j + 1 < b.convs.size(); ++j) {
      const int d = free_buffer({cur, out, t});
      run(plan->steps[k++], ws->blocks[t].data, ws->blocks[d].data);
      t = d;
    }
    run(plan->steps[k++], ws->blocks[t].data, ws->blocks[out].data);
    cur = out;
  }
  const memory::dims d = plan->out.dims();
  torch::Tensor features = torch::empty({d[0], d[1], d[2], d[3]}, torch::kFloat32);
  memory blocked(plan->out, cpu(), ws->blocks[cur].data), plain({d, kF32, Tag::nchw}, cpu(), features.data_ptr());
  dnnl::reorder(blocked, plain).execute(s, blocked, plain);
  s.wait();
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->idle.push_back(std::move(ws));
  return features;
}

}  // namespace roost::model::onednn
