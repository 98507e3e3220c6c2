// Project 6 (examples/recommender): the MovieLens loader on a small written copy of its files,
// SparseEmbedding's row-sparse gradient and lazy Adam step, and the models learning generated
// low-rank ratings (the real data is not in CI).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "data/data_test_util.h"
#include "support/testing.h"
#include "koan/koan.h"
#include "recommender/movielens.h"
#include "recommender/recommender.h"
#include "recommender/sparse_embedding.h"

using namespace koan;
using namespace koan::examples;
using koan::data::testing::TempDir;
using koan::data::testing::write_text;

TEST(MovieLens, LoaderMapsIdsSplitsRowsAndReadsTitles) {
  TempDir dir("movielens_small");
  write_text(dir.file("ratings.csv"),
             "userId,movieId,rating,timestamp\n7,50,4,1\n3,10,2.5,2\n7,10,5,3\n3,99,1,4\n9,50,3.5,5\n");
  write_text(dir.file("movies.csv"),
             "movieId,year,title\n10,1995,Heat\n50,2002,11'09\"01 - September 11\n99,1999,\"Great\" Cats, Again\n");
  write_text(dir.file("test.txt"), "4\n1\n");
  MovieLens ml = load_movielens(dir.str(), dir.file("test.txt"));
  EXPECT_EQ(ml.num_users, 3);
  EXPECT_EQ(ml.num_items, 3);
  EXPECT_EQ(ml.user_ids, (std::vector<int64_t>{3, 7, 9}));
  EXPECT_EQ(ml.movie_ids, (std::vector<int64_t>{10, 50, 99}));
  // Train: rows 0, 2, 3 in order; test: rows 4 then 1, as the file lists them.
  EXPECT_EQ(ml.train.user.to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 0}));
  EXPECT_EQ(ml.train.item.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 2}));
  EXPECT_EQ(ml.train.rating.to_vector<float>(), (std::vector<float>{4, 5, 1}));
  EXPECT_EQ(ml.test.user.to_vector<int64_t>(), (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(ml.test.rating.to_vector<float>(), (std::vector<float>{3.5f, 2.5f}));
  EXPECT_EQ(ml.titles.at(99), "\"Great\" Cats, Again (1999)");
  EXPECT_EQ(ml.dense_user(9), 2);
  EXPECT_THROW(ml.dense_user(4), IndexError);
  write_text(dir.file("bad.txt"), "1\n1\n");
  EXPECT_THROW(load_movielens(dir.str(), dir.file("bad.txt")), ValueError);
}

TEST(SparseEmbedding, GradientAndUpdateTouchOnlyTheBatchRows) {
  Generator g(1);
  SparseEmbedding emb(6, 3, 0.5, g);
  Tensor before = emb.weight.clone();
  Tensor e = emb.forward(tensor({4, 1, 4}));
  ASSERT_EQ(e.shape(), Shape({3, 3}));
  EXPECT_TRUE(allclose(e, index_select(before, 0, tensor({4, 1, 4}))));
  sum(e * tensor({{1.f, 2.f, 3.f}, {1.f, 1.f, 1.f}, {1.f, 0.f, 0.f}})).backward();
  // The gradient has one row per distinct id (first-seen order: 4, 1); repeated ids sum.
  ASSERT_EQ(emb.rows().grad().shape(), Shape({2, 3}));
  EXPECT_EQ(emb.rows().grad().to_vector<float>(), (std::vector<float>{2, 2, 3, 1, 1, 1}));
  emb.step({.lr = 0.1});
  // Adam's first step moves each touched element by lr against its gradient's sign; others stay.
  Tensor delta = emb.weight - before;
  std::vector<float> d = delta.to_vector<float>();
  for (int64_t row = 0; row < 6; ++row)
    for (int64_t c = 0; c < 3; ++c) {
      float want = (row == 4 || row == 1) ? -0.1f : 0.f;
      EXPECT_NEAR(d[row * 3 + c], want, 1e-6) << "row " << row << " col " << c;
    }
  EXPECT_EQ(emb.steps(), 1);
  EXPECT_THROW(emb.forward(tensor({6})), IndexError);
}

// Five steps against torch.nn.Embedding(sparse=True) + torch.optim.SparseAdam(lr 0.05), with
// repeated ids, an unused row and a row idle between its uses (gen_sparse_adam.py).
TEST(SparseEmbedding, MatchesTorchSparseAdam) {
  auto f = io::load_safetensors(std::string(KOAN_SOURCE_DIR) + "/tests/fixtures/projects/sparse_adam.safetensors");
  const Tensor &ids = f.tensors.at("ids"), &G = f.tensors.at("G"), &W = f.tensors.at("W");
  Generator g(0);
  SparseEmbedding emb(7, 3, 0, g);
  emb.weight.copy_(f.tensors.at("W0"));
  for (int64_t s = 0; s < 5; ++s) {
    sum(emb.forward(ids[s]) * G[s]).backward();
    emb.step({.lr = 0.05});
    EXPECT_TRUE(koan::testing::close(emb.weight, W[s], 1e-5, 1e-6)) << "after step " << s + 1;
  }
  EXPECT_TRUE(koan::testing::close(emb.weight[6], f.tensors.at("W0")[6], 0, 0)) << "row 6 is never used";
}

namespace {
// Ratings from a model with biases and rank-2 interactions, plus noise, clipped to [0.5, 5]:
// 60 users, 80 items.
struct Truth {
  Tensor bu, bi, pu, qi;
};
Ratings generated_ratings(int64_t n, uint64_t seed, const Truth& t) {
  Generator g(seed);
  Tensor u = randint(0, 60, {n}, DType::Int64, &g), i = randint(0, 80, {n}, DType::Int64, &g);
  Tensor r = 3.5 + index_select(t.bu, 0, u) + index_select(t.bi, 0, i) +
             sum(index_select(t.pu, 0, u) * index_select(t.qi, 0, i), {1}) + randn({n}, {}, &g) * 0.3;
  return {u, i, clamp(r, 0.5, 5.0)};
}
}  // namespace

TEST(Recommender, FactorisationBeatsBiasesBeatsTheMeanOnGeneratedData) {
  // One thread: these steps are tiny, too small for a second thread to pay for its wake-ups.
  NumThreadsGuard one_thread(1);
  Generator g(5);
  Truth truth{randn({60}, {}, &g) * 0.5, randn({80}, {}, &g) * 0.5, randn({60, 2}, {}, &g) * 0.8,
              randn({80, 2}, {}, &g) * 0.8};
  Ratings train = generated_ratings(3000, 6, truth), test = generated_ratings(600, 7, truth);
  auto fit = [&](RecommenderOptions o, int epochs) {
    Recommender m(60, 80, train, o);
    FitResult r = fit_recommender(m, train, test, {.epochs = epochs, .batch_size = 200, .lr = 0.05, .verbose = false});
    EXPECT_EQ(r.history.epochs(), static_cast<size_t>(epochs));
    return r.test_rmse;
  };
  Recommender probe(60, 80, train, {.model = "biases"});
  const double mean_rmse = rmse_of_constant(probe.global_mean(), test);
  const double bias_rmse = fit({.model = "biases", .reg = 1}, 10);
  const double mf_rmse = fit({.model = "mf", .dim = 4, .reg = 1, .init_std = 0.1}, 20);
  const double ncf_rmse = fit({.model = "ncf", .dim = 4, .hidden = 16, .reg = 1, .init_std = 0.1}, 20);
  EXPECT_LT(bias_rmse, 0.9 * mean_rmse);
  EXPECT_LT(mf_rmse, 0.8 * bias_rmse) << "mean " << mean_rmse << " biases " << bias_rmse;
  EXPECT_LT(ncf_rmse, bias_rmse) << "mean " << mean_rmse << " biases " << bias_rmse;
  EXPECT_THROW(Recommender(60, 80, train, {.model = "svd"}), ValueError);
}

TEST(Recommender, RecommendsUnratedMoviesBestFirst) {
  MovieLens ml;
  ml.num_users = 2;
  ml.num_items = 4;
  ml.user_ids = {1, 2};
  ml.movie_ids = {10, 20, 30, 40};
  ml.titles = {{10, "A"}, {20, "B"}, {30, "C"}};
  // User 0 rated movie 0; movies 1..3 are rated by user 1 with 5, 1, 3.
  ml.train = {tensor({0, 1, 1, 1}), tensor({0, 1, 2, 3}), tensor({4.f, 5.f, 1.f, 3.f})};
  Recommender m(2, 4, ml.train, {.model = "biases", .reg = 0});
  fit_recommender(m, ml.train, ml.train, {.epochs = 200, .batch_size = 4, .lr = 0.05, .verbose = false});
  auto top = recommend(m, ml, 0, 2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].movie_id, 20);
  EXPECT_EQ(top[1].movie_id, 40);
  EXPECT_EQ(top[1].title, "movie 40");
  EXPECT_GT(top[0].predicted, top[1].predicted);
}
