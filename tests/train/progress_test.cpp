// The progress bar's exact text in each mode, with an injected clock and terminal flag.
#include <sstream>

#include "koan/train/progress.h"
#include "support/testing.h"

namespace koan {
namespace {

using namespace train;

struct Fixture {
  std::ostringstream out;
  double now = 0;
  ProgressBar make(int verbose, bool terminal) {
    return ProgressBar(out, {.verbose = verbose, .is_terminal = terminal, .clock = [this] { return now; }});
  }
};

const LogValues kEnd = {{"loss", 0.31237}, {"accuracy", 0.88734}, {"val_loss", 0.28}, {"val_accuracy", 0.9}};

TEST(Progress, Formats) {
  EXPECT_EQ(format_log_value(0.31237), "0.3124");
  EXPECT_EQ(format_log_value(-0.5), "-0.5000");
  EXPECT_EQ(format_log_value(1234.56789), "1234.5679");
  EXPECT_EQ(format_log_value(1.5e-4), "1.5000e-04");
  EXPECT_EQ(format_log_value(0), "0.0000e+00");
  EXPECT_EQ(format_eta(12.7), "12s");
  EXPECT_EQ(format_eta(60), "60s");
  EXPECT_EQ(format_eta(125.9), "2:05");
  EXPECT_EQ(format_eta(3600), "60:00");
  EXPECT_EQ(format_eta(3723), "1:02:03");
  EXPECT_EQ(format_time_per(4.2 / 938, "step"), "4ms/step");
  EXPECT_EQ(format_time_per(0, "step"), "0s/step");
  EXPECT_EQ(format_time_per(3.4, "epoch"), "3s/epoch");
  EXPECT_EQ(format_time_per(4.2e-6, "step"), "4us/step");
  EXPECT_EQ(format_values({{"loss", 0.25}, {"mae", 2}}), " - loss: 0.2500 - mae: 2.0000");
}

TEST(Progress, NotATerminalWritesOneLinePerEpoch) {
  Fixture f;
  ProgressBar bar = f.make(1, false);
  EXPECT_FALSE(bar.is_terminal());
  for (int epoch = 3; epoch <= 4; ++epoch) {
    f.now = 100;
    bar.begin_epoch(epoch, 10, 938);
    for (int64_t s = 1; s <= 938; ++s) {
      f.now += 4.2 / 938;
      bar.update(s, {{"loss", 1.0 / s}});
    }
    bar.end_epoch(kEnd);
  }
  std::string line =
      "938/938 [==============================] - 4s 4ms/step - loss: 0.3124 - accuracy: 0.8873 - "
      "val_loss: 0.2800 - val_accuracy: 0.9000\n";
  EXPECT_EQ(f.out.str(), "Epoch 3/10\n" + line + "Epoch 4/10\n" + line);
}

TEST(Progress, TerminalRedrawsInPlaceWithEta) {
  Fixture f;
  ProgressBar bar = f.make(1, true);
  bar.begin_epoch(1, 2, 10);
  f.now = 1;
  bar.update(1, {{"loss", 0.5}});
  f.now = 1.01;
  bar.update(2, {{"loss", 0.4}});  // within the 0.05 s interval: not drawn
  f.now = 2;
  bar.update(2, {{"loss", 0.25}});
  f.now = 5;
  bar.update(5, {{"loss", 1.5e-4}, {"acc", 0.5}});
  f.now = 10;
  bar.end_epoch({{"loss", 0.125}});
  std::string a = " 1/10 [==>...........................] - ETA: 9s - loss: 0.5000";
  std::string b = " 2/10 [=====>........................] - ETA: 8s - loss: 0.2500";
  std::string c = " 5/10 [==============>...............] - ETA: 5s - loss: 1.5000e-04 - acc: 0.5000";
  std::string d = "10/10 [==============================] - 10s 1s/step - loss: 0.1250";
  ASSERT_GT(c.size(), d.size());
  EXPECT_EQ(f.out.str(), "Epoch 1/2\n\r" + a + "\r" + b + "\r" + c + "\r" + d +
                             std::string(c.size() - d.size(), ' ') + "\n");
}

TEST(Progress, TerminalPadsShorterFrames) {
  Fixture f;
  ProgressBar bar = f.make(1, true);
  bar.begin_epoch(1, 1, 4);
  f.now = 1;
  bar.update(1, {{"loss", 1.5e-4}, {"accuracy", 0.5}});
  f.now = 2;
  bar.update(2, {{"loss", 0.5}});
  std::string a = "1/4 [======>.......................] - ETA: 3s - loss: 1.5000e-04 - accuracy: 0.5000";
  std::string b = "2/4 [==============>...............] - ETA: 2s - loss: 0.5000";
  EXPECT_EQ(f.out.str(), "Epoch 1/1\n\r" + a + "\r" + b + std::string(a.size() - b.size(), ' '));
}

TEST(Progress, UnknownStepCount) {
  Fixture f;
  ProgressBar bar = f.make(1, true);
  bar.begin_epoch(1, 1, -1);
  f.now = 3;
  bar.update(3, {{"loss", 0.5}});
  f.now = 4;
  bar.end_epoch({{"loss", 0.5}});
  std::string a = "      3/Unknown - 3s 1s/step - loss: 0.5000";
  std::string b = "3/3 [==============================] - 4s 1s/step - loss: 0.5000";
  EXPECT_EQ(f.out.str(), "Epoch 1/1\n\r" + a + "\r" + b + "\n");
}

TEST(Progress, VerboseTwoIsKerasSummaryLine) {
  for (bool terminal : {false, true}) {
    Fixture f;
    ProgressBar bar = f.make(2, terminal);
    bar.begin_epoch(1, 3, 938);
    f.now = 2;
    bar.update(400, {{"loss", 0.7}});
    f.now = 4.2;
    bar.end_epoch({{"loss", 0.31237}, {"accuracy", 0.88734}});
    EXPECT_EQ(f.out.str(), "Epoch 1/3\n938/938 - 4s - loss: 0.3124 - accuracy: 0.8873 - 4s/epoch - 4ms/step\n");
  }
}

TEST(Progress, VerboseZeroIsSilent) {
  Fixture f;
  ProgressBar bar = f.make(0, true);
  bar.begin_epoch(1, 1, 5);
  bar.update(3, {{"loss", 1}});
  bar.end_epoch(kEnd);
  EXPECT_EQ(f.out.str(), "");
}

TEST(Progress, StringStreamIsNotATerminalAndOptionsAreChecked) {
  std::ostringstream os;
  EXPECT_FALSE(ProgressBar(os).is_terminal());
  EXPECT_THROW(ProgressBar(os, {.verbose = 3}), ValueError);
  EXPECT_THROW(ProgressBar(os, {.width = 0}), ValueError);
}

}  // namespace
}  // namespace koan
