// src/export/onnx_graph.h — a small builder over onnx::GraphProto: named initializers from
// torch tensors and nodes with generated output names, so the ResNet walk in
// onnx_export.cc reads as the network does.
#pragma once

#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace roost::exporting {

struct Attr {
  std::string name;
  std::vector<int64_t> ints;  // used when `is_int` is false and `is_float` is false
  int64_t i = 0;
  float f = 0;
  bool is_int = false, is_float = false;
  static Attr ints_of(std::string n, std::vector<int64_t> v) { return {std::move(n), std::move(v)}; }
  static Attr int_of(std::string n, int64_t v) { return {std::move(n), {}, v, 0, true, false}; }
  static Attr float_of(std::string n, float v) { return {std::move(n), {}, 0, v, false, true}; }
};

class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* graph) : graph_(graph) {}
  // A float32 initializer holding `t` (any float dtype, copied as contiguous float32).
  std::string initializer(const std::string& name, const torch::Tensor& t);
  // Adds a node; returns its (first) output's name, `hint` plus a counter when not given.
  std::string node(const std::string& op, const std::vector<std::string>& inputs, const std::vector<Attr>& attrs,
                   const std::string& hint, const std::string& output = "");

 private:
  onnx::GraphProto* graph_;
  int counter_ = 0;
};

}  // namespace roost::exporting
