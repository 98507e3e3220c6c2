// Model files with the sequence layers (Embedding, LSTM, GRU, LayerNorm, global pooling): built
// from JSON, saved and loaded back with the same outputs; bad options named.
#include <filesystem>

#include "koan/nn/global_pool.h"
#include "koan/nn/rnn.h"
#include "koan/train/model_file.h"
#include "support/testing.h"

namespace koan {
namespace {

using json = nlohmann::json;

TEST(ModelFileLayers, SequenceClassifierRoundTrips) {
  json arch = json::parse(R"({"layers": [
      {"type": "Embedding", "num_embeddings": 20, "embedding_dim": 6, "padding_idx": 0},
      {"type": "LSTM", "input_size": 6, "hidden_size": 5, "batch_first": true, "bidirectional": true},
      {"type": "GlobalMaxPool1d"},
      {"type": "LayerNorm", "normalized_shape": 10},
      {"type": "Linear", "in": 10, "out": 2}],
    "text": {"labels": ["negative", "positive"]}})");
  manual_seed(4);
  auto net = train::build_sequential(arch);
  ASSERT_EQ(net->size(), 5u);
  EXPECT_TRUE(net->named_parameters().size() > 0);
  auto lstm = std::dynamic_pointer_cast<nn::LSTM>((*net)[1]);
  ASSERT_TRUE(lstm);
  EXPECT_TRUE(lstm->options().bidirectional);
  EXPECT_TRUE(lstm->options().batch_first);
  net->eval();
  Tensor ids = from_vector(std::vector<int64_t>{3, 4, 5, 1, 9, 9, 2, 0}, Shape{2, 4});
  Tensor y = net->forward(ids);
  EXPECT_EQ(y.shape(), (Shape{2, 2}));

  auto path = (koan::testing::temp_path("koan_seq_model.koan")).string();
  train::save_model(path, *net, arch);
  auto back = train::load_model(path);
  back->eval();
  EXPECT_TRUE(testing::close(back->forward(ids), y, 0, 0));
  // Keys beside "layers" stay in the stored architecture.
  EXPECT_EQ(train::model_architecture(path)["text"]["labels"][1], "positive");
}

TEST(ModelFileLayers, GruBagAndLayerNormShapes) {
  auto gru = train::build_layer(json::parse(R"({"type": "GRU", "input_size": 4, "hidden_size": 3, "num_layers": 2})"));
  EXPECT_EQ(gru->forward(randn({7, 2, 4})).shape(), (Shape{7, 2, 3}));  // (T, B, H): batch_first off
  auto avg = train::build_layer(json::parse(R"({"type": "GlobalAvgPool1d", "dim": 2})"));
  EXPECT_EQ(avg->forward(randn({2, 3, 5})).shape(), (Shape{2, 3}));
  auto ln = train::build_layer(json::parse(R"({"type": "LayerNorm", "normalized_shape": [3, 4], "eps": 1e-6})"));
  EXPECT_EQ(ln->named_parameters().size(), 2u);
  EXPECT_EQ(ln->forward(randn({2, 3, 4})).shape(), (Shape{2, 3, 4}));
}

TEST(ModelFileLayers, BadOptionsAreNamed) {
  auto msg = [](const char* spec) {
    try {
      train::build_layer(json::parse(spec));
    } catch (const ValueError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(msg(R"({"type": "LSTM", "input_size": 4})").find("hidden_size"), std::string::npos);
  EXPECT_NE(msg(R"({"type": "GRU", "input_size": 4, "hidden_size": 3, "bidirectionl": true})").find("bidirectionl"),
            std::string::npos);
  EXPECT_NE(msg(R"({"type": "Embedding", "num_embeddings": 10})").find("embedding_dim"), std::string::npos);
  EXPECT_NE(msg(R"({"type": "LayerNorm", "normalized_shape": ["a"]})").find("normalized_shape"), std::string::npos);
}

}  // namespace
}  // namespace koan
