#include "core/time.hpp"

#include <fmt/format.h>

#include <cstdio>

#include "core/errors.hpp"

namespace gale {

using namespace std::chrono;

std::string iso8601(TimePoint t) {
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", int(ymd.year()),
                     unsigned(ymd.month()), unsigned(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count());
}

static TimePoint make_time(int y, int mo, int d, int h, int mi, int s, const std::string& what,
                           const std::string& text) {
  const year_month_day ymd{year{y}, month{unsigned(mo)}, day{unsigned(d)}};
  if (!ymd.ok() || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60)
    throw UserError(fmt::format("{}: '{}' is not a valid date/time", what, text));
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
}

TimePoint parse_iso8601(const std::string& text, const std::string& what_) {
  // With an empty `what` the caller adds its own context (a config path).
  const std::string what = what_.empty() ? "time" : what_;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, used = 0;
  const char* c = text.c_str();
  if (std::sscanf(c, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3)
    throw UserError(fmt::format("{}: '{}' is not an ISO 8601 date (expected YYYY-MM-DD[Thh:mm:ss])",
                                what, text));
  c += used;
  if (*c == 'T' || *c == ' ') {
    ++c;
    int n = 0;
    if (std::sscanf(c, "%2d%n", &h, &n) != 1)
      throw UserError(fmt::format("{}: '{}' has no hour after the date", what, text));
    c += n;
    if (*c == ':' && std::sscanf(c, ":%2d%n", &mi, &n) == 1) c += n;
    if (*c == ':' && std::sscanf(c, ":%2d%n", &s, &n) == 1) c += n;
    if (*c == '.') {  // fractional seconds: weather times are whole seconds
      ++c;
      while (*c >= '0' && *c <= '9') ++c;
    }
  }
  if (*c == 'Z') ++c;
  if (*c != '\0')
    throw UserError(fmt::format("{}: '{}' has trailing text '{}'", what, text, c));
  return make_time(y, mo, d, h, mi, s, what, text);
}

TimePoint from_yyyymmdd_hhmm(long date, long hhmm) {
  const auto text = fmt::format("{}/{:04d}", date, hhmm);
  return make_time(int(date / 10000), int(date / 100 % 100), int(date % 100), int(hhmm / 100),
                   int(hhmm % 100), 0, "GRIB dataDate/dataTime", text);
}

}  // namespace gale
