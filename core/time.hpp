#pragma once
// Time points are UTC seconds since the Unix epoch (std::chrono::sys_seconds), which is
// enough resolution for weather (steps are minutes to hours) and is exact in int64.
#include <chrono>
#include <string>

namespace gale {

using TimePoint = std::chrono::sys_seconds;
using Duration = std::chrono::seconds;

// "2017-01-01T12:00:00Z"
std::string iso8601(TimePoint t);
// Accepts "YYYY-MM-DD", "YYYY-MM-DDThh[:mm[:ss]]" with 'T' or ' ' and an optional 'Z'.
// Throws UserError naming `what` on anything else.
TimePoint parse_iso8601(const std::string& text, const std::string& what = "time");
// From GRIB-style integers: date 20170101, time 1200 (hhmm).
TimePoint from_yyyymmdd_hhmm(long date, long hhmm);

}  // namespace gale
