// export_cmd.cc — `roost export`: a trained model out of roost, as ONNX (any runtime) or as a
// torchvision state dict (.pth). The model is a weight file or a registry name[:version].
#include <filesystem>
#include <iostream>
#include <string>

#include "args.h"
#include "commands.h"
#include "roost/core/error.h"
#include "roost/export/onnx.h"
#ifdef ROOST_WITH_RUN
#include "model_ref.h"
#endif

namespace roost::cli {

namespace {
cxxopts::Options export_options() {
  cxxopts::Options o("roost export",
                     "Write a trained model in a format other runtimes load:\n"
                     "  roost export --model OUT/model.h5 --format onnx --out model.onnx\n"
                     "  roost export --model NAME[:VERSION] --workspace W --format pth --out model.pth\n"
                     "ONNX: input 'input' float32 [N,3,H,W] (normalized RGB, or 0..255 with\n"
                     "--include-preprocessing), output 'logits' [N,classes]; the class names, image size,\n"
                     "resize and normalization are in the model's metadata_props.\n"
                     "pth: a state dict torchvision.models.<arch>(num_classes=K) loads with strict=True.");
  // clang-format off
  o.add_options()
      ("model", "a roost weight file (model.h5, last.h5) or a registered model NAME[:VERSION] (required)",
       cxxopts::value<std::string>())
      ("format", "onnx|pth", cxxopts::value<std::string>()->default_value("onnx"))
      ("out", "output file (required); written atomically", cxxopts::value<std::string>())
      ("opset", "ONNX opset, 11..17", cxxopts::value<std::string>()->default_value("13"))
      ("fold-bn", "fold each BatchNormalization into the Conv before it (fewer nodes, same function)")
      ("batch", "fixed batch size, or 'dynamic' (a symbolic N)", cxxopts::value<std::string>()->default_value("dynamic"))
      ("include-preprocessing", "the graph normalizes: its input is RGB in 0..255 (as decoded), not ImageNet-normalized")
      ("workspace", "run store folder for a registered model", cxxopts::value<std::string>()->default_value("roost-workspace"))
      ("h,help", "show this help");
  // clang-format on
  return o;
}

// A file as it is; otherwise NAME[:VERSION] in the workspace's registry.
std::string resolve_model(const std::string& model, const std::string& workspace) {
  std::error_code ec;
  if (std::filesystem::exists(model, ec)) {
    if (!std::filesystem::is_regular_file(model, ec)) ROOST_USAGE_ERROR("model file ", model, " is not a file");
    return model;
  }
#ifdef ROOST_WITH_RUN
  if (const auto registered = find_registered(model, workspace)) return registered->path;
#endif
  ROOST_USAGE_ERROR("model file ", model, " does not exist (and ", workspace,
                    " is no workspace with a registry to look it up in)");
}
}  // namespace

int export_main(int argc, char** argv) {
  cxxopts::Options options = export_options();
  cxxopts::ParseResult r = parse_or_usage(options, argc, argv);
  if (print_help_if_asked(options, r)) return 0;
  const std::string model = get_required(r, "model");
  const std::string out = get_required(r, "out");
  const std::string format = r["format"].as<std::string>();
  ROOST_USAGE_CHECK(format == "onnx" || format == "pth", "--format must be onnx or pth (got '", format, "')");
  exporting::OnnxOptions o;
  o.opset = get_int(r, "opset");
  o.fold_bn = r.count("fold-bn") > 0;
  o.include_preprocessing = r.count("include-preprocessing") > 0;
  const std::string batch = r["batch"].as<std::string>();
  if (batch != "dynamic") {
    o.batch = get_int(r, "batch");
    ROOST_USAGE_CHECK(o.batch >= 1, "--batch must be at least 1 or 'dynamic' (got ", o.batch, ")");
  }
  ROOST_USAGE_CHECK(o.opset >= exporting::kMinOpset && o.opset <= exporting::kMaxOpset, "--opset must be in ",
                    exporting::kMinOpset, "..", exporting::kMaxOpset, " (got ", o.opset, ")");
  if (format == "pth")
    ROOST_USAGE_CHECK(
        !r.count("fold-bn") && !r.count("include-preprocessing") && batch == "dynamic" && !r.count("opset"),
        "--opset, --fold-bn, --batch and --include-preprocessing belong to --format onnx");
  const std::string path = resolve_model(model, r["workspace"].as<std::string>());
  if (format == "onnx") exporting::export_onnx(path, o, out);
  else exporting::export_pth(path, out);
  std::cerr << "roost export: wrote " << out << " (" << format << ", from " << path << ")\n";
  return 0;
}

}  // namespace roost::cli
