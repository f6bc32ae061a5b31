#include <catch2/catch.hpp>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "core/errors.hpp"
#include "core/lexicon.hpp"
#include "gnn/tensor_bridge.hpp"

using namespace gale;

TEST_CASE("State and tensor share memory: a zero-copy hand-over") {
  const auto t0 = parse_iso8601("2020-01-01");
  const auto grid = Grid::regular(GridKind::regular_ll, {45, -45}, {0, 120, 240});
  State s(2, {t0}, {parse_variable_key("t850"), parse_variable_key("z500")}, grid, t0);
  s.data().fill(1.0f);
  auto tensor = view_as_tensor(s);
  CHECK(tensor.sizes() == at::IntArrayRef({2, 1, 2, 6}));
  CHECK(tensor.data_ptr<float>() == s.data().data());
  tensor.index_put_({1, 0, 1, 5}, 7.5f);
  CHECK(s.data()(1, 0, 1, 5) == 7.5f);
  CHECK(tensor.sum().item<float>() == Approx(23 + 7.5));
}

TEST_CASE("copy_into_state checks every dimension") {
  const auto t0 = parse_iso8601("2020-01-01");
  const auto grid = Grid::regular(GridKind::regular_ll, {45, -45}, {0, 180});
  State s(1, {t0}, {parse_variable_key("2t")}, grid, t0);
  copy_into_state(at::full({1, 1, 1, 4}, 2.0, at::kDouble), s);
  CHECK(s.data()(0, 0, 0, 3) == 2.0f);
  REQUIRE_THROWS_WITH(copy_into_state(at::zeros({1, 1, 2, 4}), s),
                      "model output dimension 'variable' has 2 entries, the state 1");
  REQUIRE_THROWS_AS(copy_into_state(at::zeros({4}), s), DataError);
  configure_torch_threads(2);
  CHECK(at::get_num_threads() == 2);
}
