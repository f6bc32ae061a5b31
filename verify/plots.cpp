#include "verify/plots.hpp"

#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "core/errors.hpp"
#include "export/png_figure.hpp"

namespace gale {

namespace {

struct Frame {
  double x0, y0, x1, y1;  // plot area: left, top, right, bottom
  double x(const TickAxis& a, double v) const { return x0 + a.frac(v) * (x1 - x0); }
  double y(const TickAxis& a, double v) const { return y1 - a.frac(v) * (y1 - y0); }
};

// Horizontal grid, y ticks and labels; the frame; optionally x ticks for a numeric axis.
void draw_axes(cairo_t* cr, const Frame& f, const TickAxis& ya, const TickAxis* xa) {
  cairo_set_line_width(cr, 1);
  for (double v : ya.ticks()) {
    const double y = std::round(f.y(ya, v)) + 0.5;
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_move_to(cr, f.x0, y);
    cairo_line_to(cr, f.x1, y);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_move_to(cr, f.x0 - 5, y);
    cairo_line_to(cr, f.x0, y);
    cairo_stroke(cr);
    text(cr, ya.label(v), f.x0 - 8, y, 13, 1, 0.5);
  }
  if (xa)
    for (double v : xa->ticks()) {
      const double x = std::round(f.x(*xa, v)) + 0.5;
      cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
      cairo_move_to(cr, x, f.y0);
      cairo_line_to(cr, x, f.y1);
      cairo_stroke(cr);
      cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
      cairo_move_to(cr, x, f.y1);
      cairo_line_to(cr, x, f.y1 + 5);
      cairo_stroke(cr);
      text(cr, xa->label(v), x, f.y1 + 8, 13, 0.5, 0);
    }
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_rectangle(cr, std::round(f.x0) + 0.5, std::round(f.y0) + 0.5, std::round(f.x1 - f.x0),
                  std::round(f.y1 - f.y0));
  cairo_stroke(cr);
}

std::string format_value(double v) {
  if (!std::isfinite(v)) return "-";
  if (std::abs(v) >= 1000 && std::abs(v) < 1e7) return fmt::format("{:.0f}", v);
  return fmt::format("{:.4g}", v);
}

}  // namespace

void plot_score_vs_lead(const std::vector<ScoreRow>& rows, const std::string& variable, const std::string& region,
                        const std::string& path) {
  struct Series {
    const char* score;
    const char* label;
    Rgb color;
    bool dashed;
  };
  static const Series series[] = {{"rmse", "RMSE", {0.12, 0.47, 0.71}, false},
                                  {"rmse_persistence", "RMSE persistence", {1.0, 0.50, 0.05}, false},
                                  {"rmse_climatology", "RMSE climatology", {0.17, 0.63, 0.17}, false},
                                  {"spread", "ensemble spread", {0.58, 0.40, 0.74}, true}};
  std::map<std::string, std::vector<std::pair<double, double>>> data;
  double lead_lo = INFINITY, lead_hi = -INFINITY, lo = INFINITY, hi = -INFINITY;
  for (const auto& r : rows) {
    if (r.variable != variable || r.region != region) continue;
    if (std::none_of(std::begin(series), std::end(series), [&](const Series& s) { return r.score == s.score; }))
      continue;
    data[r.score].push_back({r.lead_hours, r.value});
    lead_lo = std::min(lead_lo, r.lead_hours);
    lead_hi = std::max(lead_hi, r.lead_hours);
    if (std::isfinite(r.value)) lo = std::min(lo, r.value), hi = std::max(hi, r.value);
  }
  for (auto& [score, points] : data) std::sort(points.begin(), points.end());
  if (!std::isfinite(lead_lo)) lead_lo = 0, lead_hi = 24;
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (lo >= 0) lo = 0;  // error magnitudes: from zero
  hi += (hi - lo) * 0.04;  // headroom: the largest value does not sit on the frame

  Canvas canvas(kScorePlotWidth, kScorePlotHeight);
  cairo_t* cr = canvas.cr();
  const Frame f{90, 60, kScorePlotWidth - 220.0, kScorePlotHeight - 70.0};
  const TickAxis xa = lead_axis(lead_lo, lead_hi), ya = value_axis(lo, hi);
  set_color(cr, {0, 0, 0});
  text(cr, variable + " " + region, (f.x0 + f.x1) / 2, 18, 20, 0.5, 0, true);
  draw_axes(cr, f, ya, &xa);
  set_color(cr, {0, 0, 0});
  text(cr, "lead time (h)", (f.x0 + f.x1) / 2, f.y1 + 34, 14, 0.5, 0);
  vertical_text(cr, "RMSE / spread", 24, (f.y0 + f.y1) / 2, 14);

  cairo_save(cr);
  cairo_rectangle(cr, f.x0 - 6, f.y0 - 6, f.x1 - f.x0 + 12, f.y1 - f.y0 + 12);
  cairo_clip(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  for (std::size_t i = std::size(series); i-- > 0;) {  // rmse last: on top of the baselines
    const auto& s = series[i];
    const auto it = data.find(s.score);
    if (it == data.end()) continue;
    set_color(cr, s.color);
    cairo_set_line_width(cr, 2.5);
    const double dash[] = {8, 5};
    cairo_set_dash(cr, dash, s.dashed ? 2 : 0, 0);
    bool pen = false;
    for (const auto& [lead, value] : it->second) {
      if (!std::isfinite(value)) {
        pen = false;
        continue;
      }
      (pen ? cairo_line_to : cairo_move_to)(cr, f.x(xa, lead), f.y(ya, value));
      pen = true;
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    for (const auto& [lead, value] : it->second)
      if (std::isfinite(value)) {
        cairo_arc(cr, f.x(xa, lead), f.y(ya, value), 4, 0, 2 * M_PI);
        cairo_fill(cr);
      }
  }
  cairo_restore(cr);

  // Legend to the right of the plot area.
  double y = f.y0 + 4;
  const double lx = f.x1 + 24;
  if (data.empty()) {
    set_color(cr, {0.4, 0.4, 0.4});
    text(cr, "no scores", (f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2, 16, 0.5, 0.5);
  }
  for (const auto& s : series) {
    if (!data.count(s.score)) continue;
    set_color(cr, s.color);
    cairo_set_line_width(cr, 2.5);
    const double dash[] = {8, 5};
    cairo_set_dash(cr, dash, s.dashed ? 2 : 0, 0);
    cairo_move_to(cr, lx, y + 10);
    cairo_line_to(cr, lx + 34, y + 10);
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    cairo_arc(cr, lx + 17, y + 10, 4, 0, 2 * M_PI);
    cairo_fill(cr);
    set_color(cr, {0, 0, 0});
    text(cr, s.label, lx + 44, y + 10, 14, 0, 0.5);
    y += 28;
  }
  canvas.write(path);
}

void plot_rank_histogram(const std::vector<double>& frequencies, const std::string& title, const std::string& path) {
  const std::size_t n = frequencies.size();
  const double flat = n > 0 ? 1.0 / double(n) : 0;
  double hi = flat;
  for (double v : frequencies)
    if (std::isfinite(v)) hi = std::max(hi, v);
  Canvas canvas(kRankPlotWidth, kRankPlotHeight);
  cairo_t* cr = canvas.cr();
  const Frame f{90, 70, kRankPlotWidth - 30.0, kRankPlotHeight - 70.0};
  const TickAxis ya = value_axis(0, hi * 1.08 > 0 ? hi * 1.08 : 1, 6);
  set_color(cr, {0, 0, 0});
  text(cr, title, (f.x0 + f.x1) / 2, 14, 20, 0.5, 0, true);
  draw_axes(cr, f, ya, nullptr);

  const double slot = n > 0 ? (f.x1 - f.x0) / double(n) : 0;
  std::size_t every = 1;  // label bin 1 and every `every`-th bin: at most ~20 labels
  for (std::size_t e : {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000})
    if ((every = e) * 20 >= n) break;
  for (std::size_t b = 0; b < n; ++b) {
    const double x = f.x0 + slot * double(b), v = std::isfinite(frequencies[b]) ? frequencies[b] : 0;
    cairo_rectangle(cr, x + slot * 0.1, f.y(ya, v), slot * 0.8, f.y1 - f.y(ya, v));
    cairo_set_source_rgb(cr, 0.12, 0.47, 0.71);
    cairo_fill(cr);
    if (b == 0 || (b + 1) % every == 0) {
      set_color(cr, {0.2, 0.2, 0.2});
      text(cr, std::to_string(b + 1), x + slot / 2, f.y1 + 8, 13, 0.5, 0);
    }
  }
  if (n > 0) {
    cairo_set_source_rgb(cr, 0.84, 0.15, 0.16);
    cairo_set_line_width(cr, 2);
    const double dash[] = {8, 5};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, f.x0, f.y(ya, flat));
    cairo_line_to(cr, f.x1, f.y(ya, flat));
    cairo_stroke(cr);
    // Legend entry for the line, above the plot's right corner.
    const std::string label = fmt::format("flat 1/(M+1) = {:.3g}", flat);
    const double w = text_width(cr, label, 13);
    cairo_move_to(cr, f.x1 - w - 44, f.y0 - 14);
    cairo_line_to(cr, f.x1 - w - 10, f.y0 - 14);
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    set_color(cr, {0, 0, 0});
    text(cr, label, f.x1, f.y0 - 14, 13, 1, 0.5);
  } else {
    set_color(cr, {0.4, 0.4, 0.4});
    text(cr, "no ensemble", (f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2, 16, 0.5, 0.5);
  }
  set_color(cr, {0, 0, 0});
  text(cr, "rank of the truth among the members", (f.x0 + f.x1) / 2, f.y1 + 34, 14, 0.5, 0);
  vertical_text(cr, "relative frequency", 24, (f.y0 + f.y1) / 2, 14);
  canvas.write(path);
}

ScorecardGeometry scorecard_geometry(std::size_t table_rows, std::size_t lead_times) {
  ScorecardGeometry g{0, 0, 230, 96, 86, 34};
  g.width = std::max(g.left + int(lead_times) * g.cell_width + 24, 640);
  g.height = g.top + int(table_rows) * g.cell_height + 84;
  return g;
}

namespace {
// Relative improvement of `value` over `ref` (positive better), NaN when not comparable.
double relative_skill(const std::string& score, double value, double ref) {
  if (!std::isfinite(value) || !std::isfinite(ref)) return NAN;
  if (score == "acc") {
    const double e_ref = 1 - ref, e = 1 - value;
    return e_ref > 1e-12 ? (e_ref - e) / e_ref : (value < ref ? -1.0 : 0.0);
  }
  if (score == "spread_skill") return std::abs(ref - 1) - std::abs(value - 1);
  return ref != 0 ? (ref - value) / std::abs(ref) : (value > ref ? -1.0 : 0.0);  // lower is better
}

const Rgb kNeutral{0.92, 0.92, 0.92}, kBetter{0.30, 0.72, 0.38}, kWorse{0.88, 0.30, 0.28};

Rgb skill_color(double d) {
  if (!std::isfinite(d)) return kNeutral;
  const double t = std::min(1.0, std::abs(d) / 0.25);
  const Rgb c = d > 0 ? kBetter : kWorse;
  return {1 + (c[0] - 1) * t, 1 + (c[1] - 1) * t, 1 + (c[2] - 1) * t};
}
}  // namespace

void plot_scorecard(const std::vector<ScoreRow>& rows, const std::vector<ScoreRow>* reference,
                    const std::string& path) {
  static const std::vector<std::string> scores{"rmse", "acc", "crps", "spread_skill"};
  static const std::string region = "global";
  std::vector<std::string> variables;
  std::set<double> lead_set;
  std::map<std::tuple<std::string, std::string, double>, double> value, ref, persistence;
  for (const auto& r : rows) {
    if (r.region != region) continue;
    if (std::find(variables.begin(), variables.end(), r.variable) == variables.end()) variables.push_back(r.variable);
    if (r.score == "rmse_persistence") persistence[{r.variable, "rmse", r.lead_hours}] = r.value;
    if (std::find(scores.begin(), scores.end(), r.score) == scores.end()) continue;
    lead_set.insert(r.lead_hours);
    value[{r.variable, r.score, r.lead_hours}] = r.value;
  }
  if (reference)
    for (const auto& r : *reference)
      if (r.region == region) ref[{r.variable, r.score, r.lead_hours}] = r.value;
  std::vector<std::pair<std::string, std::string>> table;  // (variable, score)
  for (const auto& v : variables)
    for (const auto& s : scores)
      for (double l : lead_set)
        if (value.count({v, s, l})) {
          table.push_back({v, s});
          break;
        }
  const std::vector<double> leads(lead_set.begin(), lead_set.end());
  const auto g = scorecard_geometry(table.size(), leads.size());
  Canvas canvas(g.width, g.height);
  cairo_t* cr = canvas.cr();
  set_color(cr, {0, 0, 0});
  text(cr, "Scorecard (" + region + ")", 20, 14, 20, 0, 0, true);
  set_color(cr, {0.3, 0.3, 0.3});
  text(cr,
       reference ? "colour: skill relative to the reference run"
                 : "colour: rmse relative to persistence (no reference run)",
       20, 44, 13, 0, 0);
  set_color(cr, {0, 0, 0});
  text(cr, "variable", 20, g.top - g.cell_height / 2.0, 13, 0, 0.5, true);
  text(cr, "score", 110, g.top - g.cell_height / 2.0, 13, 0, 0.5, true);
  for (std::size_t c = 0; c < leads.size(); ++c)
    text(cr, fmt::format("{:g} h", leads[c]), g.left + (c + 0.5) * g.cell_width, g.top - g.cell_height / 2.0, 13,
         0.5, 0.5, true);
  for (std::size_t r = 0; r < table.size(); ++r) {
    const auto& [variable, score] = table[r];
    const double y = g.top + double(r) * g.cell_height;
    set_color(cr, {0, 0, 0});
    if (r == 0 || table[r - 1].first != variable) text(cr, variable, 20, y + g.cell_height / 2.0, 14, 0, 0.5, true);
    text(cr, score, 110, y + g.cell_height / 2.0, 13, 0, 0.5);
    for (std::size_t c = 0; c < leads.size(); ++c) {
      const auto key = std::make_tuple(variable, score, leads[c]);
      const auto it = value.find(key);
      const double v = it == value.end() ? NAN : it->second;
      double d = NAN;
      if (reference) {
        if (const auto rt = ref.find(key); rt != ref.end()) d = relative_skill(score, v, rt->second);
      } else if (score == "rmse") {
        if (const auto pt = persistence.find(key); pt != persistence.end()) d = relative_skill(score, v, pt->second);
      }
      const double x = g.left + double(c) * g.cell_width;
      set_color(cr, skill_color(d));
      cairo_rectangle(cr, x, y, g.cell_width, g.cell_height);
      cairo_fill(cr);
      set_color(cr, {0.1, 0.1, 0.1});
      text(cr, format_value(v), x + g.cell_width / 2.0, y + g.cell_height / 2.0, 13, 0.5, 0.5);
    }
  }
  // Cell borders; a heavier line between variables.
  const double right = g.left + double(leads.size()) * g.cell_width,
               bottom = g.top + double(table.size()) * g.cell_height;
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_set_line_width(cr, 2);
  for (std::size_t c = 1; c < leads.size(); ++c) {
    cairo_move_to(cr, g.left + double(c) * g.cell_width, g.top);
    cairo_line_to(cr, g.left + double(c) * g.cell_width, bottom);
  }
  cairo_stroke(cr);
  for (std::size_t r = 0; r <= table.size(); ++r) {
    const double y = g.top + double(r) * g.cell_height;
    const bool group = r == 0 || r == table.size() || table[r - 1].first != table[r].first;
    cairo_set_source_rgb(cr, group ? 0.25 : 1, group ? 0.25 : 1, group ? 0.25 : 1);
    cairo_set_line_width(cr, group ? 1.5 : 2);
    cairo_move_to(cr, group ? 16 : g.left, y);
    cairo_line_to(cr, right, y);
    cairo_stroke(cr);
  }
  // Legend: a strip from worse (red) to better (green).
  const double ly = bottom + 30, lx = 20, seg = 24;
  set_color(cr, {0, 0, 0});
  text(cr, "worse", lx, ly + 8, 13, 0, 0.5);
  const double sx = lx + 50;
  for (int i = 0; i < 9; ++i) {
    set_color(cr, skill_color(-0.25 + 0.0625 * i));
    cairo_rectangle(cr, sx + i * seg, ly, seg, 16);
    cairo_fill(cr);
  }
  cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, sx + 0.5, ly + 0.5, 9 * seg, 16);
  cairo_stroke(cr);
  set_color(cr, {0, 0, 0});
  text(cr, "better (saturates at 25 %)", sx + 9 * seg + 8, ly + 8, 13, 0, 0.5);
  set_color(cr, {0.3, 0.3, 0.3});
  text(cr, "rmse, crps: lower is better; acc: higher; spread_skill: closer to 1", lx, ly + 26, 12, 0, 0);
  canvas.write(path);
}

}  // namespace gale
