// registry.cc — model versions: copy, checksum, record; and verified downloads.
#include "roost/run/registry.h"

#include <filesystem>

#include "roost/core/error.h"
#include "roost/core/fs.h"
#include "roost/run/sha256.h"

namespace fs = std::filesystem;

namespace roost::run {

namespace {
constexpr const char* kColumns = "name, version, run_id, path, source_path, sha256, size, metrics, created_at";

ModelVersion read_version(const Statement& s) {
  ModelVersion m;
  m.name = s.get_text(0);
  m.version = static_cast<int>(s.get_int(1));
  m.run_id = s.get_int(2);
  m.path = s.get_text(3);
  m.source_path = s.get_text(4);
  m.sha256 = s.get_text(5);
  m.size = s.get_int(6);
  m.metrics = s.get_text(7);
  m.created_at = s.get_double(8);
  return m;
}

void check_model_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 100 && name[0] != '.';
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
  if (!ok) ROOST_USAGE_ERROR("--name '", name, "': use letters, digits, '-', '_' and '.'");
}

void copy_file(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) ROOST_THROW("cannot copy ", from, " to ", to, ": ", ec.message());
}
}  // namespace

ModelVersion ModelRegistry::register_model(int64_t run_id, const std::string& name, const std::string& relative_path) {
  check_model_name(name);
  RunRecord run = store_.get_run(run_id);
  if (run.status != RunStatus::kCompleted)
    ROOST_USAGE_ERROR("run ", run_id, " is ", to_string(run.status),
                      "; only a Completed run's model can be registered");
  fs::path rel(relative_path);
  if (rel.is_absolute() || rel.lexically_normal().string().rfind("..", 0) == 0)
    ROOST_USAGE_ERROR("--path ", relative_path, ": give a path inside the run's folder, e.g. outputs/model.h5");
  const std::string source = run.run_dir + "/" + rel.lexically_normal().string();
  if (!fs::is_regular_file(source)) ROOST_USAGE_ERROR("run ", run_id, " has no ", relative_path, " (", source, ")");

  // The run's metrics travel with the model: every epoch's row and the best validation accuracy.
  std::string rows;
  for (const auto& row : store_.metrics(run_id)) rows += (rows.empty() ? "" : ",") + row;
  std::string metrics = "{\"epochs\":[" + rows + "],\"best_val_acc\":" +
                        (run.best_val_acc ? std::to_string(*run.best_val_acc) : std::string("null")) + "}";

  Database& db = store_.db();
  Transaction tx(db);  // the version number is taken and recorded under one write lock
  ModelVersion m;
  m.name = name;
  {
    Statement next = db.prepare("SELECT coalesce(max(version), 0) + 1 FROM models WHERE name = ?");
    next.bind(1, name);
    next.step();
    m.version = static_cast<int>(next.get_int(0));
  }
  m.run_id = run_id;
  m.source_path = source;
  const std::string dir = store_.workspace() + "/models/" + name + "/" + std::to_string(m.version);
  ensure_writable_dir(dir);
  m.path = dir + "/" + rel.filename().string();
  copy_file(source, m.path);
  m.sha256 = sha256_file(m.path);
  m.size = static_cast<int64_t>(fs::file_size(m.path));
  m.metrics = metrics;
  m.created_at = now_seconds();
  db.prepare(std::string("INSERT INTO models(") + kColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, json(?), ?)")
      .bind(1, m.name)
      .bind(2, m.version)
      .bind(3, m.run_id)
      .bind(4, m.path)
      .bind(5, m.source_path)
      .bind(6, m.sha256)
      .bind(7, m.size)
      .bind(8, m.metrics)
      .bind(9, m.created_at)
      .run();
  tx.commit();
  return m;
}

std::vector<ModelVersion> ModelRegistry::list(const std::string& name) {
  Statement s = store_.db().prepare(std::string("SELECT ") + kColumns +
                                    " FROM models WHERE ?1 = '' OR name = ?1 ORDER BY name, version");
  s.bind(1, name);
  std::vector<ModelVersion> out;
  while (s.step()) out.push_back(read_version(s));
  return out;
}

ModelVersion ModelRegistry::get(const std::string& name, int version) {
  Statement s = store_.db().prepare(std::string("SELECT ") + kColumns +
                                    " FROM models WHERE name = ?1 AND (?2 = 0 OR version = ?2) "
                                    "ORDER BY version DESC LIMIT 1");
  s.bind(1, name).bind(2, version);
  if (!s.step()) {
    if (version == 0) ROOST_USAGE_ERROR("no model named '", name, "' in the registry");
    ROOST_USAGE_ERROR("model '", name, "' has no version ", version);
  }
  return read_version(s);
}

ModelFile ModelRegistry::attach_file(const std::string& name, int version, const std::string& format,
                                     const std::string& file) {
  ROOST_USAGE_CHECK(format == "onnx" || format == "pth", "format '", format, "': attach onnx or pth files");
  const ModelVersion m = get(name, version);
  for (const ModelFile& f : files(name, m.version))
    if (f.format == format)
      ROOST_USAGE_ERROR("model '", name, "' version ", m.version, " already has a ", format, " file");
  ModelFile f;
  f.format = format;
  f.path = (fs::path(m.path).parent_path() / ("model." + format)).string();
  std::error_code ec;
  fs::rename(file, f.path, ec);  // the usual case: staged in the workspace, same filesystem
  if (ec) copy_file(file, f.path);
  f.sha256 = sha256_file(f.path);
  f.size = static_cast<int64_t>(fs::file_size(f.path));
  store_.db()
      .prepare("INSERT INTO model_files(name, version, format, path, sha256, size) VALUES (?, ?, ?, ?, ?, ?)")
      .bind(1, name)
      .bind(2, m.version)
      .bind(3, format)
      .bind(4, f.path)
      .bind(5, f.sha256)
      .bind(6, f.size)
      .run();
  return f;
}

std::vector<ModelFile> ModelRegistry::files(const std::string& name, int version) {
  Statement s = store_.db().prepare(
      "SELECT format, path, sha256, size FROM model_files WHERE name = ? AND version = ? ORDER BY format");
  s.bind(1, name).bind(2, version);
  std::vector<ModelFile> out;
  while (s.step()) out.push_back({s.get_text(0), s.get_text(1), s.get_text(2), s.get_int(3)});
  return out;
}

std::string ModelRegistry::download(const std::string& name, int version, const std::string& dir,
                                    const std::string& format) {
  const ModelVersion m = get(name, version);
  std::string path = m.path, sha256 = m.sha256;
  if (!format.empty() && format != "h5") {
    std::string there = "h5";
    path.clear();
    for (const ModelFile& f : files(name, m.version)) {
      there += ", " + f.format;
      if (f.format == format) path = f.path, sha256 = f.sha256;
    }
    if (path.empty())
      ROOST_USAGE_ERROR("model '", name, "' version ", m.version, " has no ", format, " file (it has: ", there,
                        "; roost models register --export ", format, " attaches one)");
  }
  ensure_writable_dir(dir);
  const std::string target = (fs::path(dir) / fs::path(path).filename()).string();
  const std::string partial = target + ".part";
  copy_file(path, partial);
  const std::string sum = sha256_file(partial);
  if (sum != sha256) {
    fs::remove(partial);
    ROOST_THROW("checksum mismatch for model '", name, "' version ", m.version, ": the registry recorded ", sha256,
                ", the copy of ", path, " has ", sum, " (the stored file is damaged)");
  }
  fs::rename(partial, target);  // the file appears under its name only once it is verified
  return target;
}

}  // namespace roost::run
