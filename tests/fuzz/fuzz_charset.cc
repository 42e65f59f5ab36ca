// libFuzzer target: charset conversion. The first input byte picks a label (or, above the
// table, the label is taken from the input itself, up to a NUL); the rest is the text.
// The output must always be valid UTF-8, and the UTF-8 validator must agree with a
// plain reference implementation.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>

#include "core/symbol.h"
#include "mime/charset.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Byte-at-a-time UTF-8 check from the RFC 3629 grammar, to cross-check the fast one.
bool reference_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    const std::uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

constexpr std::string_view kLabels[] = {"",
                                        "utf-8",
                                        "us-ascii",
                                        "iso-8859-1",
                                        "windows-1252",
                                        "shift_jis",
                                        "x-sjis",
                                        "euc-jp",
                                        "iso-2022-jp",
                                        "gb2312",
                                        "gbk",
                                        "gb18030",
                                        "big5",
                                        "euc-kr",
                                        "ks_c_5601-1987",
                                        "koi8-r",
                                        "koi8-u",
                                        "utf-16",
                                        "utf-16le",
                                        "utf-16be",
                                        "utf-32",
                                        "utf-7",
                                        "hz-gb-2312",
                                        "iso-8859-8-i",
                                        "windows-1251",
                                        "windows-1255",
                                        "iso-8859-15",
                                        "ibm037",
                                        "x-unknown",
                                        "utf8",
                                        "iso-2022-kr",
                                        "macintosh"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bulwark::mime;
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string_view label;
  const std::size_t pick = data[0] & 0x3F;
  if (pick < std::size(kLabels)) {
    label = kLabels[pick];
  } else {
    const std::size_t nul = in.find('\0');
    label = in.substr(0, nul);
    in = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
  }
  const bool detect = (data[0] & 0x40) != 0;

  check(is_valid_utf8(in) == reference_utf8(in));

  bulwark::SymbolSet symbols;
  const Report report{symbols, ""};
  const TextResult r = to_utf8(in, label, detect, report);
  check(is_valid_utf8(r.utf8));
  check(reference_utf8(r.utf8));
  check(!r.charset.empty());

  std::string out;
  charset_to_utf8(in, label, out);
  check(is_valid_utf8(out));
  return 0;
}
