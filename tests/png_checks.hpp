#pragma once
// A PNG read back with cairo for the figure tests: size, pixel colours, counts of pixels
// that satisfy a predicate in a rectangle.
#include <cairo.h>
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>

namespace gale::test {

struct Png {
  std::unique_ptr<cairo_surface_t, void (*)(cairo_surface_t*)> surface{nullptr, cairo_surface_destroy};
  int width = 0, height = 0;
  explicit Png(const std::filesystem::path& path) {
    surface.reset(cairo_image_surface_create_from_png(path.c_str()));
    REQUIRE(cairo_surface_status(surface.get()) == CAIRO_STATUS_SUCCESS);
    cairo_surface_flush(surface.get());
    width = cairo_image_surface_get_width(surface.get());
    height = cairo_image_surface_get_height(surface.get());
  }
  // (r, g, b) in 0..255 of pixel (x, y); the PNGs are opaque (RGB24 / ARGB32 with alpha 255).
  std::array<int, 3> rgb(int x, int y) const {
    const auto* data = cairo_image_surface_get_data(surface.get());
    const int stride = cairo_image_surface_get_stride(surface.get());
    const auto px = *reinterpret_cast<const std::uint32_t*>(data + y * stride + x * 4);
    return {int((px >> 16) & 0xff), int((px >> 8) & 0xff), int(px & 0xff)};
  }
  // Pixels in [x0, x1) x [y0, y1) that satisfy `pred`.
  template <class Pred>
  int count(int x0, int y0, int x1, int y1, Pred pred) const {
    int n = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) n += pred(rgb(x, y));
    return n;
  }
  template <class Pred>
  double fraction(int x0, int y0, int x1, int y1, Pred pred) const {
    const double n = double(x1 - x0) * double(y1 - y0);
    return n > 0 ? count(x0, y0, x1, y1, pred) / n : 0;
  }
  std::size_t non_white() const {
    return std::size_t(count(0, 0, width, height, [](const std::array<int, 3>& c) {
      return c[0] < 250 || c[1] < 250 || c[2] < 250;
    }));
  }
};

}  // namespace gale::test
