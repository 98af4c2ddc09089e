// cli_train_args_test.cc — `roost train`'s command line up to validate(): defaults, both
// option spellings, bad values as UsageErrors, and the fuzz finding of a very long argument
// (which once overflowed the stack inside cxxopts' std::regex matching).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fuzz_regression.h"
#include "roost/core/error.h"
#include "roost/train/config.h"
#include "train_options.h"

namespace roost::cli {
namespace {

// Parses argv after "train" as train_main does, up to validate().
train::TrainConfig parse(std::vector<std::string> args) {
  args.insert(args.begin(), "train");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  cxxopts::Options options = train_options();
  cxxopts::ParseResult parsed = parse_or_usage(options, static_cast<int>(args.size()), argv.data());
  train::TrainConfig config = to_config(parsed);
  train::validate(config);
  return config;
}

TEST(TrainArgs, DefaultsAreTheReferenceRecipe) {
  train::TrainConfig c = parse({"--data-dir", "d"});
  EXPECT_EQ(c.data_dir, "d");
  EXPECT_EQ(c.arch, "resnet18");
  EXPECT_EQ(c.epochs, 25);
  EXPECT_DOUBLE_EQ(c.lr, 0.001);
  EXPECT_EQ(c.seed, 42u);
}

TEST(TrainArgs, ValidationResizeFollowsTheImageSize) {
  EXPECT_EQ(parse({"--data-dir", "d"}).resize_short, 256);                       // torchvision's 256 at 224
  EXPECT_EQ(parse({"--data-dir", "d", "--image-size", "32"}).resize_short, 37);  // was 256: a 32/256 center
  EXPECT_EQ(parse({"--data-dir", "d", "--image-size", "64"}).resize_short, 73);
  EXPECT_EQ(parse({"--data-dir", "d", "--image-size", "32", "--resize-short", "36"}).resize_short, 36);
}

TEST(TrainArgs, WorkersDefaultToTheRanksCores) {
  EXPECT_EQ(parse({"--data-dir", "d"}).workers, train::kAutoWorkers);
  EXPECT_EQ(parse({"--data-dir", "d", "--workers", "3"}).workers, 3);
  EXPECT_EQ(train::auto_workers(1, false), 1);   // two ranks on a 2-core machine: 1 each, not 2
  EXPECT_EQ(train::auto_workers(16, false), 4);  // a CPU rank leaves most cores to the model
  EXPECT_EQ(train::auto_workers(16, true), 15);  // a GPU rank's cores only decode
  EXPECT_EQ(train::auto_workers(128, true), 16);
  EXPECT_THROW(parse({"--data-dir", "d", "--workers", "100000"}), UsageError);
  EXPECT_THROW(parse({"--data-dir", "d", "--threads", "100000"}), UsageError);
  EXPECT_THROW(parse({"--data-dir", "d", "--resume", "auto", "--overwrite"}), UsageError);
}

TEST(TrainArgs, BothSpellingsOfAValue) {
  train::TrainConfig c = parse({"--data-dir=d.h5", "--epochs", "3", "--lr=0.5", "--nesterov"});
  EXPECT_EQ(c.data_dir, "d.h5");
  EXPECT_EQ(c.epochs, 3);
  EXPECT_DOUBLE_EQ(c.lr, 0.5);
  EXPECT_TRUE(c.nesterov);
}

TEST(TrainArgs, BadInputIsAUsageError) {
  EXPECT_THROW(parse({}), UsageError);                                    // --data-dir missing
  EXPECT_THROW(parse({"--data-dir", "d", "--epochs", "x"}), UsageError);  // not a number
  EXPECT_THROW(parse({"--data-dir", "d", "--epochs", "0"}), UsageError);  // out of range
  EXPECT_THROW(parse({"--data-dir", "d", "--no-such-option"}), UsageError);
  EXPECT_THROW(parse({"--data-dir", "d", "stray"}), UsageError);
  EXPECT_THROW(parse({"--data-dir"}), UsageError);  // value missing
  EXPECT_THROW(parse({"--data-dir", "d", "--prefetch-next-pass", "yes"}), UsageError);
}

TEST(TrainArgs, PrefetchNextPass) {
  EXPECT_EQ(parse({"--data-dir", "d"}).prefetch_next_pass, "auto");
  for (const char* mode : {"auto", "on", "off"})
    EXPECT_EQ(parse({"--data-dir", "d", "--prefetch-next-pass", mode}).prefetch_next_pass, mode);
}

TEST(TrainArgs, JpegDctScale) {
  EXPECT_EQ(parse({"--data-dir", "d"}).jpeg_dct_scale, "off");  // PIL's pixels unless asked
  for (const char* mode : {"off", "on"})
    EXPECT_EQ(parse({"--data-dir", "d", "--jpeg-dct-scale", mode}).jpeg_dct_scale, mode);
  for (const char* bad : {"auto", "yes", "ON"}) {
    try {
      parse({"--data-dir", "d", "--jpeg-dct-scale", bad});
      ADD_FAILURE() << "accepted --jpeg-dct-scale '" << bad << "'";
    } catch (const UsageError& e) {
      const std::string message = e.message();
      EXPECT_EQ(message, std::string("--jpeg-dct-scale must be off or on (got '") + bad + "')");
      EXPECT_EQ(message.find('\n'), std::string::npos);
    }
  }
}

TEST(TrainArgs, FuzzFindingLongArgument) {
  // 40 KB in one argument (the kernel allows 128 KiB): parsed like any other path.
  std::vector<uint8_t> bytes = roost::testing::fuzz_regression_input("fuzz_train_args", "long-option-value");
  ASSERT_FALSE(bytes.empty());
  const std::string arg(bytes.begin(), bytes.end());
  train::TrainConfig c = parse({arg});
  EXPECT_EQ(c.data_dir, arg.substr(std::string("--data-dir=").size()));
}

}  // namespace
}  // namespace roost::cli
