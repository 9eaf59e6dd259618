// SVG → PNG through librsvg. Kept apart from svg_chart.cpp so the chart text stays free of library state.
#include <cairo.h>
#include <librsvg/rsvg.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "sandbox/svg_chart.h"

namespace agentrt::sandbox {
namespace {

cairo_status_t append_png(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

std::string svg_to_png(const std::string& svg) {
  GError* error = nullptr;
  RsvgHandle* handle =
      rsvg_handle_new_from_data(reinterpret_cast<const guint8*>(svg.data()), svg.size(), &error);
  if (handle == nullptr) {
    std::string message = error ? error->message : "unknown error";
    if (error) g_error_free(error);
    throw std::runtime_error("cannot read the SVG: " + message);
  }
  std::unique_ptr<RsvgHandle, void (*)(gpointer)> owned(handle, g_object_unref);
  gdouble width = 0;
  gdouble height = 0;
  if (!rsvg_handle_get_intrinsic_size_in_pixels(handle, &width, &height) || width < 1 || height < 1 ||
      width > 4096 || height > 4096) {
    throw std::runtime_error("the SVG has no usable size");
  }
  cairo_surface_t* surface =
      cairo_image_surface_create(CAIRO_FORMAT_ARGB32, static_cast<int>(width), static_cast<int>(height));
  std::unique_ptr<cairo_surface_t, void (*)(cairo_surface_t*)> owned_surface(surface, cairo_surface_destroy);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error("cannot create an image");
  cairo_t* cr = cairo_create(surface);
  std::unique_ptr<cairo_t, void (*)(cairo_t*)> owned_cr(cr, cairo_destroy);
  const RsvgRectangle viewport{0, 0, width, height};
  if (!rsvg_handle_render_document(handle, cr, &viewport, &error)) {
    std::string message = error ? error->message : "unknown error";
    if (error) g_error_free(error);
    throw std::runtime_error("cannot render the SVG: " + message);
  }
  std::string png;
  if (cairo_surface_write_to_png_stream(surface, append_png, &png) != CAIRO_STATUS_SUCCESS) {
    throw std::runtime_error("cannot encode the PNG");
  }
  return png;
}

}  // namespace agentrt::sandbox
