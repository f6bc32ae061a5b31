#include "export/png_figure.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/errors.hpp"
#include "export/atomic_file.hpp"

namespace gale {

namespace {
constexpr const char* kFont = "DejaVu Sans";

void select_font(cairo_t* cr, double size, bool bold) {
  cairo_select_font_face(cr, kFont, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}
}  // namespace

Canvas::Canvas(int width, int height)
    : surface_(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height)), cr_(cairo_create(surface_)) {
  cairo_set_source_rgb(cr_, 1, 1, 1);
  cairo_paint(cr_);
  cairo_select_font_face(cr_, kFont, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
}

Canvas::~Canvas() {
  cairo_destroy(cr_);
  cairo_surface_destroy(surface_);
}

void Canvas::write(const std::string& path) const {
  if (const auto status = cairo_status(cr_); status != CAIRO_STATUS_SUCCESS)
    throw InputError(fmt::format("{}: cannot draw the figure: {}", path, cairo_status_to_string(status)));
  cairo_surface_flush(surface_);
  AtomicOutput output(path);
  const auto status = cairo_surface_write_to_png(surface_, output.temp_path().c_str());
  if (status != CAIRO_STATUS_SUCCESS)
    throw InputError(fmt::format("{}: cannot write PNG: {}", path, cairo_status_to_string(status)));
  output.commit();
}

void set_color(cairo_t* cr, const Rgb& c) { cairo_set_source_rgb(cr, c[0], c[1], c[2]); }

void text(cairo_t* cr, const std::string& s, double x, double y, double size, double ax, double ay, bool bold) {
  select_font(cr, size, bold);
  cairo_text_extents_t te;
  cairo_font_extents_t fe;
  cairo_text_extents(cr, s.c_str(), &te);
  cairo_font_extents(cr, &fe);
  const double line = fe.ascent + fe.descent;
  cairo_move_to(cr, x - ax * te.x_advance, y + fe.ascent - ay * line);
  cairo_show_text(cr, s.c_str());
}

double text_width(cairo_t* cr, const std::string& s, double size, bool bold) {
  select_font(cr, size, bold);
  cairo_text_extents_t te;
  cairo_text_extents(cr, s.c_str(), &te);
  return te.x_advance;
}

void vertical_text(cairo_t* cr, const std::string& s, double x, double y, double size) {
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, -M_PI / 2);
  text(cr, s, 0, 0, size, 0.5, 0.5);
  cairo_restore(cr);
}

double nice_number(double x, bool round) {
  const double e = std::floor(std::log10(x)), f = x / std::pow(10.0, e);
  double n;
  if (round)
    n = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  else
    n = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return n * std::pow(10.0, e);
}

int decimals_for(double step) { return std::max(0, int(-std::floor(std::log10(step) + 1e-9))); }

std::vector<double> TickAxis::ticks() const {
  std::vector<double> out;
  for (double v = lo; v <= hi + step * 1e-6; v += step) out.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return out;
}

std::string TickAxis::label(double v) const { return fmt::format("{:.{}f}", v, decimals); }

TickAxis value_axis(double lo, double hi, int max_ticks) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (!(hi > lo)) {
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= lo == 0 ? 0 : pad;
    hi += pad;
  }
  const double step = nice_number((hi - lo) / (max_ticks - 1), true);
  return TickAxis{std::floor(lo / step) * step, std::ceil(hi / step) * step, step, decimals_for(step)};
}

TickAxis lead_axis(double lo, double hi) {
  lo = std::min(lo, 0.0);
  if (!(hi > lo)) hi = lo + 6;
  static const double steps[] = {1, 2, 3, 6, 12, 24, 48, 72, 120, 168, 240, 360, 480, 720, 1440};
  double step = steps[0];
  for (double s : steps) {
    step = s;
    if ((std::ceil(hi / s) - std::floor(lo / s)) <= 10) break;
  }
  return TickAxis{std::floor(lo / step) * step, std::ceil(hi / step) * step, step, 0};
}

}  // namespace gale
