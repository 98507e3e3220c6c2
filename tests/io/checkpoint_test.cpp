// Checkpoints: tensor groups + JSON state + generator states in one validated safetensors file.
#include <fstream>

#include "io/io_test_util.h"
#include "koan/io/checkpoint.h"
#include "koan/io/file.h"
#include "koan/io/safetensors.h"
#include "support/testing.h"

namespace koan {
namespace {

using nlohmann::json;
using testing::ScratchDir;

io::Checkpoint sample() {
  io::Checkpoint c;
  c.tensors["model"] = {{"fc1.weight", from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3})},
                        {"fc1.bias", from_vector<float>({0.5f, -0.5f}, Shape{2})},
                        {"bn.num_batches_tracked", scalar_tensor(12, DType::Int64)}};
  c.tensors["optimizer"] = {{"state.0.exp_avg", from_vector<double>({0.1, 0.2}, Shape{2})},
                            {"state.0/odd/name", zeros({0})}};
  c.tensors["empty_group"] = {};
  c.state = {{"epoch", 3},
             {"step", 2814},
             {"optimizer", {{"name", "adam"}, {"lr", 1e-3}, {"betas", {0.9, 0.999}}, {"amsgrad", false}}},
             {"scheduler", {{"last_epoch", 2}, {"gamma", 0.5}}},
             {"note", "r\u00e9sum\u00e9"}};
  Generator g(1234);
  g.reserve(77);
  c.save_rng("data", g);
  c.rng["big"] = {0xFFFFFFFFFFFFFFFFull, 0x8000000000000001ull};
  return c;
}

TEST(Checkpoint, RoundTripsTensorsStateAndGenerators) {
  ScratchDir dir;
  std::string path = dir.file("ckpt.safetensors");
  io::Checkpoint in = sample();
  io::save_checkpoint(path, in);
  io::Checkpoint out = io::load_checkpoint(path);
  ASSERT_EQ(out.tensors.size(), 3u);
  EXPECT_TRUE(out.tensors.at("empty_group").empty());
  for (auto& [g, named] : in.tensors) {
    ASSERT_EQ(out.tensors.at(g).size(), named.size()) << g;
    for (auto& [n, t] : named) {
      const Tensor& u = out.tensors.at(g).at(n);
      EXPECT_EQ(u.dtype(), t.dtype()) << n;
      EXPECT_EQ(u.shape(), t.shape()) << n;
      EXPECT_EQ(u.to_vector<double>(), t.to_vector<double>()) << n;
    }
  }
  EXPECT_EQ(out.state, in.state);
  EXPECT_EQ(out.state["step"].get<int>(), 2814);
  EXPECT_EQ(out.rng, in.rng);
  EXPECT_EQ(out.rng.at("data"), (io::GeneratorState{1234, 77}));
}

TEST(Checkpoint, IsAPlainSafetensorsFile) {
  auto f = io::parse_safetensors(io::serialize_checkpoint(sample()));
  EXPECT_TRUE(f.tensors.count("model/fc1.weight"));
  EXPECT_TRUE(f.tensors.count("optimizer/state.0/odd/name"));
  json doc = json::parse(f.metadata.at(io::kCheckpointKey));
  EXPECT_EQ(doc["format"], "koan.checkpoint");
  EXPECT_EQ(doc["version"], io::kCheckpointVersion);
}

TEST(Checkpoint, RestoringTheDefaultGeneratorReplaysTheSameNumbers) {
  manual_seed(99);
  (void)randn({5});
  io::Checkpoint c;
  c.save_default_rng();
  std::vector<float> first = randn({8}).to_vector<float>();
  auto back = io::parse_checkpoint(io::serialize_checkpoint(c));
  (void)randn({3});  // move the stream on
  back.restore_default_rng();
  EXPECT_EQ(randn({8}).to_vector<float>(), first);

  Generator g(5), h(0);
  std::vector<float> from_g;
  c.save_rng("g", g);
  from_g = rand({4}, {}, &g).to_vector<float>();
  c.restore_rng("g", h);
  EXPECT_EQ(rand({4}, {}, &h).to_vector<float>(), from_g);
  EXPECT_THROW(c.restore_rng("absent", h), ValueError);
}

TEST(Checkpoint, BadGroupNamesAreRefusedOnSave) {
  io::Checkpoint c;
  c.tensors["a/b"] = {{"x", zeros({1})}};
  EXPECT_THROW(io::serialize_checkpoint(c), ValueError);
  io::Checkpoint d;
  d.tensors[""] = {{"x", zeros({1})}};
  EXPECT_THROW(io::serialize_checkpoint(d), ValueError);
}

TEST(Checkpoint, SaveIsAtomicAndReplacesTheOldCheckpoint) {
  ScratchDir dir;
  std::string path = dir.file("c.safetensors");
  io::Checkpoint c = sample();
  io::save_checkpoint(path, c);
  c.state["epoch"] = 4;
  io::save_checkpoint(path, c);
  EXPECT_EQ(io::load_checkpoint(path).state["epoch"], 4);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

std::string with_doc(const json& doc, const std::map<std::string, Tensor>& tensors = {}) {
  return io::serialize_safetensors(tensors, {{io::kCheckpointKey, doc.dump()}});
}

TEST(Checkpoint, InconsistentFilesAreRefusedWithIOError) {
  json good = json::parse(io::parse_safetensors(io::serialize_checkpoint(sample())).metadata.at(io::kCheckpointKey));
  auto tensors = io::parse_safetensors(io::serialize_checkpoint(sample())).tensors;
  ASSERT_NO_THROW(io::parse_checkpoint(with_doc(good, tensors)));

  std::vector<std::pair<const char*, std::string>> bad;
  bad.push_back({"plain safetensors", io::serialize_safetensors({{"w", zeros({1})}})});
  bad.push_back({"metadata not JSON", io::serialize_safetensors({}, {{io::kCheckpointKey, "{oops"}})});
  bad.push_back({"not a safetensors file", "garbage"});
  auto mutate = [&](const char* what, auto&& edit) {
    json d = good;
    edit(d);
    bad.push_back({what, with_doc(d, tensors)});
  };
  mutate("wrong format", [](json& d) { d["format"] = "other"; });
  mutate("future version", [](json& d) { d["version"] = 99; });
  mutate("version missing", [](json& d) { d.erase("version"); });
  mutate("groups missing", [](json& d) { d.erase("groups"); });
  mutate("state not an object", [](json& d) { d["state"] = 3; });
  mutate("rng missing", [](json& d) { d.erase("rng"); });
  mutate("group not a list", [](json& d) { d["groups"]["model"] = "x"; });
  mutate("non-string tensor name", [](json& d) { d["groups"]["model"].push_back(5); });
  mutate("listed tensor missing", [](json& d) { d["groups"]["model"].push_back("ghost"); });
  mutate("tensor listed twice", [](json& d) { d["groups"]["model"].push_back("fc1.bias"); });
  mutate("tensor in no group", [](json& d) { d["groups"].erase("optimizer"); });
  mutate("group name with slash", [](json& d) { d["groups"]["a/b"] = json::array(); });
  mutate("negative seed", [](json& d) { d["rng"]["data"]["seed"] = -1; });
  mutate("float offset", [](json& d) { d["rng"]["data"]["offset"] = 1.5; });
  mutate("generator without offset", [](json& d) { d["rng"]["data"].erase("offset"); });
  for (auto& [what, bytes] : bad) {
    SCOPED_TRACE(what);
    EXPECT_THROW(io::parse_checkpoint(bytes), IOError);
  }
}

TEST(Checkpoint, LoadNamesThePath) {
  ScratchDir dir;
  std::string path = dir.file("plain.safetensors");
  io::save_safetensors(path, {{"w", zeros({1})}});
  try {
    io::load_checkpoint(path);
    FAIL();
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace koan
