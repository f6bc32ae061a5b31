// The mesh transformer processor (GenCast's): attention confined to k-hop neighbourhoods
// (a perturbed node reaches exactly the nodes within k hops through one block), the same
// bits on a rerun (outputs for any thread count), attention weights that sum to 1 per receiver
// and a block equal to a plain dense masked attention, conditional LayerNorm that starts as
// the plain network and passes gradient everywhere, the train.network keys, and a tiny
// transformer forecaster (deterministic and diffusion) that trains through the ordinary
// config, round-trips its checkpoint and cannot start a GNN run.
#include <ATen/ATen.h>
#include <mpi.h>

#include <cmath>
#include <limits>

#include "core/errors.hpp"
#include "gnn/model_io.hpp"
#include "gnn/trainer.hpp"
#include "tests/gnn/gnn_fixtures.hpp"

// After LibTorch's headers: c10 defines its own CHECK, which Catch must override.
#include <catch2/catch.hpp>

using namespace gale;
using gale::test::ensure_mpi;
using gale::test::gnn_test_path;
using gale::test::small_grid;

namespace {

GraphNetworkSpec transformer_spec(int layers, int hops, int conditioning = 0) {
  GraphNetworkSpec spec{2, 16, layers, 0.6, conditioning};
  spec.processor = "transformer";
  spec.attention_hops = hops;
  spec.heads = 4;
  return spec;
}

// The k-hop pairs of mesh level 2 (162 nodes) for the small grid.
EdgeSet neighbourhood(int hops) {
  return build_mesh_graphs(*small_grid(), transformer_spec(1, hops)).neighbourhood;
}

// The fixture's training config with its network line swapped for a transformer's (a second
// `network:` key would be a duplicate YAML key).
Config transformer_config(const std::string& output, int steps, const std::string& extra = "",
                          const std::string& network =
                              "{mesh_level: 2, latent: 32, layers: 2, processor: transformer, "
                              "attention_hops: 2, heads: 4}") {
  auto yaml = gale::test::tiny_training_yaml(output, steps, extra);
  const std::string gnn_line = "  network: {mesh_level: 2, latent: 32, layers: 3}\n";
  const auto at = yaml.find(gnn_line);
  REQUIRE(at != std::string::npos);
  yaml.replace(at, gnn_line.size(), "  network: " + network + "\n");
  return Config::from_string(yaml, "tiny-transformer.yaml");
}

constexpr int kSteps = 100;
const std::string kDiffusion =
    "  model: diffusion\n  diffusion: {noise_embedding: 16, sampler: {steps: 4}}\n";

}  // namespace

TEST_CASE("one transformer block moves a perturbation exactly k hops") {
  for (const int hops : {1, 2}) {
    INFO(hops << " hops");
    at::manual_seed(3);
    const auto pairs = neighbourhood(hops);
    MeshTransformer processor(16, 1, 4, 0);
    at::NoGradGuard no_grad;
    const auto x = at::randn({1, 162, 16});
    const auto base = processor->forward(x, pairs);
    for (const std::int64_t node : {0, 17, 100}) {  // a pentagon vertex and two others
      auto perturbed = x.clone();
      perturbed[0][node] += at::randn({16});
      const auto changed =
          (processor->forward(perturbed, pairs) - base).abs().amax(-1)[0] > 0;  // [162]
      // Expected: the receivers that have `node` among their senders (its k-hop neighbourhood).
      auto expected = at::zeros({162}, at::kBool);
      expected.index_put_({pairs.receivers.index.masked_select(pairs.senders.index == node)}, true);
      CHECK(at::equal(changed, expected));
      const auto reached = expected.sum().item<std::int64_t>();
      CHECK(reached == (hops == 1 ? (node < 12 ? 6 : 7) : reached));
      CHECK(reached >= (hops == 1 ? 6 : 16));
    }
  }
}

TEST_CASE("outputs and gradients are the same bits on a rerun, outputs for any thread count") {
  const auto pairs = neighbourhood(2);
  at::manual_seed(7);
  MeshTransformer processor(16, 2, 4, 0);
  const auto x = at::randn({2, 162, 16});
  const auto threads = at::get_num_threads();
  auto run = [&](int n) {
    at::set_num_threads(n);
    processor->zero_grad();
    const auto y = processor->forward(x, pairs);
    y.square().sum().backward();
    std::vector<at::Tensor> out{y.detach().clone()};
    for (const auto& p : processor->parameters()) out.push_back(p.grad().clone());
    return out;
  };
  const auto first = run(2), again = run(2), one_thread = run(1);
  at::set_num_threads(threads);
  REQUIRE(first.size() == again.size());
  for (std::size_t i = 0; i < first.size(); ++i) CHECK(at::equal(first[i], again[i]));
  // The sparse attention's sums are in a fixed order whatever the threads; the weight
  // gradients are not compared here, as ATen's GEMM and LayerNorm reductions over the
  // rows split by thread count (the GNN's do the same).
  CHECK(at::equal(first[0], one_thread[0]));
}

TEST_CASE("attention weights sum to 1 per receiver, and the block is dense masked attention") {
  at::manual_seed(5);
  const auto pairs = neighbourhood(2);
  const std::int64_t B = 2, N = 162, L = 16, H = 4, D = L / H, E = pairs.size();
  MeshTransformer processor(L, 1, H, 0);
  auto block = (*processor->blocks)[0]->as<MeshTransformerBlockImpl>();
  {
    at::NoGradGuard no_grad;  // non-trivial LayerNorm affines, so the reference must use them
    for (auto* norm : {&block->attention_norm, &block->mlp_norm}) {
      (*norm)->norm->weight.normal_(1, 0.3);
      (*norm)->norm->bias.normal_(0, 0.3);
    }
  }
  const auto x = at::randn({B, N, L});
  const auto bias = processor->position_biases(pairs.features)[0];  // [E, H]
  REQUIRE(bias.sizes() == at::IntArrayRef({E, H}));
  const auto h = block->attention_norm->forward(x);
  const auto weights = block->attention->weights(h, pairs, bias);  // [B, E, H]
  REQUIRE(weights.sizes() == at::IntArrayRef({B, E, H}));
  CHECK(weights.min().item<float>() > 0);
  const auto sums = at::zeros({B, N, H}).index_add(1, pairs.receivers.index, weights);
  CHECK(at::allclose(sums, at::ones_like(sums), 0, 1e-6));

  // The reference: every node attends to every node, scores of pairs outside the
  // neighbourhood set to -inf; rows are receivers, columns senders.
  auto linear = [](const at::Tensor& v, const torch::nn::Linear& m) {
    return at::linear(v, m->weight, m->bias);
  };
  auto layer_norm = [](const at::Tensor& v, const ConditionalLayerNorm& m) {
    return at::layer_norm(v, {m->norm->weight.size(0)}, m->norm->weight, m->norm->bias, 1e-5);
  };
  auto split_heads = [&](const at::Tensor& v) {
    return v.view({B, N, H, D}).transpose(1, 2);
  };  // [B, H, N, D]
  const auto& a = block->attention;
  const auto hr = layer_norm(x, block->attention_norm);
  const auto q = split_heads(linear(hr, a->query)), k = split_heads(linear(hr, a->key)),
             v = split_heads(linear(hr, a->value));
  const auto r = pairs.receivers.index, s = pairs.senders.index;
  auto dense_bias = at::zeros({H, N, N}),
       mask = at::full({N, N}, -std::numeric_limits<float>::infinity());
  dense_bias.index_put_({at::indexing::Slice(), r, s}, bias.t());
  mask.index_put_({r, s}, at::zeros({E}));
  const auto attention = at::softmax(
      at::matmul(q, k.transpose(-1, -2)) / std::sqrt(double(D)) + dense_bias + mask, -1);
  const auto attended = at::matmul(attention, v).transpose(1, 2).reshape({B, N, L});
  const auto y = x + linear(attended, a->output);
  const auto expected =
      y + linear(at::silu(linear(layer_norm(y, block->mlp_norm), block->mlp_hidden)),
                 block->mlp_output);

  // The same weights pair by pair, and the same block output.
  const auto dense_weights =
      attention.index({at::indexing::Slice(), at::indexing::Slice(), r, s}).transpose(1, 2);
  CHECK(at::allclose(weights, dense_weights, 1e-5, 1e-6));
  CHECK(at::allclose(block->forward(x, pairs, bias), expected, 1e-5, 1e-5));
  CHECK(at::allclose(processor->forward(x, pairs), expected, 1e-5, 1e-5));
}

TEST_CASE(
    "a conditioned transformer network starts as the plain one and gradients reach every "
    "parameter") {
  const auto grid = small_grid();
  at::manual_seed(1);
  GraphNetwork plain(transformer_spec(2, 2), *grid, 11, 4);
  GraphNetwork conditioned(transformer_spec(2, 2, 8), *grid, 11, 4);
  for (const auto& p : conditioned->named_parameters()) {
    // No GNN processor, no mesh edge embedding.
    CHECK(p.key().find("processor.") == std::string::npos);
    CHECK(p.key().find("mesh_edge_embed.") == std::string::npos);
  }
  const int maps = gale::test::copy_into_conditioned(plain, conditioned);
  // Grid embed, encoder, grid update, 2 blocks x 2 norms, decoder.
  CHECK(maps == 2 * (1 + 2 + 1 + 2 * 2 + 2));
  CHECK(conditioned->named_parameters().size() == plain->named_parameters().size() + std::size_t(maps));
  const auto x = at::randn({3, 512, 11});
  const auto c = at::randn({3, 8});
  CHECK(at::equal(conditioned->forward(x, c), plain->forward(x)));
  CHECK(at::equal(conditioned->forward(x.narrow(0, 0, 1), c.narrow(0, 0, 1)),
                  plain->forward(x.narrow(0, 0, 1))));
  {
    at::NoGradGuard no_grad;  // the cached static latents give the same bits
    CHECK(at::equal(conditioned->forward(x, c), plain->forward(x)));
    CHECK(at::equal(conditioned->forward(x, c), plain->forward(x)));
  }
  conditioned->forward(x, c).square().mean().backward();
  for (const auto& p : conditioned->named_parameters()) {
    INFO(p.key());
    REQUIRE(p.value().grad().defined());
    CHECK(p.value().grad().abs().sum().item<double>() > 0);
  }
}

TEST_CASE("train.network: processor, attention_hops and heads are checked") {
  const auto out = gnn_test_path("unused.gale");
  const auto spec = parse_training_config(transformer_config(out, 5));
  CHECK(spec.network.processor == "transformer");
  CHECK(spec.network.attention_hops == 2);
  CHECK(spec.network.heads == 4);
  CHECK(parse_training_config(gale::test::tiny_training_config(out, 5)).network.processor == "gnn");
  auto refused = [&](const std::string& network, const std::string& words) {
    INFO(network);
    try {
      parse_training_config(transformer_config(out, 5, "", network));
      FAIL("accepted");
    } catch (const ConfigError& e) {
      CHECK_THAT(e.what(), Catch::Contains(words));
    }
  };
  refused("{latent: 30, processor: transformer, heads: 4}", "train.network.heads");
  refused("{latent: 30, processor: transformer}", "divisible");
  refused("{processor: attention}", "train.network.processor");
  refused("{heads: 4}", "only for train.network.processor: transformer");
  refused("{processor: transformer, attention_hops: 0}", "train.network.attention_hops");
}

TEST_CASE(
    "a tiny transformer forecaster trains, round-trips its checkpoint and is not a GNN's starting "
    "point") {
  ensure_mpi();
  const auto file = gnn_test_path("transformer.gale");
  const auto result = train_forecaster(
      MPI_COMM_WORLD, parse_training_config(transformer_config(file, kSteps)), false);
  REQUIRE(result.losses.size() == std::size_t(kSteps));
  const auto mean = [&](std::size_t from) {
    double s = 0;
    for (std::size_t i = from; i < from + 10; ++i) s += result.losses[i];
    return s / 10;
  };
  INFO("first losses " << mean(0) << ", last " << mean(kSteps - 10));
  CHECK(mean(kSteps - 10) < 0.8 * mean(0));

  // The metadata names the processor; a GNN's does not (its committed checkpoints stay as they
  // were).
  const auto checkpoint = read_checkpoint_file(file);
  const auto& network = checkpoint.metadata.at("network");
  CHECK(network.at("processor") == "transformer");
  CHECK(network.at("attention_hops") == 2);
  CHECK(network.at("heads") == 4);
  Forecaster gnn(
      ForecasterSpec{
          {parse_variable_key("z500")}, std::chrono::hours(6), {2, 16, 2, 0.6}, std::nullopt, {}},
      small_grid(), NormalisationStats{{5e4}, {3e3}, {300}});
  CHECK(forecaster_metadata(*gnn).at("network") ==
        nlohmann::json({{"mesh_level", 2}, {"latent", 16}, {"layers", 2}, {"radius_factor", 0.6}}));

  // Rebuilt from the metadata, the same numbers after a save/load cycle.
  auto a = load_forecaster(file);
  CHECK(a->spec().network.transformer());
  CHECK(forecaster_metadata(*a).at("network") == network);
  const auto copy = gnn_test_path("transformer-copy.gale");
  write_checkpoint_file(copy, {checkpoint.metadata, serialise_archive(*a), ""});
  auto b = load_forecaster(copy);
  const auto x =
      at::randn({1, 4, 512}) * 5 + at::tensor({5e4f, 0.f, 0.f, 250.f}).reshape({1, 4, 1});
  const TimePoint t = parse_iso8601("2001-02-05T00");
  {
    at::NoGradGuard no_grad;
    const auto y = a->forward(x, x, {t});
    CHECK(at::equal(y, b->forward(x, x, {t})));
    CHECK(!at::equal(y, x));
  }

  // A GNN run cannot start from it (nor the other way round): refused naming the processor.
  auto gnn_run = parse_training_config(gale::test::tiny_training_config(
      gnn_test_path("from-transformer.gale"), 2, "  init_from: " + file + "\n"));
  try {
    train_forecaster(MPI_COMM_WORLD, gnn_run, false);
    FAIL("a GNN run started from a transformer checkpoint");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("/network/processor") && Catch::Contains(file));
  }
}

TEST_CASE("a diffusion denoiser with the transformer processor trains") {
  ensure_mpi();
  const auto file = gnn_test_path("transformer-diffusion.gale");
  const auto result = train_forecaster(
      MPI_COMM_WORLD, parse_training_config(transformer_config(file, 2, kDiffusion)), false);
  REQUIRE(result.losses.size() == 2);
  for (const auto loss : result.losses) CHECK(std::isfinite(loss));
  const auto model = load_forecaster(file);
  CHECK(model->spec().kind() == "diffusion");
  CHECK(model->spec().network.transformer());
}
