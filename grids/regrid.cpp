#include "grids/regrid.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "grids/cells.hpp"

namespace gale {

void SparseMatrix::apply(const float* in, float* out) const {
#pragma omp parallel for schedule(static)
  for (std::size_t r = 0; r < rows; ++r) {
    // A row without weights is a target the source does not cover: missing, not zero.
    double s = row_start[r] == row_start[r + 1] ? std::nan("") : 0.0;
    for (std::uint64_t k = row_start[r]; k < row_start[r + 1]; ++k) s += weight[k] * double(in[col[k]]);
    out[r] = float(s);  // NaN propagates through the sum
  }
}

void SparseMatrix::apply(const std::vector<float>& in, std::vector<float>& out) const {
  if (in.size() != cols)
    throw InternalError(fmt::format("regrid: input has {} values, the weights expect {}", in.size(), cols));
  out.resize(rows);
  apply(in.data(), out.data());
}

namespace {
constexpr char kMagic[8] = {'G', 'A', 'L', 'E', 'W', 'T', 'S', '1'};

template <class T>
void write_vector(std::ofstream& out, const std::vector<T>& v) {
  const std::uint64_t n = v.size();
  out.write(reinterpret_cast<const char*>(&n), sizeof n);
  out.write(reinterpret_cast<const char*>(v.data()), std::streamsize(n * sizeof(T)));
}
template <class T>
bool read_vector(std::ifstream& in, std::vector<T>& v, std::uint64_t max) {
  std::uint64_t n = 0;
  if (!in.read(reinterpret_cast<char*>(&n), sizeof n) || n > max) return false;
  v.resize(n);
  return bool(in.read(reinterpret_cast<char*>(v.data()), std::streamsize(n * sizeof(T))));
}
}  // namespace

void SparseMatrix::save(const std::string& path, const std::string& key) const {
  // Write to a temporary name and rename: a reader never sees half a file.
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw InputError(fmt::format("{}: cannot write regrid weights", tmp));
    out.write(kMagic, sizeof kMagic);
    const std::uint64_t header[3] = {key.size(), rows, cols};
    out.write(reinterpret_cast<const char*>(header), sizeof header);
    out.write(key.data(), std::streamsize(key.size()));
    write_vector(out, row_start);
    write_vector(out, col);
    write_vector(out, weight);
    if (!out) {
      std::filesystem::remove(tmp);
      throw InputError(fmt::format("{}: write failed (disk full?)", tmp));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw InputError(fmt::format("{}: cannot move the weights into place", path));
  }
}

std::optional<SparseMatrix> SparseMatrix::load(const std::string& path, const std::string& key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  char magic[8];
  std::uint64_t header[3];
  if (!in.read(magic, 8) || std::memcmp(magic, kMagic, 8) != 0 ||
      !in.read(reinterpret_cast<char*>(header), sizeof header) || header[0] != key.size())
    return std::nullopt;
  std::string stored(key.size(), '\0');
  if (!in.read(stored.data(), std::streamsize(stored.size())) || stored != key) return std::nullopt;
  SparseMatrix m;
  m.rows = header[1];
  m.cols = header[2];
  constexpr std::uint64_t kMax = 1ull << 34;
  if (!read_vector(in, m.row_start, kMax) || !read_vector(in, m.col, kMax) || !read_vector(in, m.weight, kMax))
    return std::nullopt;
  if (m.row_start.size() != m.rows + 1 || m.row_start.back() != m.col.size() || m.col.size() != m.weight.size())
    return std::nullopt;
  for (std::size_t r = 0; r < m.rows; ++r)
    if (m.row_start[r] > m.row_start[r + 1]) return std::nullopt;
  for (const auto c : m.col)
    if (c >= m.cols) return std::nullopt;
  return m;
}

namespace {
// The points of one row of a structured global grid are evenly spaced: index and weight
// of the two neighbours of `lon` in that row.
struct RowBracket {
  std::size_t i0, i1;
  double w1;
};
RowBracket bracket_in_row(const Grid& g, std::size_t row, double lon) {
  const std::size_t begin = g.row_offsets()[row], n = g.row_offsets()[row + 1] - begin;
  const double first = g.lon()[begin];
  const double step = 360.0 / double(n);
  double x = std::fmod(lon - first, 360.0);
  if (x < 0) x += 360.0;
  const double f = x / step;
  std::size_t i = std::min(std::size_t(f), n - 1);
  const double w1 = f - double(i);
  return {begin + i, begin + (i + 1) % n, w1};
}
}  // namespace

SparseMatrix bilinear_weights(const Grid& source, const std::vector<double>& lat,
                              const std::vector<double>& lon) {
  if (source.rows() == 0 || !source.global_in_longitude())
    throw UserError(fmt::format("bilinear regridding needs a global structured source grid, got {}",
                                source.describe()));
  const auto& rows = source.row_latitudes();  // north -> south
  SparseMatrix m;
  m.rows = lat.size();
  m.cols = source.size();
  m.row_start.assign(m.rows + 1, 0);
  m.col.resize(4 * m.rows);
  m.weight.resize(4 * m.rows);
#pragma omp parallel for schedule(static)
  for (std::size_t p = 0; p < m.rows; ++p) {
    // Bracketing rows j (north) and j + 1 (south); clamped beyond the outermost rows.
    std::size_t j0, j1;
    double wsouth;
    if (lat[p] >= rows.front()) {
      j0 = j1 = 0, wsouth = 0;
    } else if (lat[p] <= rows.back()) {
      j0 = j1 = rows.size() - 1, wsouth = 0;
    } else {
      const auto it = std::upper_bound(rows.begin(), rows.end(), lat[p], std::greater<double>());
      j1 = std::size_t(it - rows.begin());
      j0 = j1 - 1;
      wsouth = (rows[j0] - lat[p]) / (rows[j0] - rows[j1]);
    }
    const auto north = bracket_in_row(source, j0, lon[p]);
    const auto south = bracket_in_row(source, j1, lon[p]);
    const std::size_t k = 4 * p;
    m.col[k] = std::uint32_t(north.i0), m.weight[k] = (1 - wsouth) * (1 - north.w1);
    m.col[k + 1] = std::uint32_t(north.i1), m.weight[k + 1] = (1 - wsouth) * north.w1;
    m.col[k + 2] = std::uint32_t(south.i0), m.weight[k + 2] = wsouth * (1 - south.w1);
    m.col[k + 3] = std::uint32_t(south.i1), m.weight[k + 3] = wsouth * south.w1;
  }
  for (std::size_t p = 0; p <= m.rows; ++p) m.row_start[p] = 4 * p;
  return m;
}

SparseMatrix barycentric_weights(const MeshLocation& location, std::size_t mesh_nodes) {
  SparseMatrix m;
  m.rows = location.vertices.size();
  m.cols = mesh_nodes;
  m.row_start.resize(m.rows + 1);
  m.col.resize(3 * m.rows);
  m.weight.resize(3 * m.rows);
  for (std::size_t p = 0; p < m.rows; ++p) {
    for (int v = 0; v < 3; ++v) {
      m.col[3 * p + v] = location.vertices[p][v];
      m.weight[3 * p + v] = location.weights[p][v];
    }
  }
  for (std::size_t p = 0; p <= m.rows; ++p) m.row_start[p] = 3 * p;
  return m;
}

namespace {
// Overlaps of 1-D cells: for each target cell, (source index, overlap length).
using Overlaps = std::vector<std::vector<std::pair<std::uint32_t, double>>>;

std::vector<double> longitude_edges(const Grid& g) {
  const auto& lon = g.longitudes();
  const std::size_t n = lon.size();
  std::vector<double> edges(n + 1);
  const double step = 360.0 / double(n);
  for (std::size_t i = 0; i <= n; ++i) edges[i] = lon[0] - step / 2 + step * double(i);
  return edges;
}

// Latitude overlaps measured in sin(lat) (area per unit longitude), both edge lists
// north -> south.
Overlaps latitude_overlaps(const std::vector<double>& src, const std::vector<double>& dst) {
  Overlaps o(dst.size() - 1);
  for (std::size_t j = 0; j + 1 < dst.size(); ++j)
    for (std::size_t s = 0; s + 1 < src.size(); ++s) {
      const double top = std::min(dst[j], src[s]), bottom = std::max(dst[j + 1], src[s + 1]);
      if (top > bottom)
        o[j].emplace_back(std::uint32_t(s), std::sin(top * kDegToRad) - std::sin(bottom * kDegToRad));
    }
  return o;
}

// Longitude overlaps on the circle: source cells shifted by -360, 0, +360 cover wrap-around.
Overlaps longitude_overlaps(const std::vector<double>& src, const std::vector<double>& dst) {
  Overlaps o(dst.size() - 1);
  for (std::size_t i = 0; i + 1 < dst.size(); ++i)
    for (int shift = -1; shift <= 1; ++shift)
      for (std::size_t s = 0; s + 1 < src.size(); ++s) {
        const double left = std::max(dst[i], src[s] + 360.0 * shift);
        const double right = std::min(dst[i + 1], src[s + 1] + 360.0 * shift);
        if (right > left) o[i].emplace_back(std::uint32_t(s), right - left);
      }
  return o;
}
}  // namespace

SparseMatrix conservative_weights(const Grid& source, const Grid& target) {
  for (const Grid* g : {&source, &target})
    if (g->kind() != GridKind::regular_ll && g->kind() != GridKind::regular_gaussian)
      throw UserError(fmt::format("conservative remapping needs regular grids, got {}", g->describe()));
  if (!source.global_in_longitude() || !target.global_in_longitude())
    throw UserError("conservative remapping needs grids global in longitude");
  const auto lat_o = latitude_overlaps(latitude_edges(source), latitude_edges(target));
  const auto lon_o = longitude_overlaps(longitude_edges(source), longitude_edges(target));
  const std::size_t src_nlon = source.longitudes().size(), dst_nlon = target.longitudes().size();
  SparseMatrix m;
  m.rows = target.size();
  m.cols = source.size();
  m.row_start.reserve(m.rows + 1);
  for (std::size_t j = 0; j < lat_o.size(); ++j)
    for (std::size_t i = 0; i < dst_nlon; ++i) {
      double total = 0;
      for (const auto& [sj, a] : lat_o[j])
        for (const auto& [si, b] : lon_o[i]) total += a * b;
      for (const auto& [sj, a] : lat_o[j])
        for (const auto& [si, b] : lon_o[i]) {
          m.col.push_back(std::uint32_t(sj * src_nlon + si));
          m.weight.push_back(a * b / total);
        }
      m.row_start.push_back(m.col.size());
    }
  return m;
}

RegridCache::RegridCache(std::string dir) : dir_(std::move(dir)) {
  if (dir_.empty()) {
    if (const char* env = std::getenv("GALE_CACHE_DIR")) dir_ = env;
    else if (const char* xdg = std::getenv("XDG_CACHE_HOME")) dir_ = std::string(xdg) + "/gale";
    else if (const char* home = std::getenv("HOME")) dir_ = std::string(home) + "/.cache/gale";
    else dir_ = "/tmp/gale-cache";
  }
}

SparseMatrix RegridCache::get(const std::string& method, const Grid& source, const Grid& target,
                              const std::string& parameters,
                              const std::function<SparseMatrix()>& build) const {
  const std::string key = sha256_hex(fmt::format("{}|{}|{}|{}", method, parameters,
                                                 source.fingerprint(), target.fingerprint()));
  const std::string path = fmt::format("{}/{}.weights", dir_, key);
  if (auto cached = SparseMatrix::load(path, key)) {
    hit_ = true;
    return std::move(*cached);
  }
  hit_ = false;
  SparseMatrix m = build();
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  try {
    m.save(path, key);
  } catch (const Error& e) {
    spdlog::warn("regrid cache: {} (continuing without caching)", e.what());
  }
  return m;
}

}  // namespace gale
