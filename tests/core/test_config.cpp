#include <catch2/catch.hpp>

#include "core/config.hpp"
#include "core/errors.hpp"

using namespace gale;

TEST_CASE("typed access with paths in every message") {
  const auto c = Config::from_string("run:\n  members: 8\n  name: demo\n  list: [a, b]\n", "f.yaml");
  const auto run = c.root().at("run");
  CHECK(run.get_long("members", 1, 1, 100) == 8);
  CHECK(run.get_long("absent", 4, 1, 100) == 4);
  CHECK(run.get_string("name") == "demo");
  CHECK(run.at("list").as_strings() == std::vector<std::string>{"a", "b"});
  REQUIRE_THROWS_WITH(run.get_long("members", 1, 10, 20), "f.yaml: run.members: 8 is outside [10, 20]");
  REQUIRE_THROWS_WITH(run.at("name").as_double(), "f.yaml: run.name: expected a number, got 'demo'");
  REQUIRE_THROWS_WITH(run.at("seed"), "f.yaml: run.seed: is required");
  REQUIRE_THROWS_WITH(run.at("list").items()[1].as_long(), Catch::Contains("run.list[1]"));
}

TEST_CASE("unknown keys are rejected with the allowed list") {
  const auto c = Config::from_string("run: {membrs: 8}", "f.yaml");
  REQUIRE_THROWS_WITH(c.root().at("run").allow_only({"members", "seed"}),
                      "f.yaml: run.membrs: unknown key (allowed here: members, seed)");
}

TEST_CASE("--set overrides create and replace values") {
  auto c = Config::from_string("run: {members: 8}");
  c.set("run.members=16");
  c.set("run.sub.flag=true");
  c.set("output.list=[1, 2]");
  CHECK(c.root().at("run").get_long("members", 0, 0, 100) == 16);
  CHECK(c.root().at("run").at("sub").get_bool("flag", false));
  CHECK(c.root().at("output").at("list").items().size() == 2);
  REQUIRE_THROWS_AS(c.set("novalue"), ConfigError);
  REQUIRE_THROWS_WITH(c.set("run.members.x=1"), Catch::Contains("'members' is not a map"));
}

TEST_CASE("YAML syntax errors give line and column") {
  REQUIRE_THROWS_WITH(Config::from_string("a: [1, 2\nb: 3", "bad.yaml"), Catch::StartsWith("bad.yaml: line"));
  REQUIRE_THROWS_WITH(Config::from_string("- 1\n- 2", "list.yaml"), "list.yaml: the top level must be a map");
  REQUIRE_THROWS_WITH(Config::from_file("/nonexistent/x.yaml"), Catch::Contains("cannot open config file"));
}

TEST_CASE("choices list what is allowed") {
  const auto c = Config::from_string("src: {type: hdf}", "f.yaml");
  REQUIRE_THROWS_WITH(c.root().at("src").get_choice("type", "auto", {"auto", "grib", "netcdf"}),
                      "f.yaml: src.type: 'hdf' is not one of: auto, grib, netcdf");
}
