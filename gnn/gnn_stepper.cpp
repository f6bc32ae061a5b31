#include "gnn/gnn_stepper.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <fmt/format.h>

#include <cmath>

#include "core/errors.hpp"
#include "gnn/diffusion_forecaster.hpp"

namespace gale {

GnnStepper::GnnStepper(Forecaster model, std::string origin, bool zero_noise)
    : model_(std::move(model)), origin_(std::move(origin)), zero_noise_(zero_noise) {
  model_->eval();
  diffusion_ = model_->spec().diffusion;
  if (diffusion_ && zero_noise_)
    throw ConfigError("diffusion model " + origin_ + ": a zero-noise control member exists only for the fgn generator");
  variables_ = model_->spec().variables;
  auto find = [&](const std::string& key) {
    for (std::size_t i = 0; i < variables_.size(); ++i)
      if (variables_[i].key() == key) return int(i);
    return -1;
  };
  for (std::size_t i = 0; i < variables_.size(); ++i) prognostic_.push_back(i);
  u_ = find("u500");
  v_ = find("v500");
  if (u_ >= 0 && v_ >= 0 && find("ws500") < 0) {
    variables_.push_back(parse_variable_key("ws500"));
    ws_ = int(variables_.size() - 1);
  }
}

void GnnStepper::set_sampler(diffusion::SamplerKind kind, const diffusion::SamplerSpec& sampler) {
  if (!diffusion_)
    throw ConfigError(fmt::format("{} model {}: sampler settings apply to diffusion models only", name(), origin_));
  sampler.validate();
  diffusion_->sampler_kind = kind;
  diffusion_->sampler = sampler;
}

int GnnStepper::denoiser_evaluations() const {
  return diffusion_ ? diffusion::denoiser_evaluations(diffusion_->sampler_kind, diffusion_->sampler.steps) : 0;
}

State GnnStepper::step(const State& inputs, const StepKey& key) {
  std::vector<std::string> keys;
  for (const auto& v : variables_) keys.push_back(v.key());
  inputs.expect(model_->spec().kind() + " model " + origin_, keys, model_->grid().get(), 2);
  const auto P = std::int64_t(inputs.points()), V = std::int64_t(prognostic_.size());
  const std::size_t last = inputs.times() - 1;
  auto input_tensor = [&](std::size_t time) {
    auto t = at::empty({1, V, P}, at::kFloat);
    for (std::int64_t c = 0; c < V; ++c) {
      const auto& variable = variables_[prognostic_[std::size_t(c)]];
      const float* src = inputs.field(0, time, inputs.index_of(variable.key()));
      for (std::int64_t p = 0; p < P; ++p)
        if (!std::isfinite(src[p]))
          throw DataError(fmt::format("gnn model {}: input {} at {} is not finite at point {} (lat {:.2f}, lon {:.2f})",
                                      origin_, variable.key(), iso8601(inputs.valid_times()[time]), p,
                                      inputs.grid()->lat()[std::size_t(p)], inputs.grid()->lon()[std::size_t(p)]));
      std::copy_n(src, P, t.data_ptr<float>() + c * P);
    }
    return t.to(model_->device());
  };
  const TimePoint now = inputs.valid_times()[last];
  at::Tensor next;
  {
    at::NoGradGuard no_grad;
    if (diffusion_) {
      next = sample_diffusion_forecast(*model_, input_tensor(last - 1), input_tensor(last), {now}, {key}, *diffusion_)
                 .to(at::kCPU)
                 .contiguous();
    } else {
      at::Tensor noise;
      if (model_->spec().generative()) {
        const std::int64_t dim = model_->spec().network.conditioning;
        noise = (zero_noise_ ? at::zeros({dim}, at::kFloat) : member_noise(key.hash(), dim)).unsqueeze(0);
      }
      next = model_->forward(input_tensor(last - 1), input_tensor(last), {now}, noise).to(at::kCPU).contiguous();
    }
  }
  State out(1, {now + time_step()}, variables_, inputs.grid(), inputs.reference_time());
  for (std::int64_t c = 0; c < V; ++c) {
    const float* src = next.data_ptr<float>() + c * P;
    for (std::int64_t p = 0; p < P; ++p)
      if (!std::isfinite(src[p]))
        throw DataError(fmt::format("gnn model {}: the forecast of {} for {} is not finite (the model diverged)",
                                    origin_, variables_[prognostic_[std::size_t(c)]].key(),
                                    iso8601(now + time_step())));
    std::copy_n(src, P, out.field(0, 0, prognostic_[std::size_t(c)]));
  }
  if (ws_ >= 0) {
    const float* u = out.field(0, 0, std::size_t(u_));
    const float* v = out.field(0, 0, std::size_t(v_));
    float* ws = out.field(0, 0, std::size_t(ws_));
    for (std::int64_t p = 0; p < P; ++p) ws[p] = std::hypot(u[p], v[p]);
  }
  return out;
}

}  // namespace gale
