// InlineList (autograd/inline_list.h), the container of a node's edges and output records:
// elements stay inside it up to N, move to the heap beyond, and release what they hold when
// dropped, in either place.
#include <memory>

#include "koan/autograd/inline_list.h"
#include "support/testing.h"

namespace koan {
namespace {

using List = autograd::InlineList<std::shared_ptr<int>, 2>;

std::vector<int> values(const List& l) {
  std::vector<int> v;
  for (const auto& p : l) v.push_back(*p);
  return v;
}

TEST(InlineList, KeepsOrderInsideAndAfterSpillingToTheHeap) {
  List l;
  EXPECT_TRUE(l.empty());
  l.push_back(std::make_shared<int>(1));
  l.push_back(std::make_shared<int>(2));
  const void* inside = l.begin();
  EXPECT_GE(static_cast<const void*>(l.begin()), static_cast<const void*>(&l));  // still inside the object
  EXPECT_LT(static_cast<const void*>(l.begin()), static_cast<const void*>(&l + 1));
  l.push_back(std::make_shared<int>(3));  // the third spills all three to the heap
  EXPECT_NE(static_cast<const void*>(l.begin()), inside);
  EXPECT_EQ(values(l), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(*l.at(2), 3);
  EXPECT_THROW(l.at(3), IndexError);
}

TEST(InlineList, ResizeAndReserveReleaseAndKeepElements) {
  auto held = std::make_shared<int>(7);
  List l;
  l.push_back(held);
  l.push_back(held);
  EXPECT_EQ(held.use_count(), 3);
  l.resize(1);  // the dropped inline element lets go of its pointer
  EXPECT_EQ(held.use_count(), 2);
  l.reserve(5);  // spills
  l.push_back(held);
  EXPECT_EQ(held.use_count(), 3);
  EXPECT_EQ(values(l), (std::vector<int>{7, 7}));
  l.resize(4);  // default-constructed (null) elements at the end
  EXPECT_EQ(l.size(), 4u);
  EXPECT_EQ(l[3], nullptr);
  l.resize(0);
  EXPECT_EQ(held.use_count(), 1);
  l.push_back(std::make_shared<int>(9));  // usable again from empty
  EXPECT_EQ(values(l), (std::vector<int>{9}));
}

}  // namespace
}  // namespace koan
