// sweep_space_test.cc — `--param NAME=SPACE`: the five spaces, their values, grids and bounds,
// and bad spaces refused with one line that names the problem.
#include <gtest/gtest.h>

#include <cmath>

#include "roost/core/error.h"
#include "roost/sweep/space.h"

using namespace roost::sweep;

TEST(SweepSpace, ParsesEverySpace) {
  const auto space =
      parse_space({"lr=loguniform(1e-4, 1e-1)", "momentum=uniform(0.5,0.99)", "arch=choice(resnet18,resnet34)",
                   "batch-size=quniform(8,64,8)", "--epochs=randint(1,3)"});
  ASSERT_EQ(space.size(), 5u);
  EXPECT_EQ(space[0].kind, SpaceKind::kLogUniform);
  EXPECT_DOUBLE_EQ(space[0].lo, 1e-4);
  EXPECT_DOUBLE_EQ(space[0].hi, 1e-1);
  EXPECT_EQ(space[2].choices, (std::vector<std::string>{"resnet18", "resnet34"}));
  EXPECT_DOUBLE_EQ(space[3].q, 8);
  EXPECT_EQ(space[4].name, "epochs");
  EXPECT_EQ(space[4].kind, SpaceKind::kRandInt);
}

TEST(SweepSpace, ValuesFollowTheShapeOfTheSpace) {
  const Dimension lr = parse_dimension("lr=loguniform(1e-4,1e-2)");
  EXPECT_NEAR(value_at(lr, 0.5).number, 1e-3, 1e-9);  // the geometric middle
  EXPECT_EQ(value_at(lr, 0.0).word, "0.0001");
  const Dimension bs = parse_dimension("batch-size=quniform(8,64,8)");
  for (double u = 0; u < 1; u += 0.01) {
    const double v = value_at(bs, u).number;
    EXPECT_EQ(std::fmod(v, 8.0), 0.0) << v;
    EXPECT_GE(v, 8);
    EXPECT_LE(v, 64);
  }
  const Dimension ep = parse_dimension("epochs=randint(1,3)");
  EXPECT_EQ(value_at(ep, 0.0).word, "1");
  EXPECT_EQ(value_at(ep, 0.5).word, "2");
  EXPECT_EQ(value_at(ep, 0.999).word, "3");  // both ends included
  const Dimension arch = parse_dimension("arch=choice(resnet18,resnet34,resnet50)");
  EXPECT_EQ(value_at(arch, 0.7).word, "resnet50");
  EXPECT_EQ(value_at(arch, 0.7).number, 2);  // not a number: the index
  const Dimension m = parse_dimension("momentum=choice(0.5,0.9)");
  EXPECT_EQ(value_at(m, 0.9).number, 0.9);  // a number: the value
}

TEST(SweepSpace, GridsAndBounds) {
  auto words = [](const std::vector<Value>& vs) {
    std::vector<std::string> out;
    for (const auto& v : vs) out.push_back(v.word);
    return out;
  };
  EXPECT_EQ(words(grid_values(parse_dimension("b=quniform(8,32,8)"))),
            (std::vector<std::string>{"8", "16", "24", "32"}));
  EXPECT_EQ(words(grid_values(parse_dimension("e=randint(2,4)"))), (std::vector<std::string>{"2", "3", "4"}));
  EXPECT_EQ(words(grid_values(parse_dimension("a=choice(x,y)"))), (std::vector<std::string>{"x", "y"}));
  EXPECT_THROW(grid_values(parse_dimension("lr=uniform(0,1)")), roost::UsageError);
  EXPECT_EQ(words(boundary_values(parse_dimension("lr=uniform(0.001,0.1)"))),
            (std::vector<std::string>{"0.001", "0.1"}));
}

TEST(SweepSpace, BadSpacesAreRefusedWithTheReason) {
  const std::pair<const char*, const char*> cases[] = {
      {"lr", "write NAME=SPACE"},
      {"lr=normal(0,1)", "unknown space 'normal'"},
      {"lr=uniform(1,0)", "low end must be below"},
      {"lr=uniform(0,x)", "'x' is not a number"},
      {"lr=uniform(0)", "uniform takes 2 numbers, got 1"},
      {"lr=loguniform(0,1)", "loguniform needs 0 < lo"},
      {"b=quniform(8,64,0)", "quniform needs 0 < q"},
      {"e=randint(1.5,3)", "randint takes integers"},
      {"a=choice(x,,y)", "empty entry"},
      {"a=choice(x,x)", "lists a value twice"},
      {"lr=uniform(0,1", "SPACE must be"},
      {"1x=uniform(0,1)", "is not an option name"},
      {"output-dir=choice(a,b)", "set by roost sweep"},
  };
  for (const auto& [text, want] : cases) {
    try {
      parse_dimension(text);
      ADD_FAILURE() << text << " was accepted";
    } catch (const roost::UsageError& e) {
      EXPECT_NE(e.message().find(want), std::string::npos) << text << ": " << e.message();
      EXPECT_EQ(e.message().find('\n'), std::string::npos) << e.message();
    }
  }
  EXPECT_THROW(parse_space({"lr=uniform(0,1)", "lr=uniform(0,2)"}), roost::UsageError);
  EXPECT_THROW(parse_space({}), roost::UsageError);
}
