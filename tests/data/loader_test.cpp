// DataLoader: the same batches at any worker count, reshuffling per epoch, drop_last, errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "data/data_test_util.h"
#include "koan/koan.h"

using namespace koan;
using namespace koan::data;
using koan::data::testing::one_pass;
using koan::data::testing::throws_with;

namespace {

std::shared_ptr<TensorDataset> images(int64_t n) {
  Generator g(99);
  return std::make_shared<TensorDataset>(rand({n, 1, 6, 6}, {}, &g), arange(n));
}

std::vector<int64_t> order_of(const std::vector<Batch>& batches) {
  std::vector<int64_t> out;
  for (const Batch& b : batches)
    for (int64_t t : b.target.to_vector<int64_t>()) out.push_back(t);
  return out;
}

}  // namespace

TEST(DataLoader, SameBatchesWhateverTheWorkerCount) {
  // Shuffling, random augmentation and a per-example map: everything that could depend on
  // which thread made a batch, or when.
  auto aug = transform(images(103), transforms::compose({transforms::flip(), transforms::crop(6, 6, 2),
                                                         transforms::noise(0.1)}), 17);
  auto ds = map(aug, [](Example e) {
    e.input = mul(e.input, 2.0);
    return e;
  });
  std::vector<std::vector<Batch>> runs;
  for (int workers : {0, 1, 3}) {
    DataLoader loader(ds, {.batch_size = 8, .shuffle = true, .num_workers = workers, .seed = 5});
    std::vector<Batch> both = one_pass(loader);
    std::vector<Batch> second = one_pass(loader);
    both.insert(both.end(), second.begin(), second.end());
    runs.push_back(both);
  }
  ASSERT_EQ(runs[0].size(), 2u * 13);
  for (size_t r = 1; r < runs.size(); ++r) {
    ASSERT_EQ(runs[r].size(), runs[0].size());
    for (size_t k = 0; k < runs[0].size(); ++k) {
      ASSERT_TRUE(equal(runs[r][k].input, runs[0][k].input)) << "worker run " << r << ", batch " << k;
      ASSERT_TRUE(equal(runs[r][k].target, runs[0][k].target)) << "worker run " << r << ", batch " << k;
    }
  }
}

TEST(DataLoader, ReshufflesEachEpochReproducibly) {
  auto ds = images(64);
  DataLoader loader(ds, {.batch_size = 10, .shuffle = true, .num_workers = 2, .seed = 1});
  EXPECT_EQ(loader.size(), 7);
  std::vector<int64_t> e0 = order_of(one_pass(loader));
  std::vector<int64_t> e1 = order_of(one_pass(loader));
  EXPECT_EQ(loader.epoch(), 2);
  EXPECT_NE(e0, e1);
  for (auto* e : {&e0, &e1}) {
    std::vector<int64_t> s = *e;
    std::sort(s.begin(), s.end());
    ASSERT_EQ(s.size(), 64u);
    for (int64_t i = 0; i < 64; ++i) EXPECT_EQ(s[i], i);  // each epoch sees every example once
  }
  DataLoader same(ds, {.batch_size = 10, .shuffle = true, .seed = 1});
  EXPECT_EQ(order_of(one_pass(same)), e0);
  same.set_epoch(1);
  EXPECT_EQ(order_of(one_pass(same)), e1);
  DataLoader other(ds, {.batch_size = 10, .shuffle = true, .seed = 2});
  EXPECT_NE(order_of(one_pass(other)), e0);

  DataLoader plain(ds, {.batch_size = 10});
  std::vector<int64_t> in_order = order_of(one_pass(plain));
  EXPECT_TRUE(std::is_sorted(in_order.begin(), in_order.end()));
  // The batches are the gathered examples (index_select), equal to collating them one by one.
  Batch first = *plain.begin();
  EXPECT_TRUE(equal(first.input, collate({ds->get(0), ds->get(1), ds->get(2), ds->get(3), ds->get(4), ds->get(5),
                                          ds->get(6), ds->get(7), ds->get(8), ds->get(9)})
                                     .input));
}

TEST(DataLoader, DropLast) {
  auto ds = images(10);
  DataLoader keep(ds, {.batch_size = 3});
  auto kept = one_pass(keep);
  ASSERT_EQ(kept.size(), 4u);
  EXPECT_EQ(kept.back().input.shape(), Shape({1, 1, 6, 6}));
  DataLoader drop(ds, {.batch_size = 3, .shuffle = true, .drop_last = true, .num_workers = 2});
  EXPECT_EQ(drop.size(), 3);
  auto dropped = one_pass(drop);
  ASSERT_EQ(dropped.size(), 3u);
  for (const Batch& b : dropped) EXPECT_EQ(b.target.numel(), 3);
  DataLoader tiny(ds, {.batch_size = 32, .drop_last = true});
  EXPECT_EQ(one_pass(tiny).size(), 0u);
}

TEST(DataLoader, ShuffleDecoratorFollowsTheLoaderEpoch) {
  // No loader shuffle: the order comes from the shuffle decorator, which the loader advances.
  auto ds = shuffle(images(20), 3);
  DataLoader loader(ds, {.batch_size = 20, .num_workers = 1});
  std::vector<int64_t> e0 = order_of(one_pass(loader));
  std::vector<int64_t> e1 = order_of(one_pass(loader));
  EXPECT_NE(e0, e1);
  ds->set_epoch(0);
  EXPECT_EQ(ds->get(0).target.item<int64_t>(), e0[0]);
}

TEST(DataLoader, AnAbandonedPassCanBeRestarted) {
  auto ds = images(50);
  DataLoader loader(ds, {.batch_size = 5, .shuffle = true, .num_workers = 3, .seed = 4});
  int seen = 0;
  for (const Batch& b : loader) {
    (void)b;
    if (++seen == 2) break;  // leaves batches in flight
  }
  std::vector<Batch> next = one_pass(loader);  // epoch 1, complete
  EXPECT_EQ(next.size(), 10u);
  DataLoader ref(ds, {.batch_size = 5, .shuffle = true, .seed = 4});
  ref.set_epoch(1);
  EXPECT_EQ(order_of(next), order_of(one_pass(ref)));
}

TEST(DataLoader, AWorkerErrorReachesTheCaller) {
  auto ds = map(images(30), [](Example e) {
    KOAN_CHECK(e.target.item<int64_t>() != 17, ValueError, "cannot load example 17");
    return e;
  });
  for (int workers : {0, 2}) {
    DataLoader loader(ds, {.batch_size = 4, .num_workers = workers});
    EXPECT_TRUE(throws_with<ValueError>([&] { one_pass(loader); }, {"cannot load example 17"}))
        << workers << " workers";
    // The loader stays usable.
    EXPECT_THROW(one_pass(loader), ValueError);
  }
}

TEST(DataLoader, RejectsBadOptions) {
  auto ds = images(4);
  EXPECT_THROW(DataLoader(ds, {.batch_size = 0}), ValueError);
  EXPECT_THROW(DataLoader(ds, {.num_workers = -1}), ValueError);
  EXPECT_THROW(DataLoader(nullptr), ValueError);
}

TEST(DataLoader, BatchIndicesExposeTheSampler) {
  DataLoader loader(images(7), {.batch_size = 3, .shuffle = true, .seed = 9});
  auto b0 = loader.batch_indices(0);
  ASSERT_EQ(b0.size(), 3u);
  EXPECT_EQ(b0[2].size(), 1u);
  EXPECT_EQ(b0, loader.batch_indices(0));
  EXPECT_NE(b0, loader.batch_indices(1));
  std::vector<Batch> pass = one_pass(loader);
  for (size_t k = 0; k < b0.size(); ++k) EXPECT_EQ(pass[k].target.to_vector<int64_t>(), b0[k]);
}
