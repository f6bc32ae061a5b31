#include <catch2/catch.hpp>

#include "core/registry.hpp"

using namespace gale;

struct Shape {
  virtual ~Shape() = default;
  virtual double area() const = 0;
};
struct Square : Shape {
  explicit Square(double s) : side(s) {}
  double area() const override { return side * side; }
  double side;
};

TEST_CASE("registry creates plugins by kebab-case name") {
  Registry<Shape, double> r("shape");
  r.add("unit-square", [](double s) { return std::make_unique<Square>(s); });
  CHECK(r.create("unit-square", 3.0)->area() == 9.0);
  CHECK(r.names() == std::vector<std::string>{"unit-square"});
}

TEST_CASE("unknown names list the known ones; bad names are rejected") {
  Registry<Shape, double> r("shape");
  r.add("square", [](double s) { return std::make_unique<Square>(s); });
  r.add("big-square", [](double s) { return std::make_unique<Square>(10 * s); });
  REQUIRE_THROWS_WITH(r.create("circle", 1.0),
                      "unknown shape 'circle' (known: big-square, square)");
  REQUIRE_THROWS_AS(r.create("circle", 1.0), ConfigError);
  REQUIRE_THROWS_AS(r.add("Square", nullptr), InternalError);
  REQUIRE_THROWS_AS(r.add("square", nullptr), InternalError);
  CHECK_FALSE(is_kebab_case("a--b"));
  CHECK_FALSE(is_kebab_case("-a"));
  CHECK(is_kebab_case("crps-generator2"));
}
