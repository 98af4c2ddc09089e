// src/export/onnx_graph.cc — initializers and nodes of an ONNX graph (onnx_graph.h).
#include "onnx_graph.h"

namespace roost::exporting {

std::string GraphBuilder::initializer(const std::string& name, const torch::Tensor& t) {
  const torch::Tensor f = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  onnx::TensorProto* proto = graph_->add_initializer();
  proto->set_name(name);
  proto->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : f.sizes()) proto->add_dims(d);
  // raw_data is little-endian float32, which is what the host holds (x86, ARM).
  proto->set_raw_data(std::string(static_cast<const char*>(f.data_ptr()), f.numel() * sizeof(float)));
  return name;
}

std::string GraphBuilder::node(const std::string& op, const std::vector<std::string>& inputs,
                               const std::vector<Attr>& attrs, const std::string& hint, const std::string& output) {
  onnx::NodeProto* n = graph_->add_node();
  n->set_op_type(op);
  n->set_name(hint + "/" + op);
  for (const auto& in : inputs) n->add_input(in);
  const std::string out = output.empty() ? hint + "/" + op + "_" + std::to_string(counter_++) : output;
  n->add_output(out);
  for (const Attr& a : attrs) {
    onnx::AttributeProto* p = n->add_attribute();
    p->set_name(a.name);
    if (a.is_int) {
      p->set_type(onnx::AttributeProto::INT);
      p->set_i(a.i);
    } else if (a.is_float) {
      p->set_type(onnx::AttributeProto::FLOAT);
      p->set_f(a.f);
    } else {
      p->set_type(onnx::AttributeProto::INTS);
      for (int64_t v : a.ints) p->add_ints(v);
    }
  }
  return out;
}

}  // namespace roost::exporting
