// Images: the links hidden in them. Phishing moved its link into a QR code ("scan to keep
// your mailbox") because no text or HTML filter can read a picture. Every PNG, JPEG and GIF
// (BMP, TIFF, WebP, JPEG 2000 through Leptonica)
// blob (MIME leaves, archive members, objects in documents) is decoded to grey levels in
// memory, within inspect.max_image_pixels, and read for QR, Aztec and Data Matrix
// codes (zxing-cpp). A code holding a URL raises IMAGE_QR_URL and hands the URL to the
// URL checks and rules like any link in the text (Results::urls).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/inspect.h"

namespace bulwark::inspect {

struct GreyImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // width * height, row by row; transparency shows white
};

enum class ImageRead {
  kOk,
  kNotImage,  // not a format read here
  kCorrupt,   // the decoder gave up
  kTooLarge,  // over the pixel limit (JPEGs are first decoded at 1/2 .. 1/8 scale to fit)
};

// Decodes a PNG, JPEG, GIF (first frame), BMP, TIFF (first page), WebP or JPEG 2000 held
// in memory. The last four go through Leptonica.
ImageRead read_grey(std::string_view bytes, std::size_t max_pixels, GreyImage& out);

// Leptonica reports bad input on stderr; a worker's stderr is the gateway's log.
void quiet_image_decoders();

// The texts of the 2D codes in an image (at most `max_codes`).
std::vector<std::string> read_codes(const GreyImage& image, std::size_t max_codes);

// The inspection step for one image blob.
void inspect_image(const Blob& blob, Inspector& insp);

// The links in the codes of an already decoded image (a PDF's image XObject): an
// IMAGE_QR_URL at `where` and Results::urls for each.
void read_image_links(const Blob& where, const GreyImage& image, Inspector& insp);

}  // namespace bulwark::inspect
