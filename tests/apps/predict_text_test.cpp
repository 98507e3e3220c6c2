// `koan predict MODEL FILE` with a text classifier: plain-text and TSV inputs, labels and
// probabilities per line, accuracy when the file has labels, errors for a bad TSV.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "koan/train/model_file.h"
#include "support/testing.h"

#ifndef KOAN_CLI
#error "KOAN_CLI must name the koan executable"
#endif

namespace koan {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

int run_cli(const std::string& args, std::string* out) {
  fs::path o = koan::testing::temp_path("koan_predict_text_out.txt");
  int rc = std::system((std::string(KOAN_CLI) + " " + args + " > " + o.string() + " 2>&1").c_str());
  std::ifstream f(o);
  out->assign(std::istreambuf_iterator<char>(f), {});
  return rc;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

// A bag-of-embeddings model whose class-1 score is 12 x the share of the word "good" (id 2) in
// the sentence and whose class-0 score is 1: the embedding of "good" is (0, 12), every other
// word's (0, 0); the linear layer is the identity plus a bias (1, 0).
std::string make_model(const fs::path& dir) {
  json arch = {{"layers",
                {{{"type", "Embedding"}, {"num_embeddings", 5}, {"embedding_dim", 2}},
                 {{"type", "GlobalAvgPool1d"}},
                 {{"type", "Linear"}, {"in", 2}, {"out", 2}}}},
               {"text", {{"labels", {"negative", "positive"}}, {"vocabulary", {"<pad>", "<unk>", "good", "'s", "film"}}}}};
  auto net = train::build_sequential(arch);
  nn::StateDict sd;
  sd["0.weight"] = tensor({{0.f, 0.f}, {0.f, 0.f}, {0.f, 12.f}, {0.f, 0.f}, {0.f, 0.f}});
  sd["2.weight"] = tensor({{1.f, 0.f}, {0.f, 1.f}});
  sd["2.bias"] = tensor({1.f, 0.f});  // without "good", negative wins
  net->load_state_dict(sd);
  std::string path = (dir / "text.koan").string();
  train::save_model(path, *net, arch);
  return path;
}

TEST(PredictText, PlainTextAndTsvGiveALabelAndProbabilityPerLine) {
  fs::path dir = koan::testing::temp_path("koan_predict_text");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string model = make_model(dir);
  // Raw text: capitals and punctuation are split off as SST's tokens are ("Good!" -> "good", "!").
  std::ofstream(dir / "s.txt") << "It's a Good film!\n\nfilm film\n";
  std::string out;
  ASSERT_EQ(run_cli("predict " + model + " " + (dir / "s.txt").string(), &out), 0) << out;
  auto l = lines_of(out);
  ASSERT_EQ(l.size(), 2u) << out;  // the blank line is not a sentence
  // it 's a good film ! -> one "good" in 6 tokens: logits (1, 2), p = sigmoid(1).
  EXPECT_EQ(l[0], "0\tpositive\t0.7311\tIt's a Good film!") << out;
  EXPECT_EQ(l[1].rfind("1\tnegative\t", 0), 0u) << out;

  std::ofstream(dir / "s.tsv") << "sentence\tlabel\ngood good \t1\nfilm \t1\nfilm 's \t0\n";
  ASSERT_EQ(run_cli("predict " + model + " " + (dir / "s.tsv").string(), &out), 0) << out;
  l = lines_of(out);
  ASSERT_EQ(l.size(), 4u) << out;
  EXPECT_EQ(l[0].rfind("0\tpositive\t", 0), 0u) << out;
  EXPECT_EQ(l[3], "# accuracy 0.6667 on 3 labelled sentences") << out;
  ASSERT_EQ(run_cli("predict " + model + " " + (dir / "s.tsv").string() + " --limit 1", &out), 0) << out;
  EXPECT_EQ(lines_of(out).size(), 2u) << out;

  std::ofstream(dir / "bad.tsv") << "text\tlabel\ngood\t1\n";
  EXPECT_NE(run_cli("predict " + model + " " + (dir / "bad.tsv").string(), &out), 0);
  EXPECT_NE(out.find("sentence"), std::string::npos) << out;
}

}  // namespace
}  // namespace koan
