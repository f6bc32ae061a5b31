#pragma once
// Builds GRIB messages with ecCodes for tests: the same analytic field written in any
// scanning mode, so that canonical orientation can be checked against a known answer.
#include <eccodes.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/scratch_dir.hpp"

namespace gale::test {

inline double analytic(double lat, double lon) {
  return 250.0 + 0.5 * lat + 0.1 * lon + 5 * std::sin(lon * M_PI / 180);
}

struct LatLonSpec {
  std::vector<double> lats;  // in file order (row order)
  std::vector<double> lons;  // in file order (column order), any convention
  bool j_consecutive = false;
};

// Writes one 2t message (GRIB2, IEEE packing so values are exact float32).
inline std::string grib_message(const LatLonSpec& s, long param_id = 167) {
  codes_handle* h = codes_grib_handle_new_from_samples(nullptr, "regular_ll_sfc_grib2");
  const long ni = long(s.lons.size()), nj = long(s.lats.size());
  const bool i_neg = ni > 1 && s.lons[1] < s.lons[0];
  const bool j_pos = nj > 1 && s.lats[1] > s.lats[0];
  codes_set_long(h, "paramId", param_id);
  codes_set_long(h, "dataDate", 20200101);
  codes_set_long(h, "dataTime", 1200);
  codes_set_long(h, "Ni", ni);
  codes_set_long(h, "Nj", nj);
  codes_set_long(h, "iScansNegatively", i_neg);
  codes_set_long(h, "jScansPositively", j_pos);
  codes_set_long(h, "jPointsAreConsecutive", s.j_consecutive);
  codes_set_double(h, "latitudeOfFirstGridPointInDegrees", s.lats.front());
  codes_set_double(h, "latitudeOfLastGridPointInDegrees", s.lats.back());
  codes_set_double(h, "longitudeOfFirstGridPointInDegrees", s.lons.front());
  codes_set_double(h, "longitudeOfLastGridPointInDegrees", s.lons.back());
  codes_set_double(h, "iDirectionIncrementInDegrees", std::abs(s.lons[1] - s.lons[0]));
  codes_set_double(h, "jDirectionIncrementInDegrees", std::abs(s.lats[1] - s.lats[0]));
  codes_set_string(h, "packingType", "grid_ieee", nullptr);
  std::vector<double> values;
  if (s.j_consecutive) {
    for (double lon : s.lons)
      for (double lat : s.lats) values.push_back(analytic(lat, lon));
  } else {
    for (double lat : s.lats)
      for (double lon : s.lons) values.push_back(analytic(lat, lon));
  }
  codes_set_double_array(h, "values", values.data(), values.size());
  const void* msg = nullptr;
  size_t size = 0;
  codes_get_message(h, &msg, &size);
  std::string bytes(static_cast<const char*>(msg), size);
  codes_handle_delete(h);
  return bytes;
}

inline std::string write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
  return path.string();
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace gale::test
