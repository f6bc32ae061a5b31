#include "export/grib_writer.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "core/errors.hpp"
#include "export/atomic_file.hpp"
#include "export/grib_encoding.hpp"

namespace gale {

namespace {

using namespace grib;

// One variable's message with everything but member, time and values: cloned per message.
Handle prototype(const State& state, const Variable& v, const GridKeys& grid, bool ensemble,
                 int bits, const std::string& path) {
  Handle h = new_message(grid, v.level_kind == LevelKind::isobaric, path, v.key());
  const Encoder e(h.get(), path, v.key());
  e.set("productDefinitionTemplateNumber", ensemble ? 1L : 0L);
  e.set("typeOfGeneratingProcess", ensemble ? 4L : 2L);
  set_parameter(e, v, ensemble ? 1L : 0L,
                " (accumulated or other statistically processed parameters need templates 8/11, which "
                "the GRIB2 writer does not support yet)");
  set_reference_time(e, state.reference_time());
  if (ensemble) e.set("numberOfForecastsInEnsemble", long(state.members()));
  e.set("packingType", std::string("grid_simple"));
  e.set("bitsPerValue", long(bits));
  return h;
}

void write_file(const State& state, const std::string& path, const std::string& temp,
                const GribWriteOptions& options) {
  const auto grid = grid_keys(*state.grid(), path);
  const bool ensemble = options.ensemble && (state.members() > 1 || options.force_ensemble);
  if (!ensemble && state.members() > 1)
    throw ConfigError(fmt::format(
        "{}: {} members need ensemble GRIB2 output (template 1), but the ensemble option is off",
        path, state.members()));

  std::vector<Handle> protos;
  for (const auto& v : state.variables())
    protos.push_back(prototype(state, v, grid, ensemble, options.bits_per_value, path));

  std::vector<Step> steps;
  for (const auto valid : state.valid_times()) steps.push_back(step_of(path, state.reference_time(), valid));

  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(temp.c_str(), "wb"));
  if (!f)
    throw InputError(fmt::format("{}: cannot create GRIB file (temporary {}): {}", path, temp,
                                 std::strerror(errno)));
  const std::size_t n = state.points();
  for (std::size_t m = 0; m < state.members(); ++m)
    for (std::size_t t = 0; t < state.times(); ++t)
      for (std::size_t vi = 0; vi < state.variable_count(); ++vi) {
        const auto what = fmt::format("{} {} member {}", state.variables()[vi].key(),
                                      iso8601(state.valid_times()[t]), m);
        Handle h(codes_handle_clone(protos[vi].get()));
        if (!h) throw InternalError(fmt::format("{}: {}: cannot clone the GRIB message", path, what));
        const Encoder e(h.get(), path, what);
        e.set("indicatorOfUnitOfTimeRange", steps[t].unit);
        e.set("forecastTime", steps[t].value);
        if (ensemble) {
          e.set("typeOfEnsembleForecast", m == 0 ? 0L : 3L);
          e.set("perturbationNumber", long(m));
          e.set("typeOfProcessedData", m == 0 ? 3L : 4L);  // cf / pf
        } else {
          e.set("typeOfProcessedData", 1L);  // fc
        }
        set_values(e, state.field(m, t, vi), n);
        append_message(e, f.get());
      }
  close_written(std::move(f), path);
}

}  // namespace

void write_state_grib2(const State& state, const std::string& path, const GribWriteOptions& options) {
  grib::route_eccodes_logging();
  state.check();
  if (options.bits_per_value < 1 || options.bits_per_value > 32)
    throw ConfigError(fmt::format("{}: GRIB bits_per_value {} is outside 1..32", path,
                                  options.bits_per_value));
  AtomicOutput out(path);
  write_file(state, path, out.temp_path(), options);
  out.commit();
}

}  // namespace gale
