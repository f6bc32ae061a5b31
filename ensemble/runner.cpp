#include "ensemble/runner.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <omp.h>

#include "core/errors.hpp"
#include "core/lexicon.hpp"
#include "core/progress.hpp"
#include "ensemble/checkpoint.hpp"
#include "ensemble/statistics_gpu.hpp"
#include "export/statistics_writer.hpp"

namespace gale {

std::pair<int, int> member_block(int members, int rank, int ranks) {
  const long first = long(members) * rank / ranks, last = long(members) * (rank + 1) / ranks;
  return {int(first), int(last)};
}

namespace {

std::string stats_path(const EnsembleSpec& spec, int lead) {
  return fmt::format("{}/stats/lead_{:03d}.nc", spec.run_dir, lead);
}
std::string dropped_marker(const EnsembleSpec& spec, int member) {
  return fmt::format("{}/checkpoints/member_{:03d}/dropped", spec.run_dir, member);
}
std::string checkpoint_path(const EnsembleSpec& spec, int member, int lead) {
  return fmt::format("{}/checkpoints/member_{:03d}/lead_{:03d}.bin", spec.run_dir, member, lead);
}

// The newest time of `s` must be finite and physically plausible; "" when it is.
std::string health_problem(const State& s, int member, int step, bool check_ranges) {
  const auto& lexicon = Lexicon::instance();
  const std::size_t t = s.times() - 1;
  for (std::size_t v = 0; v < s.variable_count(); ++v) {
    const float* x = s.field(0, t, v);
    const auto [lo, hi] = lexicon.valid_range(s.variables()[v]);
    for (std::size_t p = 0; p < s.points(); ++p) {
      if (!std::isfinite(x[p]))
        return fmt::format("member {}, step {}, variable {}: {} at point {} (lat {:g}, lon {:g})", member, step,
                           s.variables()[v].key(), x[p], p, s.grid()->lat()[p], s.grid()->lon()[p]);
      if (check_ranges && (x[p] < lo || x[p] > hi))
        return fmt::format("member {}, step {}, variable {}: {:g} outside the physical range {:g}..{:g} at point {}",
                           member, step, s.variables()[v].key(), x[p], lo, hi, p);
    }
  }
  return "";
}

// Fails on every rank when any rank found a problem, with the lowest failing member's
// message, so that no rank waits in a collective for one that gave up.
void agree_on_health(MPI_Comm comm, int failing_member, const std::string& message) {
  int worst = failing_member < 0 ? INT32_MAX : failing_member;
  MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_INT, MPI_MIN, comm);
  if (worst == INT32_MAX) return;
  int rank = 0, owner = -1;
  MPI_Comm_rank(comm, &rank);
  int mine = failing_member == worst ? rank : -1;
  MPI_Allreduce(&mine, &owner, 1, MPI_INT, MPI_MAX, comm);
  int length = int(message.size());
  MPI_Bcast(&length, 1, MPI_INT, owner, comm);
  std::string text = rank == owner ? message : std::string(std::size_t(length), ' ');
  MPI_Bcast(text.data(), length, MPI_CHAR, owner, comm);
  throw DataError("ensemble: " + text);
}

// Appends `next` (one time) to the input window, keeping the newest `times` times.
State advance_window(const State& window, const State& next, std::size_t times) {
  std::vector<TimePoint> valid(window.valid_times().end() - std::ptrdiff_t(times - 1), window.valid_times().end());
  valid.push_back(next.valid_times().back());
  State out(1, valid, window.variables(), window.grid(), window.reference_time());
  const std::size_t block = window.variable_count() * window.points();
  for (std::size_t t = 0; t + 1 < times; ++t)
    std::copy_n(window.field(0, window.times() - times + 1 + t, 0), block, out.field(0, t, 0));
  std::copy_n(next.field(0, next.times() - 1, 0), block, out.field(0, times - 1, 0));
  return out;
}

}  // namespace

EnsembleResult run_ensemble(MPI_Comm comm, Stepper& stepper, const State& initial, const EnsembleSpec& spec,
                            bool resume) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  if (spec.members < 1 || spec.steps < 1) throw ConfigError("ensemble: members and steps must be at least 1");
  const auto grid = stepper.grid();
  const auto variables = stepper.variables();
  std::vector<std::string> keys;
  for (const auto& v : variables) keys.push_back(v.key());
  const std::size_t window = stepper.input_times();
  initial.expect("ensemble initial conditions", keys, grid.get(), window);
  if (initial.members() != 1 && initial.members() != std::size_t(spec.members))
    throw ConfigError(fmt::format("ensemble: the input holds {} members; use 1 (perturbed) or all {}",
                                  initial.members(), spec.members));
  const std::size_t P = grid->size(), V = variables.size();
  const auto [first, last] = member_block(spec.members, rank, ranks);
  {  // one GPU per rank where a node has GPUs
    MPI_Comm node;
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    int node_rank = 0, node_size = 1;
    MPI_Comm_rank(node, &node_rank);
    MPI_Comm_size(node, &node_size);
    MPI_Comm_free(&node);
    select_cuda_device(node_rank);
    // Share the node's cores between its ranks instead of every rank starting a thread per core.
    omp_set_num_threads(std::max(1, int(std::thread::hardware_concurrency()) / node_size));
  }
  const int local = last - first;

  // Statistics layout: per variable, mean/std/min/max/percentiles/threshold counts.
  std::vector<StatisticsSpec> stat_specs(V);
  std::vector<StatisticsField> fields;
  for (std::size_t v = 0; v < V; ++v) {
    stat_specs[v].percentiles = spec.percentiles;
    if (auto it = spec.thresholds.find(keys[v]); it != spec.thresholds.end()) stat_specs[v].thresholds = it->second;
    for (const auto& n : stat_specs[v].names())
      fields.push_back({keys[v] + "_" + n, n.rfind("count", 0) == 0 ? "1" : variables[v].units,
                        fmt::format("ensemble {} of {}", n, keys[v])});
  }
  const std::size_t S = fields.size();

  // Where to start: the first lead without a statistics file (rank 0 decides).
  int start = 1;
  if (resume && rank == 0)
    while (start <= spec.steps && std::filesystem::exists(stats_path(spec, start))) ++start;
  MPI_Bcast(&start, 1, MPI_INT, 0, comm);
  EnsembleResult result;
  for (int k = 1; k < start; ++k) result.statistics_files.push_back(stats_path(spec, k));
  if (start > spec.steps) return result;

  // Members dropped earlier in this run (resume) stay dropped.
  std::vector<char> dropped(std::size_t(spec.members), 0);
  if (start > 1)
    for (int m = 0; m < spec.members; ++m) dropped[std::size_t(m)] = std::filesystem::exists(dropped_marker(spec, m));
  // Each local member's input window at lead start-1.
  std::vector<State> windows;
  for (int m = first; m < last; ++m) {
    if (dropped[std::size_t(m)]) {  // never stepped again: a placeholder of missing values
      std::vector<TimePoint> times(initial.valid_times().end() - std::ptrdiff_t(window), initial.valid_times().end());
      windows.emplace_back(1, times, variables, grid, initial.reference_time());
      continue;
    }
    if (start > 1) {
      windows.push_back(load_member_checkpoint(checkpoint_path(spec, m, start - 1), variables, grid));
      continue;
    }
    const std::size_t source = initial.members() == 1 ? 0 : std::size_t(m);
    std::vector<TimePoint> times(initial.valid_times().end() - std::ptrdiff_t(window), initial.valid_times().end());
    State w(1, times, variables, grid, initial.reference_time());
    for (std::size_t t = 0; t < window; ++t)
      for (std::size_t v = 0; v < V; ++v) {
        const float* x = initial.field(source, initial.times() - window + t, initial.index_of(keys[v]));
        std::copy_n(x, P, w.field(0, t, v));
      }
    if (initial.members() == 1) perturb(w, 0, m, spec.perturbation, spec.seed);
    windows.push_back(std::move(w));
  }

  // Spatial slabs for the statistics: rank q owns points [P q / R, P (q + 1) / R).
  std::vector<int> slab_first(std::size_t(ranks) + 1);
  for (int q = 0; q <= ranks; ++q) slab_first[std::size_t(q)] = int(std::size_t(P) * std::size_t(q) / std::size_t(ranks));
  const int my_slab = slab_first[std::size_t(rank) + 1] - slab_first[std::size_t(rank)];
  std::vector<int> send_counts(ranks), send_displs(ranks), recv_counts(ranks), recv_displs(ranks);
  for (int q = 0, offset = 0; q < ranks; ++q) {
    send_counts[q] = local * int(V) * (slab_first[q + 1] - slab_first[q]);
    send_displs[q] = offset;
    offset += send_counts[q];
  }
  for (int q = 0, offset = 0; q < ranks; ++q) {
    const auto [f, l] = member_block(spec.members, q, ranks);
    recv_counts[q] = (l - f) * int(V) * my_slab;
    recv_displs[q] = offset;
    offset += recv_counts[q];
  }
  std::vector<float> send(std::size_t(local) * V * P), recv(std::size_t(spec.members) * V * std::size_t(my_slab));
  std::vector<float> values(std::size_t(spec.members) * std::size_t(my_slab)), slab_stats(S * std::size_t(my_slab));
  std::vector<int> gather_counts(ranks), gather_displs(ranks);
  for (int q = 0, offset = 0; q < ranks; ++q) {
    gather_counts[q] = int(S) * (slab_first[q + 1] - slab_first[q]);
    gather_displs[q] = offset;
    offset += gather_counts[q];
  }
  std::vector<float> gathered(rank == 0 ? S * P : 0), stats(rank == 0 ? S * P : 0);

  ProgressBar progress("forecast", spec.steps - start + 1, rank == 0);
  std::future<void> writing;  // rank 0: the statistics file of the previous lead
  for (int lead = start; lead <= spec.steps; ++lead) {
    int failing = -1;
    std::string problem;
    std::vector<int> newly_dropped;
    for (int i = 0; i < local; ++i) {
      const int m = first + i;
      if (dropped[std::size_t(m)]) continue;
      const State next = stepper.step(windows[std::size_t(i)], StepKey{spec.seed, m, lead});
      const std::string bad = health_problem(next, m, lead, spec.check_ranges);
      if (!bad.empty() && spec.drop_bad_members) {
        spdlog::warn("ensemble: dropping {}", bad);
        std::filesystem::create_directories(std::filesystem::path(dropped_marker(spec, m)).parent_path());
        std::ofstream(dropped_marker(spec, m)) << bad << "\n";
        newly_dropped.push_back(m);
        continue;
      }
      if (!bad.empty() && failing < 0) {
        problem = bad;
        failing = m;
      }
      windows[std::size_t(i)] = advance_window(windows[std::size_t(i)], next, window);
    }
    agree_on_health(comm, failing, problem);
    // Every rank learns which members were dropped at this lead.
    int n_new = int(newly_dropped.size());
    std::vector<int> counts(static_cast<std::size_t>(ranks)), displs(static_cast<std::size_t>(ranks));
    MPI_Allgather(&n_new, 1, MPI_INT, counts.data(), 1, MPI_INT, comm);
    int total_new = 0;
    for (int q = 0; q < ranks; ++q) displs[std::size_t(q)] = total_new, total_new += counts[std::size_t(q)];
    std::vector<int> all_new(std::size_t(std::max(total_new, 1)));
    MPI_Allgatherv(newly_dropped.data(), n_new, MPI_INT, all_new.data(), counts.data(), displs.data(), MPI_INT, comm);
    for (int k = 0; k < total_new; ++k) dropped[std::size_t(all_new[std::size_t(k)])] = 1;
    const int active = int(std::count(dropped.begin(), dropped.end(), 0));
    if (active == 0) throw DataError(fmt::format("ensemble: every member was dropped by step {}", lead));
    if (rank == 0 && total_new > 0)
      spdlog::warn("ensemble: {} member(s) dropped at step {}; statistics from {} of {} members", total_new, lead,
                   active, spec.members);
    for (int i = 0; i < local; ++i) {
      if (dropped[std::size_t(first + i)]) continue;
      std::filesystem::create_directories(std::filesystem::path(checkpoint_path(spec, first + i, lead)).parent_path());
      save_member_checkpoint(windows[std::size_t(i)], checkpoint_path(spec, first + i, lead));
    }
    // Member-distributed -> space-distributed: every rank receives all members for its slab.
    for (int q = 0; q < ranks; ++q) {
      float* out = send.data() + send_displs[q];
      const int n = slab_first[q + 1] - slab_first[q];
      for (int i = 0; i < local; ++i)
        for (std::size_t v = 0; v < V; ++v, out += n) {
          const float* x = windows[std::size_t(i)].field(0, window - 1, v) + slab_first[q];
          std::copy_n(x, n, out);
        }
    }
    MPI_Alltoallv(send.data(), send_counts.data(), send_displs.data(), MPI_FLOAT, recv.data(), recv_counts.data(),
                  recv_displs.data(), MPI_FLOAT, comm);
    // recv is [member][variable][slab point] in member order (rank blocks are contiguous).
    std::size_t s_offset = 0;
    for (std::size_t v = 0; v < V; ++v) {
      std::size_t row = 0;  // active members only, in member order
      for (int m = 0; m < spec.members; ++m)
        if (!dropped[std::size_t(m)])
          std::copy_n(recv.data() + (std::size_t(m) * V + v) * std::size_t(my_slab), my_slab,
                      values.data() + row++ * std::size_t(my_slab));
      float* out = slab_stats.data() + s_offset * std::size_t(my_slab);
      // A GPU when the rank has one; the CPU otherwise (same results, tested).
      if (!point_statistics_cuda(values.data(), row, std::size_t(my_slab), stat_specs[v], out))
        point_statistics(values.data(), row, std::size_t(my_slab), stat_specs[v], out);
      s_offset += stat_specs[v].names().size();
    }
    MPI_Gatherv(slab_stats.data(), int(slab_stats.size()), MPI_FLOAT, gathered.data(), gather_counts.data(),
                gather_displs.data(), MPI_FLOAT, 0, comm);
    if (rank == 0) {
      // gathered: per rank [stat][slab point] -> stats [stat][point]
      for (int q = 0; q < ranks; ++q) {
        const int n = slab_first[q + 1] - slab_first[q];
        for (std::size_t s = 0; s < S; ++s)
          std::copy_n(gathered.data() + gather_displs[q] + s * std::size_t(n), n,
                      stats.data() + s * P + std::size_t(slab_first[q]));
      }
      const TimePoint valid = initial.valid_times().back() + lead * stepper.time_step();
      std::filesystem::create_directories(std::filesystem::path(stats_path(spec, lead)).parent_path());
      // Compressing and fsyncing the file is rank 0's alone: it runs while every rank steps
      // the next lead (one file in flight; files appear in lead order; an error surfaces at
      // the next lead or at the end).
      if (writing.valid()) writing.get();
      writing = std::async(std::launch::async, [path = stats_path(spec, lead), grid, reference = initial.valid_times().back(),
                                                valid, active, fields, values = stats] {
        write_statistics_netcdf(path, *grid, reference, valid, active, fields, values);
      });
      progress.update(lead - start + 1, fmt::format("leads ({} members on {} rank(s), valid {})", active, ranks,
                                                    iso8601(valid)));
    }
    result.statistics_files.push_back(stats_path(spec, lead));
    ++result.leads_computed;
  }
  if (writing.valid()) writing.get();
  MPI_Barrier(comm);
  return result;
}

State load_ensemble_members(const EnsembleSpec& spec, const std::vector<Variable>& variables,
                            const std::shared_ptr<const Grid>& grid, TimePoint analysis_time, Duration step,
                            std::vector<int>* dropped) {
  std::vector<int> kept;
  for (int m = 0; m < spec.members; ++m) {
    if (!std::filesystem::exists(dropped_marker(spec, m))) kept.push_back(m);
    else if (dropped) dropped->push_back(m);
  }
  std::vector<TimePoint> times;
  for (int lead = 1; lead <= spec.steps; ++lead) times.push_back(analysis_time + std::int64_t(lead) * step);
  State all(kept.size(), times, variables, grid, analysis_time);
  for (std::size_t k = 0; k < kept.size(); ++k)
    for (int lead = 1; lead <= spec.steps; ++lead) {
      // A checkpoint holds the member's input window ending at this lead.
      const State window = load_member_checkpoint(checkpoint_path(spec, kept[k], lead), variables, grid);
      for (std::size_t v = 0; v < variables.size(); ++v)
        std::copy_n(window.field(0, window.times() - 1, v), grid->size(), all.field(k, std::size_t(lead - 1), v));
    }
  return all;
}

}  // namespace gale
