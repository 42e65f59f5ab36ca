// PNG (libpng's simplified API), JPEG (libjpeg-turbo) and GIF (giflib) to grey levels, in
// memory, bounded: the size is checked from the header before any pixel is allocated.
#include <gif_lib.h>
#include <leptonica/allheaders.h>
#include <png.h>

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>

extern "C" {
#include <jpeglib.h>
}

#include "inspect/image.h"

namespace bulwark::inspect {

namespace {

bool starts(std::string_view b, std::string_view magic) { return b.substr(0, magic.size()) == magic; }

bool fits(std::uint64_t w, std::uint64_t h, std::size_t max_pixels) {
  return w > 0 && h > 0 && w <= 65535 && h <= 65535 && w * h <= max_pixels;
}

// ---- PNG ----

ImageRead read_png(std::string_view b, std::size_t max_pixels, GreyImage& out) {
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&img, b.data(), b.size())) return ImageRead::kCorrupt;
  if (!fits(img.width, img.height, max_pixels)) {
    png_image_free(&img);
    return ImageRead::kTooLarge;
  }
  img.format = PNG_FORMAT_GA;  // grey + alpha: transparent pixels are composited on white below
  std::vector<std::uint8_t> ga(PNG_IMAGE_SIZE(img));
  if (!png_image_finish_read(&img, nullptr, ga.data(), 0, nullptr)) {
    png_image_free(&img);
    return ImageRead::kCorrupt;
  }
  out.width = static_cast<int>(img.width);
  out.height = static_cast<int>(img.height);
  out.pixels.resize(static_cast<std::size_t>(img.width) * img.height);
  for (std::size_t i = 0; i < out.pixels.size(); ++i) {
    const unsigned g = ga[2 * i], a = ga[2 * i + 1];
    out.pixels[i] = static_cast<std::uint8_t>((g * a + 255 * (255 - a)) / 255);
  }
  return ImageRead::kOk;
}

// ---- JPEG ----

// A progressive JPEG may hold thousands of tiny scans, each a full pass over the image.
constexpr int kMaxJpegScans = 256;

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
};

[[noreturn]] void jpeg_fail(j_common_ptr c) { std::longjmp(reinterpret_cast<JpegError*>(c->err)->jump, 1); }
void jpeg_quiet(j_common_ptr) {}
void jpeg_progress(j_common_ptr c) {
  if (c->is_decompressor && reinterpret_cast<j_decompress_ptr>(c)->input_scan_number > kMaxJpegScans) jpeg_fail(c);
}

// No object with a destructor lives in this function's frame between setjmp and longjmp:
// `out` belongs to the caller.
ImageRead read_jpeg(std::string_view b, std::size_t max_pixels, GreyImage& out) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  jpeg_progress_mgr progress;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  err.mgr.output_message = jpeg_quiet;
  progress.progress_monitor = jpeg_progress;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return ImageRead::kCorrupt;
  }
  jpeg_create_decompress(&cinfo);
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(b.data()), static_cast<unsigned long>(b.size()));
  if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
    jpeg_destroy_decompress(&cinfo);
    return ImageRead::kCorrupt;
  }
  cinfo.out_color_space = JCS_GRAYSCALE;  // CMYK cannot be converted: the decoder gives up
  cinfo.scale_num = 1;
  cinfo.scale_denom = 1;
  // Decode large photos at 1/2, 1/4 or 1/8 scale: a code big enough to scan survives it.
  while (cinfo.scale_denom < 8 &&
         static_cast<std::uint64_t>(cinfo.image_width / cinfo.scale_denom) * (cinfo.image_height / cinfo.scale_denom) >
             max_pixels)
    cinfo.scale_denom *= 2;
  jpeg_calc_output_dimensions(&cinfo);
  if (!fits(cinfo.output_width, cinfo.output_height, max_pixels) || cinfo.output_components != 1) {
    jpeg_destroy_decompress(&cinfo);
    return ImageRead::kTooLarge;
  }
  jpeg_start_decompress(&cinfo);
  out.width = static_cast<int>(cinfo.output_width);
  out.height = static_cast<int>(cinfo.output_height);
  out.pixels.assign(static_cast<std::size_t>(out.width) * out.height, 255);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.pixels.data() + static_cast<std::size_t>(cinfo.output_scanline) * out.width;
    if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) break;  // truncated: keep what was read
  }
  jpeg_abort_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return ImageRead::kOk;
}

// ---- GIF ----

struct GifSource {
  std::string_view bytes;
  std::size_t at = 0;
};

int gif_read(GifFileType* g, GifByteType* buf, int len) {
  auto* s = static_cast<GifSource*>(g->UserData);
  const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(std::max(len, 0)), s->bytes.size() - s->at);
  std::memcpy(buf, s->bytes.data() + s->at, n);
  s->at += n;
  return static_cast<int>(n);
}

constexpr int kMaxGifRecords = 4096;

ImageRead read_gif_frame(GifFileType* g, std::size_t max_pixels, int transparent, GreyImage& out) {
  const GifImageDesc& d = g->Image;
  if (!fits(static_cast<std::uint64_t>(std::max(d.Width, 0)), static_cast<std::uint64_t>(std::max(d.Height, 0)), max_pixels))
    return d.Width > 0 && d.Height > 0 ? ImageRead::kTooLarge : ImageRead::kCorrupt;
  const ColorMapObject* map = d.ColorMap ? d.ColorMap : g->SColorMap;
  if (!map || !map->Colors) return ImageRead::kCorrupt;
  std::uint8_t lum[256];
  for (int i = 0; i < 256; ++i) {
    if (i >= map->ColorCount || i == transparent) {
      lum[i] = 255;
      continue;
    }
    const GifColorType& c = map->Colors[i];
    lum[i] = static_cast<std::uint8_t>((299 * c.Red + 587 * c.Green + 114 * c.Blue) / 1000);
  }
  out.width = d.Width;
  out.height = d.Height;
  out.pixels.assign(static_cast<std::size_t>(d.Width) * d.Height, 255);
  std::vector<GifPixelType> line(static_cast<std::size_t>(d.Width));
  auto row = [&](int y) {
    if (DGifGetLine(g, line.data(), d.Width) != GIF_OK) return false;
    std::uint8_t* dst = out.pixels.data() + static_cast<std::size_t>(y) * d.Width;
    for (int x = 0; x < d.Width; ++x) dst[x] = lum[line[x]];
    return true;
  };
  if (d.Interlace) {
    static constexpr int kStart[4] = {0, 4, 2, 1}, kStep[4] = {8, 8, 4, 2};
    for (int pass = 0; pass < 4; ++pass)
      for (int y = kStart[pass]; y < d.Height; y += kStep[pass])
        if (!row(y)) return ImageRead::kOk;  // truncated: keep what was read
  } else {
    for (int y = 0; y < d.Height; ++y)
      if (!row(y)) return ImageRead::kOk;
  }
  return ImageRead::kOk;
}

ImageRead read_gif(std::string_view b, std::size_t max_pixels, GreyImage& out) {
  GifSource src{b};
  int error = 0;
  GifFileType* g = DGifOpen(&src, gif_read, &error);
  if (!g) return ImageRead::kCorrupt;
  ImageRead result = ImageRead::kCorrupt;
  int transparent = -1;
  for (int records = 0; records < kMaxGifRecords; ++records) {
    GifRecordType type;
    if (DGifGetRecordType(g, &type) != GIF_OK) break;
    if (type == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* ext = nullptr;
      if (DGifGetExtension(g, &code, &ext) != GIF_OK) break;
      if (code == GRAPHICS_EXT_FUNC_CODE && ext && ext[0] >= 4 && (ext[1] & 1)) transparent = ext[4];
      while (ext) {
        if (DGifGetExtensionNext(g, &ext) != GIF_OK) ext = nullptr;
      }
      continue;
    }
    if (type == IMAGE_DESC_RECORD_TYPE) {
      if (DGifGetImageDesc(g) == GIF_OK) result = read_gif_frame(g, max_pixels, transparent, out);
      break;
    }
    break;  // TERMINATE_RECORD_TYPE or unknown: no image
  }
  DGifCloseFile(g, &error);
  return result;
}

// BMP, TIFF (first page), WebP and JPEG 2000 through Leptonica (already loaded for OCR):
// the header is read first, and nothing larger than max_pixels is decoded.
ImageRead read_other(std::string_view b, std::size_t max_pixels, GreyImage& out) {
  const auto* data = reinterpret_cast<const l_uint8*>(b.data());
  l_int32 format = 0, w = 0, h = 0, bps = 0, spp = 0, cmap = 0;
  if (b.size() < 16 || pixReadHeaderMem(data, b.size(), &format, &w, &h, &bps, &spp, &cmap) != 0)
    return ImageRead::kCorrupt;
  if (w <= 0 || h <= 0) return ImageRead::kCorrupt;
  if (!fits(static_cast<std::uint64_t>(w), static_cast<std::uint64_t>(h), max_pixels)) return ImageRead::kTooLarge;
  PIX* pix = pixReadMem(data, b.size());
  if (!pix) return ImageRead::kCorrupt;
  PIX* grey = pixGetDepth(pix) == 8 && !pixGetColormap(pix) ? pixClone(pix) : pixConvertTo8(pix, 0);
  pixDestroy(&pix);
  if (!grey) return ImageRead::kCorrupt;
  const l_int32 gw = pixGetWidth(grey), gh = pixGetHeight(grey), wpl = pixGetWpl(grey);
  const l_uint32* rows = pixGetData(grey);
  if (gw <= 0 || gh <= 0 || !rows || !fits(static_cast<std::uint64_t>(gw), static_cast<std::uint64_t>(gh), max_pixels)) {
    pixDestroy(&grey);
    return ImageRead::kCorrupt;
  }
  out.width = gw;
  out.height = gh;
  out.pixels.resize(static_cast<std::size_t>(gw) * static_cast<std::size_t>(gh));
  for (l_int32 y = 0; y < gh; ++y) {
    const l_uint32* line = rows + static_cast<std::ptrdiff_t>(y) * wpl;
    for (l_int32 x = 0; x < gw; ++x)
      out.pixels[static_cast<std::size_t>(y) * static_cast<std::size_t>(gw) + static_cast<std::size_t>(x)] =
          static_cast<std::uint8_t>(GET_DATA_BYTE(line, x));
  }
  pixDestroy(&grey);
  return ImageRead::kOk;
}

bool other_format(std::string_view b) {
  return starts(b, "BM") || starts(b, std::string_view("II*\0", 4)) || starts(b, std::string_view("MM\0*", 4)) ||
         (b.size() >= 12 && starts(b, "RIFF") && b.substr(8, 4) == "WEBP") ||
         starts(b, std::string_view("\0\0\0\x0cjP  \r\n\x87\n", 12)) || starts(b, "\xff\x4f\xff\x51");
}

}  // namespace

ImageRead read_grey(std::string_view bytes, std::size_t max_pixels, GreyImage& out) {
  out = GreyImage{};
  if (starts(bytes, "\x89PNG\r\n\x1a\n")) return read_png(bytes, max_pixels, out);
  if (starts(bytes, "\xff\xd8\xff")) return read_jpeg(bytes, max_pixels, out);
  if (starts(bytes, "GIF87a") || starts(bytes, "GIF89a")) return read_gif(bytes, max_pixels, out);
  if (other_format(bytes)) return read_other(bytes, max_pixels, out);
  return ImageRead::kNotImage;
}

void quiet_image_decoders() { setMsgSeverity(L_SEVERITY_NONE); }

}  // namespace bulwark::inspect
