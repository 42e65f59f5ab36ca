#include "inspect/engines.h"
#include "inspect/image.h"
#include "inspect/ocr.h"

#include <magic.h>

#include <filesystem>

namespace bulwark::inspect {

namespace {

// ClamAV's packaged database lives here on Debian; it is used only when it holds signatures.
constexpr const char* kSystemClamavDir = "/var/lib/clamav";

bool has_signature_files(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string ext = e.path().extension().string();
    if (ext == ".cvd" || ext == ".cld" || ext == ".cud" || ext == ".hdb" || ext == ".hsb" ||
        ext == ".ndb" || ext == ".ldb" || ext == ".mdb" || ext == ".msb")
      return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<Engines>> Engines::load(const InspectConfig& config) {
  std::unique_ptr<Engines> e(new Engines());
  // MAGIC_NO_CHECK_COMPRESS: libmagic must never look inside compressed data itself (with
  // MAGIC_COMPRESS it would run decompressor programs); archives are ours to open.
  e->magic_ = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF |
                         MAGIC_ERROR);
  if (!e->magic_) return Error{"libmagic: cannot initialise"};
  if (magic_load(static_cast<magic_t>(e->magic_), nullptr) != 0)
    return Error{std::string("libmagic: cannot load its database: ") +
                 magic_error(static_cast<magic_t>(e->magic_))};
  std::string db = config.clamav_database;
  if (db.empty() && has_signature_files(kSystemClamavDir)) db = kSystemClamavDir;
  if (!db.empty()) {
    auto av = load_clamav(db);
    if (!av) return Error{"clamav: " + av.error().message};
    e->clamav_ = std::move(av).value();
  }
  auto y = load_yara(config.yara_rules);
  if (!y) return Error{"yara: " + y.error().message};
  e->yara_ = std::move(y).value();
  quiet_image_decoders();
  // No OCR model is not an error: pictures are then not read as text, and describe() says so.
  if (config.limits.ocr_images > 0) e->ocr_ = Ocr::load(e->ocr_note_);
  return e;
}

Engines::~Engines() {
  if (magic_) magic_close(static_cast<magic_t>(magic_));
}

std::string Engines::describe() const {
  std::string out = "libmagic " + std::to_string(magic_version());
  out += clamav_ ? "; " + clamav_describe(*clamav_) : "; ClamAV: no signature database";
  if (yara_) out += "; " + yara_describe(*yara_);
  if (ocr_) out += "; " + ocr_->describe();
  else if (!ocr_note_.empty()) out += "; " + ocr_note_;
  return out;
}

}  // namespace bulwark::inspect
