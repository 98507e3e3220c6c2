// Datasets and decorators: TensorDataset, collate, subset, concat, random_split, shuffle, batch,
// map, transform and prefetch.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <set>

#include "data/data_test_util.h"
#include "koan/koan.h"

using namespace koan;
using namespace koan::data;
using koan::data::testing::throws_with;

namespace {

// inputs[i] = (i, i + 0.5), targets[i] = i: every example names its own index.
std::shared_ptr<TensorDataset> numbered(int64_t n) {
  Tensor idx = arange(n);
  Tensor x = stack({idx.to(DType::Float32), add(idx.to(DType::Float32), 0.5)}, 1);
  return std::make_shared<TensorDataset>(x, idx);
}

std::vector<int64_t> targets_of(const Dataset& ds) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < ds.size(); ++i) out.push_back(ds.get(i).target.item<int64_t>());
  return out;
}

}  // namespace

TEST(TensorDataset, GetAndGatheredBatchAgreeWithCollate) {
  auto ds = numbered(10);
  EXPECT_EQ(ds->size(), 10);
  Example e = ds->get(7);
  EXPECT_EQ(e.input.shape(), Shape({2}));
  EXPECT_EQ(e.target.item<int64_t>(), 7);
  EXPECT_EQ(ds->get(-1).target.item<int64_t>(), 9);

  std::vector<int64_t> idx{3, 9, 0, 3};
  Batch fast = ds->get_batch(idx);
  Batch slow = collate({ds->get(3), ds->get(9), ds->get(0), ds->get(3)});
  EXPECT_TRUE(equal(fast.input, slow.input));
  EXPECT_TRUE(equal(fast.target, slow.target));
  EXPECT_EQ(fast.target.to_vector<int64_t>(), idx);
}

TEST(TensorDataset, RejectsBadInputs) {
  EXPECT_THROW(TensorDataset(zeros({4, 2}), zeros({5})), ShapeError);
  auto ds = numbered(4);
  EXPECT_TRUE(throws_with<IndexError>([&] { ds->get(4); }, {"TensorDataset::get", "4", "size 4"}));
  EXPECT_THROW(ds->get_batch({0, 7}), IndexError);
  // Unlabelled data: targets stay undefined through a batch.
  TensorDataset unlabelled(zeros({3, 2}));
  EXPECT_FALSE(unlabelled.get_batch({0, 1}).target.defined());
}

TEST(Collate, StacksAndNamesMismatches) {
  Batch b = collate({{ones({2, 3}), scalar_tensor(1, DType::Int64)}, {zeros({2, 3}), scalar_tensor(0, DType::Int64)}});
  EXPECT_EQ(b.input.shape(), Shape({2, 2, 3}));
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  EXPECT_TRUE(throws_with<ShapeError>([] { collate({{ones({2}), Tensor()}, {ones({3}), Tensor()}}); },
                                      {"example 1", "[3]", "[2]"}));
  EXPECT_THROW(collate({}), ValueError);
}

TEST(Decorators, SubsetAndConcatMapIndices) {
  auto ds = numbered(10);
  auto sub = subset(ds, {4, 2, -1});
  EXPECT_EQ(targets_of(*sub), (std::vector<int64_t>{4, 2, 9}));
  EXPECT_THROW(subset(ds, {10}), IndexError);

  auto both = concat({subset(ds, {0, 1, 2}), subset(ds, {7, 8})});
  EXPECT_EQ(both->size(), 5);
  EXPECT_EQ(targets_of(*both), (std::vector<int64_t>{0, 1, 2, 7, 8}));
  // A batch spanning both parts, in a mixed order, keeps that order.
  Batch b = both->get_batch({4, 0, 3, 1});
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{8, 0, 7, 1}));
  EXPECT_TRUE(equal(b.input, collate({both->get(4), both->get(0), both->get(3), both->get(1)}).input));
}

TEST(Decorators, RandomSplitIsDisjointCoveringAndSeeded) {
  auto ds = numbered(103);
  auto parts = random_split(ds, {0.7, 0.2, 0.1}, 5);
  ASSERT_EQ(parts.size(), 3u);
  // floor(72.1) = 72, floor(20.6) = 20, floor(10.3) = 10; the one left over goes to the first.
  EXPECT_EQ(parts[0]->size(), 73);
  EXPECT_EQ(parts[1]->size(), 20);
  EXPECT_EQ(parts[2]->size(), 10);
  std::set<int64_t> seen;
  for (auto& p : parts)
    for (int64_t t : targets_of(*p)) EXPECT_TRUE(seen.insert(t).second) << "index " << t << " in two parts";
  EXPECT_EQ(seen.size(), 103u);

  auto again = random_split(ds, {73, 20, 10}, 5);  // lengths give the same split as the fractions
  for (size_t k = 0; k < 3; ++k) EXPECT_EQ(targets_of(*again[k]), targets_of(*parts[k]));
  auto other = random_split(ds, {73, 20, 10}, 6);
  EXPECT_NE(targets_of(*other[0]), targets_of(*parts[0]));
  // A split is shuffled, not a slice.
  std::vector<int64_t> first = targets_of(*parts[0]);
  EXPECT_FALSE(std::is_sorted(first.begin(), first.end()));

  EXPECT_TRUE(throws_with<ValueError>([&] { random_split(ds, {50, 50}, 0); }, {"103"}));
  auto [a, b] = split2(random_split(ds, {100, 3}, 1));
  EXPECT_EQ(a->size() + b->size(), 103);
}

TEST(Decorators, ShuffleIsAPermutationThatChangesPerEpoch) {
  auto ds = numbered(50);
  auto s = shuffle(ds, 11);
  std::vector<int64_t> e0 = targets_of(*s);
  std::vector<int64_t> sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, targets_of(*ds));
  EXPECT_NE(e0, targets_of(*ds));

  s->set_epoch(1);
  std::vector<int64_t> e1 = targets_of(*s);
  EXPECT_NE(e1, e0);
  s->set_epoch(0);
  EXPECT_EQ(targets_of(*s), e0);                      // an epoch's order is a function of (seed, epoch)
  EXPECT_EQ(targets_of(*shuffle(ds, 11)), e0);        // and reproducible from the seed
  EXPECT_NE(targets_of(*shuffle(ds, 12)), e0);
  // get_batch goes through the permutation to the gather underneath.
  EXPECT_EQ(s->get_batch({0, 1}).target.to_vector<int64_t>(), (std::vector<int64_t>{e0[0], e0[1]}));
}

TEST(Decorators, BatchGroupsConsecutiveExamples) {
  auto ds = numbered(10);
  auto b = batch(ds, 4);
  ASSERT_EQ(b->size(), 3);
  EXPECT_EQ(b->get(0).input.shape(), Shape({4, 2}));
  EXPECT_EQ(b->get(2).target.to_vector<int64_t>(), (std::vector<int64_t>{8, 9}));
  auto dropped = batch(ds, 4, /*drop_last=*/true);
  EXPECT_EQ(dropped->size(), 2);
  EXPECT_THROW(dropped->get(2), IndexError);
  EXPECT_THROW(batch(ds, 0), ValueError);
}

TEST(Decorators, MapAndMapBatches) {
  auto ds = numbered(6);
  auto doubled = map(ds, [](Example e) {
    e.input = mul(e.input, 2.0);
    return e;
  });
  EXPECT_FLOAT_EQ(doubled->get(3).input.at<float>({1}), 7.f);
  EXPECT_EQ(doubled->get_batch({1, 2}).input.shape(), Shape({2, 2}));

  std::atomic<int> calls{0};
  auto shifted = map_batches(ds, [&](Batch b) {
    ++calls;
    b.input = add(b.input, 1.0);
    return b;
  });
  Batch b = shifted->get_batch({0, 1, 2, 3});
  EXPECT_EQ(calls.load(), 1);  // one call for the whole batch
  EXPECT_FLOAT_EQ(b.input.at<float>({3, 0}), 4.f);
  Example e = shifted->get(5);  // a batch of one, unwrapped
  EXPECT_EQ(e.input.shape(), Shape({2}));
  EXPECT_FLOAT_EQ(e.input.at<float>({0}), 6.f);
  EXPECT_EQ(e.target.item<int64_t>(), 5);
}

TEST(Decorators, TransformIsKeyedBySeedEpochAndIndices) {
  auto ds = std::make_shared<TensorDataset>(zeros({8, 1, 4, 4}), arange(8));
  auto noisy = transform(ds, transforms::noise(1.0), 3);
  Tensor a = noisy->get(2).input;
  EXPECT_TRUE(equal(a, noisy->get(2).input));             // same (seed, epoch, index)
  EXPECT_FALSE(equal(a, noisy->get(3).input));            // another index
  EXPECT_FALSE(equal(a, transform(ds, transforms::noise(1.0), 4)->get(2).input));  // another seed
  noisy->set_epoch(1);
  EXPECT_FALSE(equal(a, noisy->get(2).input));            // another epoch
  Tensor b1 = noisy->get_batch({1, 5}).input;
  EXPECT_TRUE(equal(b1, noisy->get_batch({1, 5}).input));
  EXPECT_EQ(noisy->get_batch({1, 5}).target.to_vector<int64_t>(), (std::vector<int64_t>{1, 5}));
}

TEST(Decorators, PrefetchMatchesTheDatasetAndSurvivesRandomAccess) {
  auto ds = numbered(40);
  auto slow = map(ds, [](Example e) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    return e;
  });
  auto pf = prefetch(slow, 2, 3);
  EXPECT_EQ(pf->size(), 40);
  for (int64_t i = 0; i < 40; ++i) EXPECT_EQ(pf->get(i).target.item<int64_t>(), i);
  for (int64_t i : {5, 30, 6, 0, 39, 39, 12}) EXPECT_EQ(pf->get(i).target.item<int64_t>(), i);
  EXPECT_THROW(pf->get(40), IndexError);
  // Batches made ahead of time on the prefetch threads.
  auto batches = prefetch(batch(shuffle(ds, 1), 8), 2);
  std::set<int64_t> seen;
  for (int64_t i = 0; i < batches->size(); ++i)
    for (int64_t t : batches->get(i).target.to_vector<int64_t>()) seen.insert(t);
  EXPECT_EQ(seen.size(), 40u);
  EXPECT_NE(pf->repr().find("Prefetch(Map(TensorDataset"), std::string::npos) << pf->repr();
}

TEST(Decorators, PrefetchPropagatesErrors) {
  auto ds = numbered(10);
  auto bad = map(ds, [](Example e) {
    KOAN_CHECK(e.target.item<int64_t>() != 3, ValueError, "example 3 is bad");
    return e;
  });
  auto pf = prefetch(bad, 2, 4);
  EXPECT_NO_THROW(pf->get(0));  // queues 1..4 in the background, 3 among them
  EXPECT_NO_THROW(pf->get(1));
  EXPECT_NO_THROW(pf->get(2));
  EXPECT_TRUE(throws_with<ValueError>([&] { pf->get(3); }, {"example 3 is bad"}));
  EXPECT_NO_THROW(pf->get(4));
}

TEST(Permutation, IsSeededAndUniformEnough) {
  std::vector<int64_t> p = permutation(1000, 42);
  std::vector<int64_t> s = p;
  std::sort(s.begin(), s.end());
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(s[i], i);
  EXPECT_EQ(p, permutation(1000, 42));
  EXPECT_NE(p, permutation(1000, 43));
  // Where element 0 lands over many seeds: roughly uniform over 10 buckets of 100 positions.
  std::vector<int> buckets(10, 0);
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    std::vector<int64_t> q = permutation(1000, seed);
    buckets[(std::find(q.begin(), q.end(), 0) - q.begin()) / 100]++;
  }
  for (int c : buckets) EXPECT_NEAR(c, 200, 60);
}
