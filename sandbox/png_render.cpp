// SVG → PNG through librsvg and cairo, loaded with dlopen on first use: the worker starts without mapping the
// ~40 libraries they pull in (session start stays within its 20 ms budget), and only cells that ask for a PNG
// pay for them once.
#include <cairo.h>
#include <dlfcn.h>
#include <librsvg/rsvg.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "sandbox/svg_chart.h"

namespace agentrt::sandbox {
namespace {

struct RsvgApi {
  decltype(&rsvg_handle_new_from_data) new_from_data = nullptr;
  decltype(&rsvg_handle_get_intrinsic_size_in_pixels) intrinsic_size = nullptr;
  decltype(&rsvg_handle_render_document) render_document = nullptr;
  decltype(&g_object_unref) object_unref = nullptr;
  decltype(&g_error_free) error_free = nullptr;
  decltype(&cairo_image_surface_create) surface_create = nullptr;
  decltype(&cairo_surface_status) surface_status = nullptr;
  decltype(&cairo_surface_destroy) surface_destroy = nullptr;
  decltype(&cairo_create) create = nullptr;
  decltype(&cairo_destroy) destroy = nullptr;
  decltype(&cairo_surface_write_to_png_stream) write_png = nullptr;
  std::string error;
};

template <typename F>
void bind(void* lib, const char* name, F& out, std::string& error) {
  out = reinterpret_cast<F>(dlsym(lib, name));
  if (out == nullptr && error.empty()) error = std::string("missing symbol ") + name;
}

const RsvgApi& api() {
  static RsvgApi a;
  static std::once_flag once;
  std::call_once(once, [] {
    void* lib = dlopen("librsvg-2.so.2", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      a.error = std::string("cannot load librsvg: ") + dlerror();
      return;
    }
    bind(lib, "rsvg_handle_new_from_data", a.new_from_data, a.error);
    bind(lib, "rsvg_handle_get_intrinsic_size_in_pixels", a.intrinsic_size, a.error);
    bind(lib, "rsvg_handle_render_document", a.render_document, a.error);
    bind(lib, "g_object_unref", a.object_unref, a.error);
    bind(lib, "g_error_free", a.error_free, a.error);
    bind(lib, "cairo_image_surface_create", a.surface_create, a.error);
    bind(lib, "cairo_surface_status", a.surface_status, a.error);
    bind(lib, "cairo_surface_destroy", a.surface_destroy, a.error);
    bind(lib, "cairo_create", a.create, a.error);
    bind(lib, "cairo_destroy", a.destroy, a.error);
    bind(lib, "cairo_surface_write_to_png_stream", a.write_png, a.error);
  });
  return a;
}

cairo_status_t append_png(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

std::string take_message(const RsvgApi& a, GError* error) {
  std::string message = error ? error->message : "unknown error";
  if (error) a.error_free(error);
  return message;
}

}  // namespace

std::string svg_to_png(const std::string& svg) {
  const RsvgApi& a = api();
  if (!a.error.empty()) throw std::runtime_error("PNG output is unavailable (" + a.error + ")");
  GError* error = nullptr;
  RsvgHandle* handle = a.new_from_data(reinterpret_cast<const guint8*>(svg.data()), svg.size(), &error);
  if (handle == nullptr) throw std::runtime_error("cannot read the SVG: " + take_message(a, error));
  std::unique_ptr<RsvgHandle, void (*)(gpointer)> owned(handle, a.object_unref);
  gdouble width = 0;
  gdouble height = 0;
  if (!a.intrinsic_size(handle, &width, &height) || width < 1 || height < 1 || width > 4096 ||
      height > 4096) {
    throw std::runtime_error("the SVG has no usable size");
  }
  cairo_surface_t* surface =
      a.surface_create(CAIRO_FORMAT_ARGB32, static_cast<int>(width), static_cast<int>(height));
  std::unique_ptr<cairo_surface_t, void (*)(cairo_surface_t*)> owned_surface(surface, a.surface_destroy);
  if (a.surface_status(surface) != CAIRO_STATUS_SUCCESS) throw std::runtime_error("cannot create an image");
  cairo_t* cr = a.create(surface);
  std::unique_ptr<cairo_t, void (*)(cairo_t*)> owned_cr(cr, a.destroy);
  const RsvgRectangle viewport{0, 0, width, height};
  if (!a.render_document(handle, cr, &viewport, &error)) {
    throw std::runtime_error("cannot render the SVG: " + take_message(a, error));
  }
  std::string png;
  if (a.write_png(surface, append_png, &png) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error("cannot encode the PNG");
  return png;
}

}  // namespace agentrt::sandbox
