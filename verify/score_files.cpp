#include <fmt/format.h>
#include <netcdf.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include "core/errors.hpp"
#include "export/atomic_file.hpp"
#include "export/nc_writer.hpp"
#include "verify/verification.hpp"

namespace gale {

void write_scores_csv(const std::vector<ScoreRow>& rows, const std::string& path) {
  std::string text = "variable,lead_hours,region,score,value\n";
  for (const auto& r : rows)
    text += fmt::format("{},{:g},{},{},{:.9g}\n", r.variable, r.lead_hours, r.region, r.score, r.value);
  write_text_atomically(path, text);
}

std::vector<ScoreRow> read_scores_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open the scores CSV", path));
  auto parse_number = [&](const std::string& field, std::size_t line, const char* what) {
    if (field.empty() || field == "nan" || field == "NaN" || field == "-nan") return double(NAN);
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(field, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != field.size())
      throw InputError(fmt::format("{}:{}: {} '{}' is not a number", path, line, what, field));
    return v;
  };
  std::vector<ScoreRow> rows;
  std::string text;
  std::size_t line = 0;
  bool header = false;
  while (std::getline(in, text)) {
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.empty()) continue;
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (std::size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1)
      fields.push_back(text.substr(start, comma - start));
    fields.push_back(text.substr(start));
    if (!header) {
      if (text != "variable,lead_hours,region,score,value")
        throw InputError(fmt::format("{}:{}: expected the header 'variable,lead_hours,region,score,value'", path, line));
      header = true;
      continue;
    }
    if (fields.size() != 5)
      throw InputError(fmt::format("{}:{}: expected 5 comma-separated fields, found {}", path, line, fields.size()));
    if (fields[0].empty() || fields[2].empty() || fields[3].empty())
      throw InputError(fmt::format("{}:{}: empty variable, region or score", path, line));
    const double lead = parse_number(fields[1], line, "lead_hours");
    if (!std::isfinite(lead)) throw InputError(fmt::format("{}:{}: lead_hours is missing", path, line));
    rows.push_back({fields[0], lead, fields[2], fields[3], parse_number(fields[4], line, "value")});
  }
  if (in.bad()) throw InputError(fmt::format("{}: read error", path));
  if (!header) throw InputError(fmt::format("{}: empty scores CSV (no header line)", path));
  return rows;
}

void write_scores_netcdf(const std::vector<ScoreRow>& rows,
                         const std::map<std::tuple<std::string, double, std::string>, std::vector<double>>& ranks,
                         const std::string& path) {
  std::set<double> lead_set;
  std::vector<std::string> regions;
  std::set<std::pair<std::string, std::string>> series;  // (score, variable)
  for (const auto& r : rows) {
    lead_set.insert(r.lead_hours);
    if (std::find(regions.begin(), regions.end(), r.region) == regions.end()) regions.push_back(r.region);
    series.insert({r.score, r.variable});
  }
  const std::vector<double> leads(lead_set.begin(), lead_set.end());
  auto lead_index = [&](double l) { return std::size_t(std::lower_bound(leads.begin(), leads.end(), l) - leads.begin()); };
  auto region_index = [&](const std::string& r) {
    return std::size_t(std::find(regions.begin(), regions.end(), r) - regions.begin());
  };

  AtomicOutput output(path);
  NcWriter nc(path, output.temp_path());
  int lead_dim, region_dim, lead_var, region_var;
  nc.check(nc_def_dim(nc.id(), "lead_time", leads.size(), &lead_dim), "lead_time");
  nc.check(nc_def_dim(nc.id(), "region", regions.size(), &region_dim), "region");
  nc.check(nc_def_var(nc.id(), "lead_time", NC_DOUBLE, 1, &lead_dim, &lead_var), "lead_time");
  nc.text(lead_var, "units", "hours");
  nc.text(lead_var, "standard_name", "forecast_period");
  nc.check(nc_def_var(nc.id(), "region", NC_STRING, 1, &region_dim, &region_var), "region");
  const std::string conventions = "CF-1.10", title = "Gale verification scores (WeatherBench 2 definitions)";
  nc.text(NC_GLOBAL, "Conventions", conventions);
  nc.text(NC_GLOBAL, "title", title);
  std::map<std::pair<std::string, std::string>, int> ids;
  const int dims[2] = {lead_dim, region_dim};
  const double fill = NAN;
  for (const auto& [score, variable] : series) {
    int id;
    const std::string name = fmt::format("{}_{}", score, variable);
    nc.check(nc_def_var(nc.id(), name.c_str(), NC_DOUBLE, 2, dims, &id), name);
    nc.check(nc_def_var_fill(nc.id(), id, 0, &fill), name);
    nc.text(id, "long_name", score + " of " + variable);
    ids[{score, variable}] = id;
  }
  std::map<std::string, int> rank_ids;
  std::map<std::string, int> rank_dims;
  for (const auto& [key, freq] : ranks) {
    const auto& variable = std::get<0>(key);
    if (rank_ids.count(variable)) continue;
    int bin_dim, id;
    const std::string dim = fmt::format("rank_{}", variable), name = fmt::format("rank_histogram_{}", variable);
    nc.check(nc_def_dim(nc.id(), dim.c_str(), freq.size(), &bin_dim), dim);
    const int d3[3] = {lead_dim, region_dim, bin_dim};
    nc.check(nc_def_var(nc.id(), name.c_str(), NC_DOUBLE, 3, d3, &id), name);
    nc.check(nc_def_var_fill(nc.id(), id, 0, &fill), name);
    const std::string long_name = "relative frequency of the truth's rank among the members";
    nc.text(id, "long_name", long_name);
    rank_ids[variable] = id;
    rank_dims[variable] = int(freq.size());
  }
  nc.check(nc_enddef(nc.id()), "header");
  nc.check(nc_put_var_double(nc.id(), lead_var, leads.data()), "lead_time");
  std::vector<const char*> names;
  for (const auto& r : regions) names.push_back(r.c_str());
  nc.check(nc_put_var_string(nc.id(), region_var, names.data()), "region");
  for (const auto& r : rows) {
    const std::size_t index[2] = {lead_index(r.lead_hours), region_index(r.region)};
    nc.check(nc_put_var1_double(nc.id(), ids.at({r.score, r.variable}), index, &r.value), r.score);
  }
  for (const auto& [key, freq] : ranks) {
    const auto& [variable, lead, region] = key;
    const std::size_t start[3] = {lead_index(lead), region_index(region), 0};
    const std::size_t count[3] = {1, 1, freq.size()};
    nc.check(nc_put_vara_double(nc.id(), rank_ids.at(variable), start, count, freq.data()), "rank histogram");
  }
  nc.close();
  output.commit();
}

}  // namespace gale
