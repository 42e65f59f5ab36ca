// 2D codes in images (zxing-cpp) and the inspection step that turns their links into URLs.
// zxing-cpp 1.4: text() as UTF-8 std::string (the library's announced default).
#define ZX_USE_UTF8 1
#include <ZXing/ReadBarcode.h>

#include "core/escape.h"
#include "inspect/image.h"
#include "inspect/ocr.h"
#include "mime/url.h"

namespace bulwark::inspect {

namespace {

// A QR code is at least 21 modules wide; below this no code can be read.
constexpr int kMinSide = 21;
// Links taken from one image: a real code holds one.
constexpr std::size_t kMaxCodesPerImage = 8;

}  // namespace

std::vector<std::string> read_codes(const GreyImage& image, std::size_t max_codes) {
  std::vector<std::string> texts;
  if (image.width < kMinSide || image.height < kMinSide || max_codes == 0 ||
      image.pixels.size() != static_cast<std::size_t>(image.width) * image.height)
    return texts;
  ZXing::DecodeHints hints;
  // Not Micro QR: zxing-cpp 1.4's Micro QR sampler asserts (aborts) on crafted pictures,
  // found by fuzzing; phishing uses full QR codes.
  hints.setFormats(ZXing::BarcodeFormat::QRCode | ZXing::BarcodeFormat::Aztec |
                   ZXing::BarcodeFormat::DataMatrix);
  hints.setTryHarder(true);
  hints.setTryRotate(true);
  hints.setMaxNumberOfSymbols(static_cast<std::uint8_t>(std::min<std::size_t>(max_codes, 255)));
  auto read = [&](const std::uint8_t* pixels) {
    const ZXing::ImageView view(pixels, image.width, image.height, ZXing::ImageFormat::Lum);
    for (const ZXing::Result& r : ZXing::ReadBarcodes(view, hints)) {
      if (!r.isValid()) continue;
      texts.push_back(r.text());
      if (texts.size() >= max_codes) break;
    }
  };
  read(image.pixels.data());
  // A light code on a dark ground (inverted, to slip past readers that expect dark on
  // light): read the negative too, for pictures that are mostly dark.
  if (texts.empty()) {
    std::uint64_t sum = 0;
    for (std::uint8_t v : image.pixels) sum += v;
    if (sum < static_cast<std::uint64_t>(128) * image.pixels.size()) {
      std::vector<std::uint8_t> negative(image.pixels.size());
      for (std::size_t i = 0; i < negative.size(); ++i) negative[i] = static_cast<std::uint8_t>(255 - image.pixels[i]);
      read(negative.data());
    }
  }
  return texts;
}

void inspect_image(const Blob& blob, Inspector& insp) {
  GreyImage image;
  const std::size_t max_pixels = insp.limits().max_image_pixels;
  switch (read_grey(blob.bytes, max_pixels, image)) {
    case ImageRead::kOk: break;
    case ImageRead::kTooLarge:
      // Not read: a code could hide in it, so say so (a huge image in mail is rare).
      insp.symbol(blob, "IMAGE_NOT_READ", "over inspect.max_image_pixels=" + std::to_string(max_pixels));
      return;
    default: return;  // not an image any viewer would show
  }
  if (!insp.charge(blob, image.pixels.size())) return;
  read_image_links(blob, image, insp);
  read_image_text(blob, image, insp);
}

void read_image_links(const Blob& where, const GreyImage& image, Inspector& insp) {
  for (const std::string& text : read_codes(image, kMaxCodesPerImage)) {
    // The link a phone would open: a scheme URL or "www." (find_urls' rules for text).
    for (std::string& url : mime::find_urls(text, 1)) {
      insp.symbol(where, "IMAGE_QR_URL", escape_for_display(url));
      insp.results().urls.push_back(std::move(url));
    }
  }
}

}  // namespace bulwark::inspect
