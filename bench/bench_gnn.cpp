// GNN forecaster benchmark, C++ side (run_gnn_bench.sh runs it with gnn_reference.py):
//   - builds the default network (configs/train-gnn.yaml: T42 grid, M3 multi-mesh, latent
//     64, 6 layers) with seeded weights;
//   - writes weights, graphs, the input and its output to a directory so the Python
//     reference can rebuild the same model and check it agrees;
//   - times one forward pass, one training step (forward, backward, AdamW) and the
//     processor alone, and a plain GEMM of the processor's shape as the peak baseline.
// Usage: bench_gnn OUT_DIR [threads] [batch]
#include <ATen/ATen.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "gnn/forecaster.hpp"
#include "gnn/tensor_bridge.hpp"
#include "ingest/shallow_water.hpp"

using namespace gale;

namespace {
template <typename F>
double median_seconds(int repeats, F&& f) {
  std::vector<double> t;
  f();  // warm-up
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

void write_raw(const std::filesystem::path& file, const at::Tensor& t) {
  const auto c = t.contiguous();
  std::ofstream(file, std::ios::binary).write(static_cast<const char*>(c.data_ptr()), std::streamsize(c.nbytes()));
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_gnn OUT_DIR [threads] [batch]\n");
    return 2;
  }
  const std::filesystem::path out = argv[1];
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int batch = argc > 3 ? std::atoi(argv[3]) : 1;
  std::filesystem::create_directories(out);
  configure_torch_threads(threads);
  at::manual_seed(1);

  const auto grid = ShallowWaterModel(shallow_water_config(42)).grid();
  std::vector<Variable> vars;
  for (const char* k : {"z500", "u500", "v500", "t500"}) vars.push_back(parse_variable_key(k));
  const GraphNetworkSpec spec{3, 64, 6, 0.6};
  const auto in_channels = ForecasterImpl::input_channels(vars.size());
  GraphNetwork net(spec, *grid, in_channels, std::int64_t(vars.size()));
  const auto P = std::int64_t(grid->size());
  const auto x = at::randn({batch, P, in_channels});
  const auto target = at::randn({batch, P, std::int64_t(vars.size())});

  // Everything the reference needs to be the same model on the same input.
  nlohmann::json manifest;
  manifest["spec"] = {{"latent", spec.latent}, {"layers", spec.layers}, {"in", in_channels}, {"out", vars.size()},
                      {"grid_nodes", P}, {"mesh_nodes", net->graphs().mesh_nodes}, {"batch", batch},
                      {"threads", threads}};
  auto save = [&](const std::string& name, const at::Tensor& t) {
    write_raw(out / (name + ".bin"), t);
    manifest["tensors"][name] = {{"shape", t.sizes().vec()}, {"dtype", t.scalar_type() == at::kLong ? "int64" : "float32"}};
  };
  for (const auto& p : net->named_parameters()) save("param." + p.key(), p.value());
  const auto& g = net->graphs();
  save("mesh_node_features", g.mesh_node_features);
  for (const auto& [name, e] : {std::pair{"grid_to_mesh", &g.grid_to_mesh}, std::pair{"mesh", &g.mesh},
                                std::pair{"mesh_to_grid", &g.mesh_to_grid}}) {
    save(std::string(name) + ".senders", e->senders.index);
    save(std::string(name) + ".receivers", e->receivers.index);
    save(std::string(name) + ".features", e->features);
  }
  save("input", x);
  save("target", target);
  {
    at::NoGradGuard no_grad;
    save("output", net->forward(x));
  }

  double forward_s = 0;
  {
    at::NoGradGuard no_grad;
    forward_s = median_seconds(7, [&] { net->forward(x); });
  }
  torch::optim::AdamW optimiser(net->parameters(), torch::optim::AdamWOptions(1e-4));
  const double train_s = median_seconds(5, [&] {
    optimiser.zero_grad();
    (net->forward(x) - target).pow(2).mean().backward();
    optimiser.step();
  });

  // The processor alone on latents of its shape, and a GEMM of the same rows and width.
  at::NoGradGuard no_grad;
  const auto mesh = at::randn({batch, g.mesh_nodes, spec.latent});
  const auto edges = at::randn({g.mesh.size(), spec.latent});
  const double processor_s = median_seconds(7, [&] {
    auto e = edges;
    auto m = mesh;
    for (const auto& layer : *net->processor) {
      auto [e2, m2] = layer->as<InteractionImpl>()->forward(e, m, m, g.mesh);
      e = e2;
      m = m2;
    }
  });
  const double processor_gflops = batch * net->processor_flops() / processor_s / 1e9;
  const auto a = at::randn({batch * g.mesh.size(), spec.latent}), b = at::randn({spec.latent, spec.latent});
  const double gemm_s = median_seconds(7, [&] { at::mm(a, b); });
  const double gemm_gflops = 2.0 * double(a.size(0)) * spec.latent * spec.latent / gemm_s / 1e9;
  const auto big = at::randn({1024, 1024});
  const double big_s = median_seconds(5, [&] { at::mm(big, big); });
  const double big_gflops = 2.0 * 1024 * 1024 * 1024 / big_s / 1e9;

  manifest["gale"] = {{"forward_s", forward_s}, {"train_step_s", train_s}, {"processor_s", processor_s},
                      {"processor_gflops", processor_gflops}, {"gemm_gflops", gemm_gflops},
                      {"gemm_1024_gflops", big_gflops}};
  std::ofstream(out / "manifest.json") << manifest.dump(1);
  std::printf("gale (C++ LibTorch, %d threads, batch %d): forward %.1f ms, training step %.1f ms\n", threads, batch,
              1e3 * forward_s, 1e3 * train_s);
  std::printf("processor: %.1f ms, %.2f GFLOP/s; plain GEMM of the edge rows x %d: %.2f GFLOP/s (%.0f%%); "
              "1024^3 GEMM: %.2f GFLOP/s\n",
              1e3 * processor_s, processor_gflops, spec.latent, gemm_gflops, 100 * processor_gflops / gemm_gflops,
              big_gflops);
  return 0;
}
