#include "inspect/ocr.h"

#include <dlfcn.h>
#include <tesseract/baseapi.h>
#include <tesseract/ocrclass.h>

#include <memory>

#include "core/escape.h"
#include "inspect/engines.h"

// Tesseract's logging function: exported by libtesseract, declared only in a header it
// does not install.
namespace tesseract {
void tprintf(const char* format, ...);
}

namespace bulwark::inspect {

namespace {

// Halves an image (2x2 box filter).
GreyImage half(const GreyImage& in) {
  GreyImage out;
  out.width = in.width / 2;
  out.height = in.height / 2;
  out.pixels.resize(static_cast<std::size_t>(out.width) * out.height);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) {
      const std::size_t a = static_cast<std::size_t>(2 * y) * in.width + 2 * x, b = a + in.width;
      out.pixels[static_cast<std::size_t>(y) * out.width + x] =
          static_cast<std::uint8_t>((in.pixels[a] + in.pixels[a + 1] + in.pixels[b] + in.pixels[b + 1] + 2) / 4);
    }
  return out;
}

// Words of two characters or more.
std::size_t words(std::string_view s) {
  std::size_t n = 0, len = 0;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      n += len >= 2;
      len = 0;
    } else {
      ++len;
    }
  }
  return n + (len >= 2);
}

// Tesseract's OpenMP team, for the calling thread: with max-active-levels 0 no parallel
// region starts threads. Looked up rather than linked: a Tesseract built without OpenMP
// has no libgomp.
void no_openmp_threads() {
  using SetLevels = void (*)(int);
  if (auto* set = reinterpret_cast<SetLevels>(dlsym(RTLD_DEFAULT, "omp_set_max_active_levels"))) set(0);
}

}  // namespace

std::unique_ptr<Ocr> Ocr::load(std::string& why) {
  no_openmp_threads();
  std::unique_ptr<Ocr> o(new Ocr());
  o->api_ = std::make_unique<tesseract::TessBaseAPI>();
  if (o->api_->Init(nullptr, "eng", tesseract::OEM_LSTM_ONLY) != 0) {
    why = "OCR: no English model for Tesseract (package tesseract-ocr-eng)";
    return nullptr;
  }
  // Page layout found automatically; nothing printed about guessed resolutions.
  o->api_->SetPageSegMode(tesseract::PSM_AUTO);
  // One recognition now, in the supervisor: whatever Tesseract (or a sanitizer's type
  // cache) sets up on first use is in place before the workers fork and lock down.
  GreyImage blank{kMinWidth, kMinHeight, std::vector<std::uint8_t>(static_cast<std::size_t>(kMinWidth) * kMinHeight, 255)};
  (void)o->recognise(blank);
  return o;
}

Ocr::~Ocr() {
  if (api_) api_->End();
}

void Ocr::prepare_process() const {
  no_openmp_threads();
  api_->SetVariable("debug_file", "/dev/null");
  // Opens it, and writes a byte so that stdio sets up the stream's buffer now too (that
  // asks isatty(), an ioctl a locked-down worker may not make).
  tesseract::tprintf("\n");
}

std::string Ocr::describe() const { return std::string("OCR: Tesseract ") + tesseract::TessBaseAPI::Version(); }

std::string Ocr::read(const GreyImage& image) const {
  if (image.width < kMinWidth || image.height < kMinHeight ||
      image.pixels.size() != static_cast<std::size_t>(image.width) * image.height)
    return {};
  const GreyImage* g = &image;
  GreyImage scaled;
  while (g->pixels.size() > kMaxPixels) {
    scaled = half(*g);
    g = &scaled;
  }
  return recognise(*g);
}

std::string Ocr::recognise(const GreyImage& image) const {
  const GreyImage* g = &image;
  api_->SetImage(g->pixels.data(), g->width, g->height, 1, g->width);
  api_->SetSourceResolution(96);
  tesseract::ETEXT_DESC monitor;
  monitor.set_deadline_msecs(kDeadlineMs);
  std::string text;
  if (api_->Recognize(&monitor) == 0) {
    const std::unique_ptr<char[]> t(api_->GetUTF8Text());
    // A photo, or a script the English model does not know, reads as noise with low
    // confidence: such text would only give the rules random words.
    if (t && api_->MeanTextConf() >= kMinConfidence) text = t.get();
  }
  api_->Clear();
  return text;
}

void read_image_text(const Blob& where, const GreyImage& image, Inspector& insp) {
  const Ocr* ocr = insp.engines().ocr();
  if (!ocr || image.width < Ocr::kMinWidth || image.height < Ocr::kMinHeight || !insp.take_ocr()) return;
  const std::string text = ocr->read(image);
  const std::size_t n = words(text);
  if (n < 3) return;
  std::string flat;  // the first words, on one line
  for (char c : text) {
    if (flat.size() >= 80) break;
    const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (!space) flat += c;
    else if (!flat.empty() && flat.back() != ' ') flat += ' ';
  }
  insp.symbol(where, "IMAGE_TEXT", std::to_string(n) + " words read: \"" + escape_for_display(flat) + "\"");
  insp.add_text(where, text);
}

}  // namespace bulwark::inspect
