// Text in pictures (OCR, Tesseract): the lure that is only a screenshot. Phishing and
// spam send the whole message as an image (a "PayPal" notice, a renewal with a number to
// call, a scanned invoice as the only page of a PDF) so that no text filter has words to
// read. The recognised text joins the documents' text for the body rules
// (Results::text, explained as "attachment text").
//
// Cost bounds it: recognising one screenshot takes 0.1-0.3 s here, so only messages
// whose own text is short (kOcrMaxBodyWords) have pictures read, at most
// inspect.ocr_images per message, each with a deadline, pictures below kMinWidth x
// kMinHeight skipped (logos, spacers), large ones scaled down first.
//
// The model is loaded once in the supervisor, before workers fork; Tesseract's OpenMP
// thread team is switched off there (a worker may not start threads, and one core per
// worker is the sandbox's design anyway).
#pragma once

#include <memory>
#include <string>

#include "inspect/image.h"

namespace tesseract {
class TessBaseAPI;
}

namespace bulwark::inspect {

// Messages whose own text has fewer words than this have their pictures read.
constexpr std::size_t kOcrMaxBodyWords = 60;

class Ocr {
 public:
  static constexpr int kMinWidth = 120, kMinHeight = 40;
  static constexpr std::size_t kMaxPixels = 3u << 20;  // scaled down by halves beyond
  static constexpr int kDeadlineMs = 1000;
  static constexpr int kMinConfidence = 60;  // Tesseract's mean word confidence, 0-100

  // The English model from the system's tessdata; null with `why` when there is none.
  static std::unique_ptr<Ocr> load(std::string& why);
  ~Ocr();
  Ocr(const Ocr&) = delete;
  Ocr& operator=(const Ocr&) = delete;

  // The text recognised in `image` (UTF-8, lines as read); empty for a picture too small
  // or with no text.
  std::string read(const GreyImage& image) const;
  std::string describe() const;
  // In the process and thread that will recognise:
  // - Tesseract writes notes ("Empty page!!", "Detected 12 diacritics") to stderr unless
  //   its debug_file names a file, which it opens on its next note and keeps for good;
  //   this opens /dev/null for it now. Never in a process that forks workers afterwards:
  //   they would inherit a FILE whose descriptor number they reuse (for their socket).
  // - OpenMP's max-active-levels is a per-thread setting in libgomp: the thread that
  //   forked a worker may never have had it switched off, and Tesseract's parallel loops
  //   would then start threads (clone3) in a worker that may not.
  void prepare_process() const;

 private:
  Ocr() = default;
  std::string recognise(const GreyImage& image) const;
  std::unique_ptr<tesseract::TessBaseAPI> api_;
};

// The inspection step: reads `image` when the message allows OCR (Inspector::take_ocr),
// and hands text of three words or more to Results::text with an IMAGE_TEXT finding.
void read_image_text(const Blob& where, const GreyImage& image, Inspector& insp);

}  // namespace bulwark::inspect
