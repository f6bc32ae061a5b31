#include "products/model_climate.hpp"

#include <fmt/format.h>
#include <netcdf.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include "core/errors.hpp"
#include "core/lexicon.hpp"
#include "core/state.hpp"
#include "export/atomic_file.hpp"
#include "export/nc_writer.hpp"
#include "export/writable_variable.hpp"

namespace gale {

namespace {

// netCDF-C is not thread-safe; the writers and readers in export and ingest keep their own
// file-local locks, and this one serialises the climate files among themselves.
std::mutex& climate_netcdf_mutex() {
  static std::mutex m;
  return m;
}

bool structured(const Grid& grid) {
  return grid.kind() == GridKind::regular_ll || grid.kind() == GridKind::regular_gaussian;
}

void check_percentiles(const std::vector<double>& percentiles) {
  if (percentiles.empty()) throw ConfigError("model climate: no percentiles requested");
  for (std::size_t k = 0; k < percentiles.size(); ++k) {
    if (!(percentiles[k] >= 0 && percentiles[k] <= 100))
      throw ConfigError(fmt::format("model climate: percentile {} is outside 0..100", percentiles[k]));
    if (k > 0 && !(percentiles[k] > percentiles[k - 1]))
      throw ConfigError(fmt::format("model climate: percentiles must ascend strictly ({} after {})",
                                    percentiles[k], percentiles[k - 1]));
  }
}

std::string describe_input(const State& s, std::size_t i, const std::vector<std::string>& names) {
  if (!names.empty()) return names[i];
  if (auto it = s.metadata().find("source"); it != s.metadata().end()) return it->second;
  return fmt::format("input {}: reference time {}, {} members x {} times", i + 1, iso8601(s.reference_time()),
                     s.members(), s.times());
}

std::string keys_of(const std::vector<Variable>& variables) {
  std::string out;
  for (const auto& v : variables) out += (out.empty() ? "" : ", ") + v.key();
  return out.empty() ? "none" : out;
}

// numpy.percentile's default ("linear"): rank q/100 (n-1) between order statistics.
void percentiles_of_sorted(const std::vector<float>& x, const std::vector<double>& percentiles, float* out,
                           std::size_t stride) {
  const std::size_t n = x.size();
  for (std::size_t k = 0; k < percentiles.size(); ++k) {
    if (n == 0) {
      out[k * stride] = NAN;
      continue;
    }
    const double rank = percentiles[k] / 100 * double(n - 1);
    const auto lo = std::size_t(std::floor(rank));
    const auto hi = std::min(lo + 1, n - 1);
    out[k * stride] = float(double(x[lo]) + (rank - double(lo)) * (double(x[hi]) - double(x[lo])));
  }
}

// Every sample (input, member, time) of one variable: samples x points, sample-major.
std::vector<float> gather_samples(const std::vector<State>& inputs, const std::string& key, std::size_t samples) {
  const std::size_t n = inputs.front().points();
  std::vector<float> all(samples * n);
  std::size_t s = 0;
  for (const auto& in : inputs) {
    const std::size_t v = in.index_of(key);
    for (std::size_t m = 0; m < in.members(); ++m)
      for (std::size_t t = 0; t < in.times(); ++t, ++s)
        std::copy_n(in.field(m, t, v), n, all.begin() + std::ptrdiff_t(s * n));
  }
  return all;
}

std::vector<float> point_percentiles(const std::vector<float>& samples, std::size_t count, std::size_t points,
                                     const std::vector<double>& percentiles) {
  std::vector<float> out(percentiles.size() * points);
#pragma omp parallel
  {
    std::vector<float> x;
    x.reserve(count);
#pragma omp for schedule(static)
    for (std::size_t p = 0; p < points; ++p) {
      x.clear();
      for (std::size_t s = 0; s < count; ++s)
        if (const float v = samples[s * points + p]; std::isfinite(v)) x.push_back(v);
      std::sort(x.begin(), x.end());
      percentiles_of_sorted(x, percentiles, out.data() + p, points);
    }
  }
  return out;
}

void check_inputs(const std::vector<State>& inputs, const std::vector<std::string>& keys,
                  const std::vector<std::string>& names) {
  if (inputs.empty()) throw DataError("model climate: no inputs");
  if (keys.empty()) throw ConfigError("model climate: no variables requested");
  if (!names.empty() && names.size() != inputs.size())
    throw InternalError(fmt::format("model climate: {} source names for {} inputs", names.size(), inputs.size()));
  const Grid& grid = *inputs.front().grid();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& in = inputs[i];
    if (!in.grid()->same_as(grid))
      throw DataError(fmt::format("model climate: {} is on grid {}, but {} is on grid {}", describe_input(in, i, names),
                                  in.grid()->describe(), describe_input(inputs.front(), 0, names), grid.describe()));
    for (const auto& key : keys)
      if (!in.has(key))
        throw DataError(fmt::format("model climate: {} has no variable '{}' (it has {})", describe_input(in, i, names),
                                    key, keys_of(in.variables())));
  }
}

// ---- writing -------------------------------------------------------------------------

std::string now_iso() {
  return iso8601(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

bool starts_with_timestamp(const std::string& line) {
  return line.size() >= 10 && std::isdigit(static_cast<unsigned char>(line[0])) && line[4] == '-' && line[7] == '-';
}

std::string nc_variable_name(const Variable& v, const LexiconEntry& entry) {
  const std::string base = entry.netcdf_names.empty() ? entry.name : entry.netcdf_names.front();
  return v.level_kind == LevelKind::isobaric ? fmt::format("{}{:g}", base, v.level) : base;
}

void put_int(NcWriter& nc, int varid, const std::string& name, long long value) {
  nc.check(nc_put_att_longlong(nc.id(), varid, name.c_str(), NC_INT64, 1, &value),
           fmt::format("attribute '{}'", name));
}

void write_globals(NcWriter& nc, const ModelClimate& c, const std::vector<std::string>& history) {
  nc.text(NC_GLOBAL, "Conventions", "CF-1.10");
  nc.text(NC_GLOBAL, "title", "Gale model climate");
  nc.text(NC_GLOBAL, "source", "Gale " GALE_VERSION " model climate (products/model_climate)");
  std::string h;
  for (const auto& line : history) h += (h.empty() ? "" : "\n") + (starts_with_timestamp(line) ? line : now_iso() + " " + line);
  nc.text(NC_GLOBAL, "history", h.empty() ? now_iso() + " Gale " GALE_VERSION ": build_model_climate" : h);
  nc.text(NC_GLOBAL, "comment",
          fmt::format("Per grid point percentiles (linear interpolation between order statistics) of {} samples "
                      "(every valid time and member of {} input(s), {} .. {}); NaN samples skipped.",
                      c.sample_count, c.sources.size(), iso8601(c.first_valid_time), iso8601(c.last_valid_time)));
  std::string sources;
  for (const auto& s : c.sources) sources += (sources.empty() ? "" : "\n") + s;
  nc.text(NC_GLOBAL, "gale_sources", sources);
  put_int(nc, NC_GLOBAL, "gale_sample_count", (long long)c.sample_count);
  nc.text(NC_GLOBAL, "gale_first_valid_time", iso8601(c.first_valid_time));
  nc.text(NC_GLOBAL, "gale_last_valid_time", iso8601(c.last_valid_time));
  nc.text(NC_GLOBAL, "gale_grid_kind", to_string(c.grid->kind()));
  nc.text(NC_GLOBAL, "gale_grid", c.grid->describe());
  nc.text(NC_GLOBAL, "gale_grid_fingerprint", c.grid->fingerprint());
}

void write_file(const ModelClimate& c, const std::string& path, const std::string& temp,
                const std::vector<std::string>& history) {
  const Grid& grid = *c.grid;
  const bool regular = structured(grid);
  NcWriter nc(path, temp);
  const int id = nc.id();
  write_globals(nc, c, history);

  const int pct_dim = nc.dim("percentile", c.percentiles.size());
  std::vector<int> space;
  if (regular)
    space = {nc.dim("latitude", grid.rows()), nc.dim("longitude", grid.longitudes().size())};
  else
    space = {nc.dim("values", grid.size())};

  const int pct_var = nc.var("percentile", NC_DOUBLE, {pct_dim});
  nc.text(pct_var, "long_name", "percentile of the model climate");
  nc.text(pct_var, "units", "%");
  const int lat_var = nc.var("latitude", NC_DOUBLE, {space.front()});
  const int lon_var = nc.var("longitude", NC_DOUBLE, {space.back()});
  for (auto [var, name, units, axis] : {std::tuple{lat_var, "latitude", "degrees_north", "Y"},
                                        std::tuple{lon_var, "longitude", "degrees_east", "X"}}) {
    nc.text(var, "standard_name", name);
    nc.text(var, "long_name", name);
    nc.text(var, "units", units);
    if (regular) nc.text(var, "axis", axis);
  }

  std::vector<int> dims{pct_dim};
  dims.insert(dims.end(), space.begin(), space.end());
  std::vector<std::size_t> chunks{1};
  if (regular)
    chunks.insert(chunks.end(), {grid.rows(), grid.longitudes().size()});
  else
    chunks.push_back(grid.size());
  const float fill = std::numeric_limits<float>::quiet_NaN();
  std::vector<int> varids;
  for (const auto& v : c.variables) {
    const auto& entry = writable_entry(v, path, "model climate NetCDF");
    const auto name = nc_variable_name(v, entry);
    const int var = nc.var(name, NC_FLOAT, dims);
    nc.check(nc_def_var_chunking(id, var, NC_CHUNKED, chunks.data()), fmt::format("chunking of '{}'", name));
    nc.check(nc_def_var_deflate(id, var, 1, 1, 1), fmt::format("compression of '{}'", name));
    nc.check(nc_def_var_fill(id, var, NC_FILL, &fill), fmt::format("_FillValue of '{}'", name));
    nc.text(var, "standard_name", entry.standard_name);
    nc.text(var, "long_name", v.level_kind == LevelKind::isobaric
                                  ? fmt::format("{} at {:g} hPa, model climate percentiles", entry.long_name, v.level)
                                  : entry.long_name + ", model climate percentiles");
    nc.text(var, "units", entry.units);
    nc.text(var, "gale_variable", v.key());
    put_int(nc, var, "sample_count", (long long)c.sample_count);
    if (!regular) nc.text(var, "coordinates", "latitude longitude");
    varids.push_back(var);
  }
  nc.check(nc_enddef(id), "leaving define mode");

  nc.check(nc_put_var_double(id, pct_var, c.percentiles.data()), "percentile values");
  nc.check(nc_put_var_double(id, lat_var, regular ? grid.row_latitudes().data() : grid.lat().data()), "latitude values");
  nc.check(nc_put_var_double(id, lon_var, regular ? grid.longitudes().data() : grid.lon().data()), "longitude values");
  for (std::size_t i = 0; i < varids.size(); ++i)
    nc.check(nc_put_var_float(id, varids[i], c.values[i].data()), fmt::format("values of '{}'", c.variables[i].key()));
  nc.close();
}

// ---- reading -------------------------------------------------------------------------

class NcFile {
 public:
  explicit NcFile(const std::string& path) : path_(path) {
    if (int err = nc_open(path.c_str(), NC_NOWRITE, &id_); err != NC_NOERR)
      throw InputError(fmt::format("{}: cannot open the model climate: {}", path, nc_strerror(err)));
  }
  ~NcFile() { nc_close(id_); }
  NcFile(const NcFile&) = delete;
  NcFile& operator=(const NcFile&) = delete;

  int id() const { return id_; }
  void check(int status, const std::string& what) const {
    if (status != NC_NOERR)
      throw InputError(fmt::format("{}: cannot read {} of the model climate: {}", path_, what, nc_strerror(status)));
  }
  // A piece of the layout that must be there: DataError naming it.
  [[noreturn]] void lacks(const std::string& what) const {
    throw DataError(fmt::format("{}: not a Gale model climate file: no {}", path_, what));
  }
  std::optional<std::string> text(int varid, const std::string& name) const {
    std::size_t len = 0;
    nc_type type{};
    if (nc_inq_att(id_, varid, name.c_str(), &type, &len) != NC_NOERR || type != NC_CHAR) return std::nullopt;
    std::string s(len, '\0');
    check(nc_get_att_text(id_, varid, name.c_str(), s.data()), fmt::format("attribute '{}'", name));
    return s;
  }
  std::size_t dim(const std::string& name) const {
    int d = -1;
    if (nc_inq_dimid(id_, name.c_str(), &d) != NC_NOERR) lacks(fmt::format("dimension '{}'", name));
    std::size_t len = 0;
    check(nc_inq_dimlen(id_, d, &len), fmt::format("dimension '{}'", name));
    return len;
  }
  int var(const std::string& name) const {
    int v = -1;
    if (nc_inq_varid(id_, name.c_str(), &v) != NC_NOERR) lacks(fmt::format("variable '{}'", name));
    return v;
  }
  std::vector<double> doubles(const std::string& name, std::size_t n) const {
    std::vector<double> out(n);
    check(nc_get_var_double(id_, var(name), out.data()), fmt::format("variable '{}'", name));
    return out;
  }

 private:
  std::string path_;
  int id_ = -1;
};

GridKind grid_kind_of(const std::string& text, const NcFile& nc) {
  for (auto k : {GridKind::regular_ll, GridKind::regular_gaussian, GridKind::reduced_gaussian, GridKind::mesh})
    if (to_string(k) == text) return k;
  nc.lacks(fmt::format("known grid kind (gale_grid_kind = '{}')", text));
}

std::shared_ptr<const Grid> read_grid(const NcFile& nc, const std::string& path) {
  const auto kind_text = nc.text(NC_GLOBAL, "gale_grid_kind");
  if (!kind_text) nc.lacks("global attribute 'gale_grid_kind'");
  const GridKind kind = grid_kind_of(*kind_text, nc);
  std::shared_ptr<const Grid> grid;
  if (kind == GridKind::regular_ll || kind == GridKind::regular_gaussian) {
    grid = Grid::regular(kind, nc.doubles("latitude", nc.dim("latitude")), nc.doubles("longitude", nc.dim("longitude")));
  } else {
    const std::size_t n = nc.dim("values");
    auto lat = nc.doubles("latitude", n), lon = nc.doubles("longitude", n);
    if (kind == GridKind::reduced_gaussian) {
      // Rows are runs of equal latitude, each starting at longitude 0 (see Grid).
      std::vector<double> rows;
      std::vector<long> pl;
      for (std::size_t p = 0; p < n; ++p) {
        if (rows.empty() || lat[p] != rows.back()) rows.push_back(lat[p]), pl.push_back(0);
        ++pl.back();
      }
      grid = Grid::reduced_gaussian(rows, pl);
    } else {
      grid = Grid::points(kind, lat, lon);
    }
  }
  if (auto fp = nc.text(NC_GLOBAL, "gale_grid_fingerprint"); fp && *fp != grid->fingerprint())
    throw DataError(fmt::format("{}: the coordinates give grid {}, whose fingerprint differs from the one recorded "
                                "({}): the file was altered",
                                path, grid->describe(), nc.text(NC_GLOBAL, "gale_grid").value_or("?")));
  return grid;
}

long long int_attribute(const NcFile& nc, int varid, const std::string& name) {
  long long v = 0;
  if (nc_get_att_longlong(nc.id(), varid, name.c_str(), &v) != NC_NOERR) nc.lacks(fmt::format("attribute '{}'", name));
  return v;
}

// Data variables are those with a gale_variable attribute (the Variable key).
void read_variables(const NcFile& nc, const std::string& path, ModelClimate& c) {
  int nvars = 0;
  nc.check(nc_inq_nvars(nc.id(), &nvars), "the variable list");
  const std::size_t values = c.percentiles.size() * c.grid->size();
  for (int varid = 0; varid < nvars; ++varid) {
    const auto key = nc.text(varid, "gale_variable");
    if (!key) continue;
    Variable v = parse_variable_key(*key);
    if (const auto units = nc.text(varid, "units"); units != v.units)
      throw DataError(fmt::format("{}: variable '{}' has units '{}', expected '{}'", path, *key,
                                  units.value_or("(none)"), v.units));
    int ndims = 0;
    nc.check(nc_inq_varndims(nc.id(), varid, &ndims), fmt::format("variable '{}'", *key));
    if (ndims != (structured(*c.grid) ? 3 : 2))
      throw DataError(fmt::format("{}: variable '{}' has {} dimensions, expected percentile and the grid's", path,
                                  *key, ndims));
    std::vector<float> data(values);
    nc.check(nc_get_var_float(nc.id(), varid, data.data()), fmt::format("values of '{}'", *key));
    c.variables.push_back(v);
    c.values.push_back(std::move(data));
  }
  if (c.variables.empty()) nc.lacks("data variable (none carries a 'gale_variable' attribute)");
}

ModelClimate read_file(const std::string& path) {
  NcFile nc(path);
  ModelClimate c;
  c.path = path;
  c.percentiles = nc.doubles("percentile", nc.dim("percentile"));
  c.grid = read_grid(nc, path);
  c.sample_count = std::size_t(int_attribute(nc, NC_GLOBAL, "gale_sample_count"));
  if (auto s = nc.text(NC_GLOBAL, "gale_sources")) {
    std::size_t start = 0;
    while (start <= s->size()) {
      const auto end = std::min(s->find('\n', start), s->size());
      c.sources.push_back(s->substr(start, end - start));
      start = end + 1;
    }
  }
  if (auto t = nc.text(NC_GLOBAL, "gale_first_valid_time")) c.first_valid_time = parse_iso8601(*t, path);
  if (auto t = nc.text(NC_GLOBAL, "gale_last_valid_time")) c.last_valid_time = parse_iso8601(*t, path);
  read_variables(nc, path, c);
  return c;
}

}  // namespace

const float* ModelClimate::quantiles(const std::string& key) const {
  for (std::size_t i = 0; i < variables.size(); ++i)
    if (variables[i].key() == key) return values[i].data();
  throw DataError(fmt::format("{}: the model climate has no variable '{}' (it has {})",
                              path.empty() ? "model climate" : path, key, keys_of(variables)));
}

void ModelClimate::expect_grid(const Grid& forecast_grid, const std::string& forecast_what) const {
  if (!grid->same_as(forecast_grid))
    throw DataError(fmt::format("{} is on grid {}, but the model climate{} is on grid {}: regrid one of them",
                                forecast_what, forecast_grid.describe(), path.empty() ? "" : " " + path,
                                grid->describe()));
}

ModelClimate build_model_climate(const std::vector<State>& inputs, const std::vector<std::string>& variables,
                                 const std::vector<double>& percentiles, const std::vector<std::string>& source_names) {
  check_percentiles(percentiles);
  check_inputs(inputs, variables, source_names);
  ModelClimate c;
  c.percentiles = percentiles;
  c.grid = inputs.front().grid();
  c.first_valid_time = TimePoint::max();
  c.last_valid_time = TimePoint::min();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& in = inputs[i];
    c.sources.push_back(describe_input(in, i, source_names));
    c.sample_count += in.members() * in.times();
    for (auto t : in.valid_times()) {
      c.first_valid_time = std::min(c.first_valid_time, t);
      c.last_valid_time = std::max(c.last_valid_time, t);
    }
  }
  if (c.sample_count == 0) throw DataError("model climate: the inputs hold no fields (no times or members)");
  for (const auto& key : variables) {
    c.variables.push_back(inputs.front().variables()[inputs.front().index_of(key)]);
    const auto samples = gather_samples(inputs, key, c.sample_count);
    c.values.push_back(point_percentiles(samples, c.sample_count, c.grid->size(), percentiles));
  }
  return c;
}

void write_model_climate(const ModelClimate& climate, const std::string& path, const std::vector<std::string>& history) {
  check_percentiles(climate.percentiles);
  if (!climate.grid || climate.values.size() != climate.variables.size())
    throw InternalError(fmt::format("{}: inconsistent model climate (grid or values missing)", path));
  for (const auto& v : climate.values)
    if (v.size() != climate.percentiles.size() * climate.grid->size())
      throw InternalError(fmt::format("{}: model climate values of the wrong size", path));
  AtomicOutput out(path);
  {
    std::lock_guard lock(climate_netcdf_mutex());
    write_file(climate, path, out.temp_path(), history);
  }
  out.commit();
}

ModelClimate read_model_climate(const std::string& path) {
  std::lock_guard lock(climate_netcdf_mutex());
  return read_file(path);
}

}  // namespace gale
