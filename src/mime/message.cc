#include "mime/message.h"

#include <strings.h>

namespace bulwark::mime {

std::string_view encoding_name(Encoding e) {
  switch (e) {
    case Encoding::kNone: return "none";
    case Encoding::kBase64: return "base64";
    case Encoding::kQuotedPrintable: return "quoted-printable";
    case Encoding::kUuencode: return "uuencode";
    case Encoding::kYenc: return "yenc";
    case Encoding::kBinHex: return "binhex";
    case Encoding::kGzip64: return "x-gzip64";
  }
  return "none";
}

namespace {
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}
}  // namespace

const HeaderField* Part::header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

std::vector<const HeaderField*> Part::all_headers(std::string_view name) const {
  std::vector<const HeaderField*> out;
  for (const auto& h : headers)
    if (iequals(h.name, name)) out.push_back(&h);
  return out;
}

}  // namespace bulwark::mime
