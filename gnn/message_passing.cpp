#include "gnn/message_passing.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <numeric>

namespace gale {

namespace {

template <typename T>
void segment_sum_cpu(const at::Tensor& edges, const NodeIncidence& inc, at::Tensor& out) {
  const std::int64_t batch = edges.size(0), count = edges.size(1), width = edges.size(2);
  const T* src = edges.data_ptr<T>();
  T* dst = out.data_ptr<T>();
  const std::int64_t* order = inc.order.data_ptr<std::int64_t>();
  const std::int64_t* offsets = inc.offsets.data_ptr<std::int64_t>();
  const std::int64_t nodes = inc.nodes;
  at::parallel_for(0, batch * nodes, 16, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const std::int64_t b = i / nodes, n = i % nodes;
      T* o = dst + i * width;
      for (std::int64_t k = offsets[n]; k < offsets[n + 1]; ++k) {
        const T* e = src + (b * count + order[k]) * width;
        for (std::int64_t h = 0; h < width; ++h) o[h] += e[h];
      }
    }
  });
}

at::Tensor segment_sum(const at::Tensor& edges, const NodeIncidence& inc) {
  auto out = at::zeros({edges.size(0), inc.nodes, edges.size(2)}, edges.options());
  if (!edges.device().is_cpu()) return out.index_add_(1, inc.index, edges);  // GPU: atomics
  const auto contiguous = edges.contiguous();
  if (edges.scalar_type() == at::kDouble)
    segment_sum_cpu<double>(contiguous, inc, out);
  else
    segment_sum_cpu<float>(contiguous, inc, out);
  return out;
}

// The incidence travels through autograd's context as its three tensors and node count.
NodeIncidence unpack(torch::autograd::AutogradContext* ctx) {
  const auto saved = ctx->get_saved_variables();
  return {saved[0], saved[1], saved[2], ctx->saved_data["nodes"].toInt()};
}
void pack(torch::autograd::AutogradContext* ctx, const NodeIncidence& inc) {
  ctx->save_for_backward({inc.index, inc.order, inc.offsets});
  ctx->saved_data["nodes"] = inc.nodes;
}

struct Gather : torch::autograd::Function<Gather> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& nodes, const at::Tensor& index,
                            const at::Tensor& order, const at::Tensor& offsets, std::int64_t count) {
    const NodeIncidence inc{index, order, offsets, count};
    pack(ctx, inc);
    return nodes.index_select(1, index);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad);
};

struct SegmentSum : torch::autograd::Function<SegmentSum> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& edges, const at::Tensor& index,
                            const at::Tensor& order, const at::Tensor& offsets, std::int64_t count) {
    const NodeIncidence inc{index, order, offsets, count};
    pack(ctx, inc);
    return segment_sum(edges, inc);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const auto inc = unpack(ctx);
    return {gather_nodes(grad[0], inc), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

torch::autograd::variable_list Gather::backward(torch::autograd::AutogradContext* ctx,
                                                torch::autograd::variable_list grad) {
  const auto inc = unpack(ctx);
  return {sum_into_nodes(grad[0], inc), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
}

}  // namespace

NodeIncidence make_incidence(const std::vector<std::uint32_t>& index, std::int64_t nodes) {
  const auto edges = std::int64_t(index.size());
  std::vector<std::int64_t> order(index.size()), offsets(std::size_t(nodes) + 1, 0);
  for (const auto n : index) ++offsets[n + 1];
  std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());
  auto cursor = offsets;
  for (std::int64_t e = 0; e < edges; ++e) order[std::size_t(cursor[index[std::size_t(e)]]++)] = e;
  std::vector<std::int64_t> index64(index.begin(), index.end());
  const auto opts = at::TensorOptions().dtype(at::kLong);
  return {at::tensor(index64, opts), at::tensor(order, opts), at::tensor(offsets, opts), nodes};
}

EdgeSet EdgeSet::to(const at::Device& device) const {
  auto move = [&](const NodeIncidence& n) {
    return NodeIncidence{n.index.to(device), n.order.to(device), n.offsets.to(device), n.nodes};
  };
  return {move(senders), move(receivers), features.to(device)};
}

at::Tensor gather_nodes(const at::Tensor& nodes, const NodeIncidence& inc) {
  return Gather::apply(nodes, inc.index, inc.order, inc.offsets, inc.nodes);
}

at::Tensor sum_into_nodes(const at::Tensor& edges, const NodeIncidence& inc) {
  return SegmentSum::apply(edges, inc.index, inc.order, inc.offsets, inc.nodes);
}

}  // namespace gale
