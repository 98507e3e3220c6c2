// Project 6 (docs/projects/recommender.md): rating prediction on MovieLens.
//
//   r̂(u, i) = μ + b_u + b_i                          "biases"
//   r̂(u, i) = μ + b_u + b_i + p_u · q_i              "mf"   (matrix factorisation with biases)
//   r̂(u, i) = μ + b_u + b_i + MLP([p_u, q_i])        "ncf"  (neural collaborative filtering)
//
// trained on the squared error plus λ Σ_rows |row|² spread over the ratings that touch each row
// (each rating charges (b_u² + |p_u|²)/n_u + (b_i² + |q_i|²)/n_i, n = the row's train ratings), so
// a minibatch's penalty is an unbiased share of the full-data one.  The embedding tables are
// SparseEmbedding: a batch's gradient and Adam update touch only the rows it uses.
//
//   Recommender model(ml.num_users, ml.num_items, ml.train, {.model = "mf", .dim = 64});
//   FitResult r = fit_recommender(model, ml.train, ml.test, {.epochs = 20});
//   auto top = recommend(model, ml, ml.dense_user(1), 10);
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "koan/nn/container.h"
#include "koan/optim/adam.h"
#include "koan/train/history.h"
#include "recommender/movielens.h"
#include "recommender/sparse_embedding.h"

namespace koan::examples {

struct RecommenderOptions {
  std::string model = "mf";  // "biases", "mf" or "ncf"
  int64_t dim = 64;          // mf: factors; ncf: embedding size
  int64_t hidden = 64;       // ncf: MLP 2·dim -> hidden -> hidden/2 -> 1 with ReLUs
  double reg = 10;           // λ
  double init_std = 0.01;    // factors start N(0, init_std²); biases start at 0
  uint64_t seed = 0;
};

class Recommender {
 public:
  // Takes μ and each row's rating count from the training ratings.
  Recommender(int64_t num_users, int64_t num_items, const Ratings& train, RecommenderOptions o);

  struct Output {
    Tensor prediction;  // (B)
    Tensor penalty;     // 0-d: the batch's mean share of Σ |row|² (multiply by λ)
  };
  // Training forward: records the batch's embedding rows for step().
  Output forward(const Tensor& users, const Tensor& items);
  // Updates the touched embedding rows (sparse Adam) and the MLP (dense Adam), clears gradients.
  void step(double lr);
  // Predictions without a graph, clamped to the rating scale [0.5, 5].
  Tensor predict(const Tensor& users, const Tensor& items) const;

  const RecommenderOptions& options() const { return o_; }
  double global_mean() const { return mu_; }
  int64_t num_parameters() const;

  SparseEmbedding user_bias, item_bias, user_factors, item_factors;
  std::shared_ptr<nn::Sequential> mlp;  // ncf only

 private:
  Tensor mlp_input(const Tensor& p, const Tensor& q) const;
  RecommenderOptions o_;
  double mu_ = 0;
  Tensor user_count_, item_count_;  // float32 train ratings per row (at least 1)
  std::unique_ptr<optim::Adam> mlp_opt_;
};

struct FitOptions {
  int epochs = 20;
  int64_t batch_size = 1024;
  double lr = 0.01;
  uint64_t seed = 0;  // shuffling
  bool verbose = true;
};

struct FitResult {
  double test_rmse = 0, seconds = 0;
  train::History history;  // per epoch: loss (squared error + penalty), rmse (train, running), val_rmse (test)
};

FitResult fit_recommender(Recommender& model, const Ratings& train, const Ratings& test, const FitOptions& o);

// Root mean squared error of the model's (clamped) predictions, and of one constant.
double rmse(const Recommender& model, const Ratings& data);
double rmse_of_constant(double value, const Ratings& data);

struct Recommendation {
  int64_t movie_id = 0;
  std::string title;
  double predicted = 0;
};
// The n unrated movies (no train rating by this user) with the highest predicted rating, among
// the movies with at least `min_ratings` train ratings.
std::vector<Recommendation> recommend(const Recommender& model, const MovieLens& ml, int64_t dense_user, int64_t n,
                                      int64_t min_ratings = 1);

}  // namespace koan::examples
