// libFuzzer target for the PDF text and decryption layers directly (pdf_text.h,
// pdf_crypt.h): the input is split at the first 0xFF byte into a ToUnicode CMap and a
// content stream shown with composite, simple and /Differences fonts; the whole input is
// also read for an /Encrypt dictionary and opened with the empty password.
#include <cstdint>
#include <string>
#include <string_view>

#include "inspect/pdf_crypt.h"
#include "inspect/pdf_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bulwark::inspect::pdf;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = in.find('\xFF');
  const std::string_view cmap = cut == std::string_view::npos ? in : in.substr(0, cut);
  const std::string_view content = cut == std::string_view::npos ? in : in.substr(cut + 1);

  TextExtractor x;
  FontDict composite;
  composite.subtype = "Type0";
  composite.to_unicode = 10;
  composite.descendant = 11;
  FontDict cid;
  cid.subtype = "CIDFontType2";
  cid.w = std::string(cmap.substr(0, 256));
  FontDict simple;
  simple.subtype = "Type1";
  simple.to_unicode = 10;
  simple.widths = std::string(content.substr(0, 128));
  FontDict named;
  named.subtype = "Type1";
  named.encoding_ref = 14;
  x.add_font(1, composite);
  x.add_font(11, cid);
  x.add_font(2, simple);
  x.add_font(3, named);
  for (std::size_t i = 0; i < 8 && i < content.size() && i < cmap.size(); ++i)
    x.add_difference(14, static_cast<unsigned char>(content[i]), cmap.substr(i, 6));
  x.add_reference("F1", 1);
  x.add_reference("F1", 2);
  x.add_reference("F2", 3);
  x.add_array(12, cmap);
  x.add_stream(10, cmap);
  x.add_stream(20, content);
  x.add_stream(21, std::string("BT /F1 1 Tf ") + std::string(content) + " Tj /F2 9 Tf " + std::string(cmap) + " TJ ET");
  volatile std::size_t n = x.text(1 << 16).size();
  (void)n;
  (void)glyph_text(content.substr(0, 16));

  const Encryption e = find_encryption(in);
  if (const auto d = Decryptor::open(e, "")) {
    (void)d->stream(content, 1, 0);
    (void)d->string(cmap, 2, 0);
  }
  return 0;
}
