#pragma once
// The cairo drawing kit shared by Gale's PNG figures (products/maps.cpp: maps and site
// plumes; verify/plots.cpp: score, rank-histogram and scorecard plots): a white RGB
// canvas written atomically (AtomicOutput), colours, anchored text in DejaVu Sans, and
// axes with "nice" ticks. Callers draw on canvas.cr() with cairo directly.
#include <cairo.h>

#include <array>
#include <string>
#include <vector>

namespace gale {

using Rgb = std::array<double, 3>;  // r, g, b in 0..1

// An RGB image surface, white, and its context, destroyed together.
class Canvas {
 public:
  Canvas(int width, int height);
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;
  cairo_t* cr() const { return cr_; }

  // Writes the PNG to an AtomicOutput's temporary file, then commits it (`path` and
  // `<path>.sha256`). Throws InputError naming `path` when drawing or writing failed.
  void write(const std::string& path) const;

 private:
  cairo_surface_t* surface_;
  cairo_t* cr_;
};

void set_color(cairo_t* cr, const Rgb& c);

// Draws `s` with its anchor at (x, y): ax = 0 / 0.5 / 1 for left / centre / right, and
// ay = 0 / 0.5 / 1 for the top / middle / bottom of the font's line box.
void text(cairo_t* cr, const std::string& s, double x, double y, double size, double ax, double ay,
          bool bold = false);
double text_width(cairo_t* cr, const std::string& s, double size, bool bold = false);
// Vertical text reading bottom to top, centred on (x, y).
void vertical_text(cairo_t* cr, const std::string& s, double x, double y, double size);

// "Nice" numbers for axis ticks (1, 2, 5 x 10^k): the nearest (`round`) or the next above.
double nice_number(double x, bool round);
// Decimals to label ticks `step` apart: 0 for steps >= 1, 1 for 0.1, ...
int decimals_for(double step);

// An axis from lo to hi with ticks every `step`, labelled with `decimals`.
struct TickAxis {
  double lo, hi, step;
  int decimals;
  double frac(double v) const { return (v - lo) / (hi - lo); }  // 0 at lo, 1 at hi
  std::vector<double> ticks() const;
  std::string label(double v) const;
};
// Nice ticks covering [lo, hi] (at most about max_ticks); a degenerate or non-finite range
// is widened.
TickAxis value_axis(double lo, double hi, int max_ticks = 7);
// Lead times (hours) from 0 or below: ticks at 1, 2, 3, 6, 12, 24 ... h, at most ~10.
TickAxis lead_axis(double lo, double hi);

}  // namespace gale
