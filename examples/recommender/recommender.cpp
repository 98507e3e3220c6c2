#include "recommender/recommender.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "koan/autograd/grad_mode.h"
#include "koan/data/dataset.h"
#include "koan/nn/activation.h"
#include "koan/nn/linear.h"
#include "koan/ops/binary.h"
#include "koan/ops/index.h"
#include "koan/ops/join.h"
#include "koan/ops/loss.h"
#include "koan/ops/operators.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"
#include "koan/ops/sort.h"
#include "koan/ops/unary.h"
#include "koan/tensor/creation.h"

namespace koan::examples {

namespace {
Generator& seeded(Generator& g, uint64_t seed) {
  g.manual_seed(seed);
  return g;
}

Tensor counts(const Tensor& ids, int64_t n) {
  std::vector<float> c(n, 0.f);
  for (int64_t id : ids.to_vector<int64_t>()) c[id] += 1;
  for (float& x : c) x = std::max(x, 1.f);
  return from_vector(c);
}

// Each rating's share of the penalty of the rows it touches: |row|² / n_row.
Tensor share(const Tensor& rows, const Tensor& count) {
  return sum(rows * rows, {-1}) / count;
}

bool known_model(const std::string& m) { return m == "biases" || m == "mf" || m == "ncf"; }
}  // namespace

Recommender::Recommender(int64_t num_users, int64_t num_items, const Ratings& train, RecommenderOptions o)
    : user_bias(num_users, 1, 0, seeded(default_generator(), o.seed)),
      item_bias(num_items, 1, 0, default_generator()),
      // The biases model never uses the factor tables: they are one column wide and stay untouched.
      user_factors(num_users, o.model == "biases" ? 1 : o.dim, o.init_std, default_generator()),
      item_factors(num_items, o.model == "biases" ? 1 : o.dim, o.init_std, default_generator()),
      o_(std::move(o)) {
  KOAN_CHECK(known_model(o_.model), ValueError, "Recommender: model \"", o_.model,
             "\" is not one of biases, mf, ncf");
  KOAN_CHECK(o_.dim > 0 && o_.hidden >= 2 && o_.reg >= 0, ValueError, "Recommender: dim ", o_.dim, ", hidden ",
             o_.hidden, " and reg ", o_.reg, " must be positive (hidden at least 2, reg may be 0)");
  KOAN_CHECK(train.size() > 0, ValueError, "Recommender: no training ratings");
  mu_ = mean(train.rating.to(DType::Float64)).item<double>();
  user_count_ = counts(train.user, num_users);
  item_count_ = counts(train.item, num_items);
  if (o_.model == "ncf") {
    manual_seed(o_.seed + 1);
    mlp = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Linear>(nn::LinearOptions{.in = 2 * o_.dim, .out = o_.hidden}),
        std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Linear>(nn::LinearOptions{.in = o_.hidden, .out = o_.hidden / 2}),
        std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Linear>(nn::LinearOptions{.in = o_.hidden / 2, .out = 1})});
    mlp_opt_ = std::make_unique<optim::Adam>(mlp->parameters());
  }
}

Tensor Recommender::mlp_input(const Tensor& p, const Tensor& q) const { return cat({p, q}, 1); }

Recommender::Output Recommender::forward(const Tensor& users, const Tensor& items) {
  Tensor bu = user_bias.forward(users).squeeze(1), bi = item_bias.forward(items).squeeze(1);
  Tensor nu = index_select(user_count_, 0, users), ni = index_select(item_count_, 0, items);
  Tensor pred = bu + bi + mu_;
  Tensor pen = bu * bu / nu + bi * bi / ni;
  if (o_.model != "biases") {
    Tensor p = user_factors.forward(users), q = item_factors.forward(items);
    pred = pred + (o_.model == "mf" ? sum(p * q, {1}) : mlp->forward(mlp_input(p, q)).squeeze(1));
    pen = pen + share(p, nu) + share(q, ni);
  }
  return {pred, mean(pen)};
}

void Recommender::step(double lr) {
  SparseAdamOptions so{.lr = lr};
  user_bias.step(so);
  item_bias.step(so);
  user_factors.step(so);
  item_factors.step(so);
  if (mlp_opt_) {
    mlp_opt_->options(0).lr = lr;
    mlp_opt_->step();
    mlp_opt_->zero_grad();
  }
}

Tensor Recommender::predict(const Tensor& users, const Tensor& items) const {
  NoGradGuard no_grad;
  Tensor pred = user_bias.lookup(users).squeeze(1) + item_bias.lookup(items).squeeze(1) + mu_;
  if (o_.model != "biases") {
    Tensor p = user_factors.lookup(users), q = item_factors.lookup(items);
    if (o_.model == "mf") pred = pred + sum(p * q, {1});
    else {
      mlp->eval();
      pred = pred + mlp->forward(mlp_input(p, q)).squeeze(1);
      mlp->train();
    }
  }
  return clamp(pred, 0.5, 5.0);
}

int64_t Recommender::num_parameters() const {
  int64_t n = user_bias.weight.numel() + item_bias.weight.numel();
  if (o_.model != "biases") n += user_factors.weight.numel() + item_factors.weight.numel();
  if (mlp) n += mlp->num_parameters();
  return n;
}

double rmse(const Recommender& model, const Ratings& data) {
  Tensor pred = model.predict(data.user, data.item);
  return std::sqrt(mse_loss(pred.to(DType::Float64), data.rating.to(DType::Float64)).item<double>());
}

double rmse_of_constant(double value, const Ratings& data) {
  Tensor r = data.rating.to(DType::Float64);
  return std::sqrt(mse_loss(full_like(r, value), r).item<double>());
}

FitResult fit_recommender(Recommender& model, const Ratings& train, const Ratings& test, const FitOptions& o) {
  KOAN_CHECK(o.epochs > 0 && o.batch_size > 0 && o.lr > 0, ValueError, "fit_recommender: epochs ", o.epochs,
             ", batch_size ", o.batch_size, " and lr ", o.lr, " must be positive");
  const int64_t n = train.size();
  const double lambda = model.options().reg;
  FitResult r;
  auto t0 = std::chrono::steady_clock::now();
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    auto te = std::chrono::steady_clock::now();
    Tensor order = from_vector(data::permutation(n, data::derive_seed(o.seed, epoch)));
    double sq_err = 0, objective = 0;
    for (int64_t s = 0; s < n; s += o.batch_size) {
      const int64_t b = std::min(o.batch_size, n - s);
      Tensor idx = narrow(order, 0, s, b);
      Tensor u = index_select(train.user, 0, idx), i = index_select(train.item, 0, idx);
      Tensor y = index_select(train.rating, 0, idx);
      Recommender::Output out = model.forward(u, i);
      Tensor mse = mse_loss(out.prediction, y);
      Tensor loss = mse + out.penalty * lambda;
      loss.backward();
      model.step(o.lr);
      sq_err += mse.item<double>() * static_cast<double>(b);
      objective += loss.item<double>() * static_cast<double>(b);
    }
    const double test_rmse = rmse(model, test);
    r.history.append({{"loss", objective / n}, {"rmse", std::sqrt(sq_err / n)}, {"val_rmse", test_rmse}});
    if (o.verbose) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - te).count();
      std::printf("  epoch %2d/%d - loss %.4f - train rmse %.4f - test rmse %.4f - %.1f s\n", epoch + 1, o.epochs,
                  objective / n, std::sqrt(sq_err / n), test_rmse, secs);
      std::fflush(stdout);
    }
  }
  r.test_rmse = rmse(model, test);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::vector<Recommendation> recommend(const Recommender& model, const MovieLens& ml, int64_t dense_user, int64_t n,
                                      int64_t min_ratings) {
  KOAN_CHECK(dense_user >= 0 && dense_user < ml.num_users, IndexError, "recommend: user ", dense_user,
             " is not in 0..", ml.num_users - 1);
  KOAN_CHECK(n > 0, ValueError, "recommend: n ", n, " must be positive");
  Tensor items = arange(ml.num_items);
  Tensor scores = model.predict(full({ml.num_items}, dense_user, {.dtype = DType::Int64}), items);
  // Leave out what the user already rated and movies with too few ratings to judge.
  std::vector<int64_t> item_count(ml.num_items, 0);
  std::vector<uint8_t> excluded(ml.num_items, 0);
  const auto users = ml.train.user.to_vector<int64_t>(), its = ml.train.item.to_vector<int64_t>();
  for (size_t k = 0; k < its.size(); ++k) {
    ++item_count[its[k]];
    if (users[k] == dense_user) excluded[its[k]] = 1;
  }
  for (int64_t i = 0; i < ml.num_items; ++i) excluded[i] |= item_count[i] < min_ratings;
  Tensor mask = from_vector(excluded).to(DType::Bool);
  scores = masked_fill(scores.to(DType::Float64), mask, -1e30);
  auto [values, idx] = topk(scores, n);
  std::vector<Recommendation> out;
  auto v = values.to_vector<double>();
  auto ix = idx.to_vector<int64_t>();
  for (size_t k = 0; k < ix.size(); ++k) {
    if (v[k] < -1e29) break;
    int64_t movie = ml.movie_ids[ix[k]];
    auto t = ml.titles.find(movie);
    out.push_back({movie, t == ml.titles.end() ? "movie " + std::to_string(movie) : t->second, v[k]});
  }
  return out;
}

}  // namespace koan::examples
