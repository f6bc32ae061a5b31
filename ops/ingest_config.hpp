#pragma once
// The `ingest:` section of a config: which files to read and which fields to select.
//
// ingest:
//   sources:                       # one or more files, read in order
//     - {type: auto, path: data.grib}   # type: auto | grib | netcdf; paths relative to the config
//   variables: [z500, t850, 2t]    # lexicon keys: name + level in hPa, or a single-level name
//   times: {start: 2017-01-01T00, end: 2017-01-02T12, step_hours: 12}   # or a list; default all
//   members: [0, 1, 2]             # default: all found
//   check_ranges: true             # reject fields outside physical ranges (wrong units)
#include <string>
#include <vector>

#include "core/config.hpp"
#include "ingest/selection.hpp"

namespace gale {

struct SourceSpec {
  std::string type = "auto";
  std::string path;
};

struct IngestPlan {
  std::vector<SourceSpec> sources;
  Request request;
};

// A `sources:` list ({type, path} each; paths relative to the config; files must exist).
std::vector<SourceSpec> parse_sources(const ConfigNode& list, const Config& config);
// A list of variable keys (z500, 2t, ...), each known to the lexicon, none twice.
std::vector<Variable> parse_variables(const ConfigNode& list);
// Opens the sources and plans the selection (headers only).
Selection open_selection(const std::vector<SourceSpec>& sources, const Request& request);

// Validates everything (keys, variable names, times, files exist) before any decoding.
IngestPlan parse_ingest_config(const Config& config);
// The same for a section of that shape elsewhere (e.g. products.members).
IngestPlan parse_ingest_node(const ConfigNode& node, const Config& config);

// Opens every source and builds the selection (headers only).
Selection plan_selection(const IngestPlan& plan);

}  // namespace gale
