#include "koan/io/checkpoint.h"

#include <set>

#include "koan/io/file.h"
#include "koan/io/safetensors.h"

namespace koan::io {
namespace {

using json = nlohmann::json;

void check_group_name(const std::string& g) {
  KOAN_CHECK(!g.empty() && g.find('/') == std::string::npos, ValueError,
             "save_checkpoint: group name \"", g, "\" must be non-empty and contain no '/'");
}

}  // namespace

void Checkpoint::save_rng(const std::string& name, const Generator& g) {
  rng[name] = GeneratorState{g.seed(), g.offset()};
}

void Checkpoint::restore_rng(const std::string& name, Generator& g) const {
  auto it = rng.find(name);
  KOAN_CHECK(it != rng.end(), ValueError, "Checkpoint::restore_rng: no generator \"", name,
             "\" in the checkpoint");
  g.set_state(it->second.seed, it->second.offset);
}

std::string serialize_checkpoint(const Checkpoint& ckpt) {
  std::map<std::string, Tensor> flat;
  json groups = json::object();
  for (auto& [g, named] : ckpt.tensors) {
    check_group_name(g);
    json names = json::array();
    for (auto& [n, t] : named) {
      flat.emplace(g + "/" + n, t);  // unique: '/' is not in group names
      names.push_back(n);
    }
    groups[g] = std::move(names);
  }
  json rng = json::object();
  for (auto& [n, s] : ckpt.rng) rng[n] = {{"seed", s.seed}, {"offset", s.offset}};
  json doc = {{"format", "koan.checkpoint"}, {"version", kCheckpointVersion}, {"groups", groups},
              {"state", ckpt.state}, {"rng", rng}};
  std::string text;
  try {
    text = doc.dump();
  } catch (const json::exception& e) {
    throw ValueError(str("save_checkpoint: cannot encode the state as JSON: ", e.what()));
  }
  return serialize_safetensors(flat, {{kCheckpointKey, text}});
}

void save_checkpoint(const std::string& path, const Checkpoint& ckpt) {
  atomic_write(path, serialize_checkpoint(ckpt));
}

Checkpoint parse_checkpoint(const std::string& bytes, const std::string& what) {
  SafetensorsFile file = parse_safetensors(bytes, what);
  auto bad = [&](const auto&... msg) { return IOError(str("load_checkpoint: ", what, ": ", msg...)); };
  auto it = file.metadata.find(kCheckpointKey);
  if (it == file.metadata.end())
    throw bad("no \"", kCheckpointKey, "\" metadata: a plain safetensors file, not a koan checkpoint");
  json doc;
  try {
    doc = json::parse(it->second);
  } catch (const json::exception& e) {
    throw bad("checkpoint metadata is not valid JSON: ", e.what());
  }
  if (!doc.is_object() || doc.value("format", json()) != "koan.checkpoint")
    throw bad("checkpoint metadata lacks \"format\": \"koan.checkpoint\"");
  const json& version = doc.value("version", json());
  if (!version.is_number_integer() || version.get<int64_t>() != kCheckpointVersion)
    throw bad("checkpoint format version ", version.dump(), " is not supported (this koan reads ",
              kCheckpointVersion, ")");
  for (const char* k : {"groups", "state", "rng"})
    if (!doc.contains(k) || !doc[k].is_object()) throw bad("checkpoint metadata needs an object \"", k, "\"");

  Checkpoint ckpt;
  std::set<std::string> claimed;
  for (auto& [g, names] : doc["groups"].items()) {
    if (g.empty() || g.find('/') != std::string::npos) throw bad("invalid group name \"", g, "\"");
    if (!names.is_array()) throw bad("group \"", g, "\" must list its tensor names");
    auto& group = ckpt.tensors[g];  // an empty group survives the round trip
    for (auto& n : names) {
      if (!n.is_string()) throw bad("group \"", g, "\" lists a non-string name ", n.dump());
      std::string key = g + "/" + n.get<std::string>();
      auto t = file.tensors.find(key);
      if (t == file.tensors.end()) throw bad("tensor \"", key, "\" is listed but missing");
      if (!claimed.insert(key).second) throw bad("tensor \"", key, "\" is listed twice");
      group[n.get<std::string>()] = t->second;
    }
  }
  for (auto& [key, t] : file.tensors)
    if (!claimed.count(key)) throw bad("tensor \"", key, "\" belongs to no group");
  ckpt.state = doc["state"];
  for (auto& [n, s] : doc["rng"].items()) {
    if (!s.is_object() || !s.contains("seed") || !s.contains("offset") || !s["seed"].is_number_unsigned() ||
        !s["offset"].is_number_unsigned())
      throw bad("generator \"", n, "\" needs unsigned integer \"seed\" and \"offset\"");
    ckpt.rng[n] = GeneratorState{s["seed"].get<uint64_t>(), s["offset"].get<uint64_t>()};
  }
  return ckpt;
}

Checkpoint load_checkpoint(const std::string& path) { return parse_checkpoint(read_file(path), path); }

}  // namespace koan::io
