#include "ensemble/checkpoint.hpp"

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "export/atomic_file.hpp"

namespace gale {

namespace {
constexpr char kMagic[8] = {'G', 'A', 'L', 'E', 'C', 'K', 'P', '1'};

std::string serialise(const State& s) {
  std::ostringstream out;
  auto put = [&](std::int64_t v) { out.write(reinterpret_cast<const char*>(&v), sizeof v); };
  out.write(kMagic, 8);
  put(std::int64_t(s.members()));
  put(std::int64_t(s.times()));
  put(std::int64_t(s.variable_count()));
  put(std::int64_t(s.points()));
  put(s.reference_time().time_since_epoch().count());
  for (auto t : s.valid_times()) put(t.time_since_epoch().count());
  for (const auto& v : s.variables()) {
    const auto k = v.key();
    put(std::int64_t(k.size()));
    out.write(k.data(), std::streamsize(k.size()));
  }
  out.write(s.grid()->fingerprint().data(), 64);
  out.write(reinterpret_cast<const char*>(s.data().data()), std::streamsize(s.data().size() * sizeof(float)));
  return out.str();
}
}  // namespace

void save_member_checkpoint(const State& state, const std::string& path) {
  std::string bytes = serialise(state);
  bytes += sha256_hex(bytes);
  // Rewritten every lead for every member: no fsync (three per file would cost more than the
  // model step); the embedded SHA-256 catches a file damaged by a power cut.
  AtomicOutput output(path, AtomicOutput::Mode::rename_only);
  {
    std::ofstream out(output.temp_path(), std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    if (!out) throw InputError(fmt::format("{}: cannot write checkpoint", path));
  }
  output.commit();
}

State load_member_checkpoint(const std::string& path, const std::vector<Variable>& variables,
                             const std::shared_ptr<const Grid>& grid) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: checkpoint missing", path));
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  if (bytes.size() < 8 + 64 || std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw InputError(fmt::format("{}: not a Gale member checkpoint", path));
  const std::string body = bytes.substr(0, bytes.size() - 64);
  if (sha256_hex(body) != bytes.substr(bytes.size() - 64))
    throw InputError(fmt::format("{}: checkpoint damaged (SHA-256 mismatch)", path));
  std::size_t pos = 8;
  auto get = [&]() {
    std::int64_t v = 0;
    if (pos + 8 > body.size()) throw InputError(fmt::format("{}: checkpoint truncated", path));
    std::memcpy(&v, body.data() + pos, 8);
    pos += 8;
    return v;
  };
  const auto members = get(), times = get(), nvars = get(), points = get();
  const TimePoint reference{std::chrono::seconds(get())};
  std::vector<TimePoint> valid;
  for (std::int64_t t = 0; t < times; ++t) valid.push_back(TimePoint{std::chrono::seconds(get())});
  if (std::size_t(nvars) != variables.size() || std::size_t(points) != grid->size())
    throw InputError(fmt::format("{}: checkpoint holds {} variables x {} points, the run {} x {}", path, nvars,
                                 points, variables.size(), grid->size()));
  for (const auto& v : variables) {
    const auto len = get();
    if (body.compare(pos, std::size_t(len), v.key()) != 0)
      throw InputError(fmt::format("{}: checkpoint variables differ from the run's ({} expected)", path, v.key()));
    pos += std::size_t(len);
  }
  if (body.compare(pos, 64, grid->fingerprint()) != 0)
    throw InputError(fmt::format("{}: checkpoint is on another grid", path));
  pos += 64;
  State s(std::size_t(members), valid, variables, grid, reference);
  const std::size_t n = s.data().size() * sizeof(float);
  if (pos + n != body.size()) throw InputError(fmt::format("{}: checkpoint truncated", path));
  std::memcpy(s.data().data(), body.data() + pos, n);
  return s;
}

}  // namespace gale
