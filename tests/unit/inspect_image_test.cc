// Links hidden in images: QR codes in PNG, JPEG and GIF attachments are read, their URLs
// join the message's links (so URL checks and rules see them), and hostile or oversized
// images end in a clear result, never a crash. Images are made here: zxing-cpp's writer
// draws the code, libpng / libjpeg / giflib encode it.
#include <gtest/gtest.h>

#define ZX_USE_UTF8 1
#include <ZXing/BitMatrix.h>
#include <ZXing/MultiFormatWriter.h>
#include <gif_lib.h>
#include <leptonica/allheaders.h>
#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

extern "C" {
#include <jpeglib.h>
}

#include "core/config.h"
#include "inspect/engines.h"
#include "inspect/image.h"
#include "inspect/inspect.h"
#include "scan/output.h"
#include "scan/pipeline.h"
#include "test_support.h"

namespace bulwark::inspect {
namespace {

using test::base64;

// A QR code drawn `scale` pixels per module, with a quiet zone.
GreyImage qr(const std::string& text, int size) {
  const ZXing::BitMatrix bits = ZXing::MultiFormatWriter(ZXing::BarcodeFormat::QRCode).setMargin(4).encode(text, size, size);
  const auto m = ZXing::ToMatrix<std::uint8_t>(bits, 0, 255);
  GreyImage g;
  g.width = m.width();
  g.height = m.height();
  g.pixels.assign(m.data(), m.data() + static_cast<std::size_t>(g.width) * g.height);
  return g;
}

std::string png(const GreyImage& g, bool transparent_background = false) {
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = static_cast<png_uint_32>(g.width);
  img.height = static_cast<png_uint_32>(g.height);
  std::vector<std::uint8_t> px;
  if (transparent_background) {
    img.format = PNG_FORMAT_GA;  // black modules on nothing: viewers show them on white
    for (std::uint8_t v : g.pixels) {
      px.push_back(0);
      px.push_back(v < 128 ? 255 : 0);
    }
  } else {
    img.format = PNG_FORMAT_GRAY;
    px = g.pixels;
  }
  png_alloc_size_t size = 0;
  EXPECT_TRUE(png_image_write_to_memory(&img, nullptr, &size, 0, px.data(), 0, nullptr));
  std::string out(size, '\0');
  EXPECT_TRUE(png_image_write_to_memory(&img, out.data(), &size, 0, px.data(), 0, nullptr));
  out.resize(size);
  return out;
}

std::string jpeg(const GreyImage& g) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buf, &size);
  c.image_width = static_cast<JDIMENSION>(g.width);
  c.image_height = static_cast<JDIMENSION>(g.height);
  c.input_components = 1;
  c.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 85, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(g.pixels.data() + static_cast<std::size_t>(c.next_scanline) * g.width);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  std::string out(reinterpret_cast<char*>(buf), size);
  jpeg_destroy_compress(&c);
  std::free(buf);
  return out;
}

int gif_write(GifFileType* g, const GifByteType* data, int len) {
  static_cast<std::string*>(g->UserData)->append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(len));
  return len;
}

// Two colours: index 0 white, 1 black; `interlaced` writes rows in the four-pass order.
std::string gif(const GreyImage& g, bool interlaced) {
  std::string out;
  int error = 0;
  GifFileType* f = EGifOpen(&out, gif_write, &error);
  GifColorType colors[2] = {{255, 255, 255}, {0, 0, 0}};
  ColorMapObject* map = GifMakeMapObject(2, colors);
  EGifPutScreenDesc(f, g.width, g.height, 1, 0, map);
  EGifPutImageDesc(f, 0, 0, g.width, g.height, interlaced, nullptr);
  std::vector<GifPixelType> line(static_cast<std::size_t>(g.width));
  auto put = [&](int y) {
    for (int x = 0; x < g.width; ++x) line[x] = g.pixels[static_cast<std::size_t>(y) * g.width + x] < 128 ? 1 : 0;
    EGifPutLine(f, line.data(), g.width);
  };
  if (interlaced) {
    const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
    for (int p = 0; p < 4; ++p)
      for (int y = start[p]; y < g.height; y += step[p]) put(y);
  } else {
    for (int y = 0; y < g.height; ++y) put(y);
  }
  EGifCloseFile(f, &error);
  GifFreeMapObject(map);
  return out;
}

std::vector<std::string> codes_in(const std::string& bytes, std::size_t max_pixels = 16u << 20) {
  GreyImage g;
  EXPECT_EQ(read_grey(bytes, max_pixels, g), ImageRead::kOk);
  return read_codes(g, 8);
}

const std::string kUrl = "https://login.micros0ft-support.example/mfa?u=alice";

TEST(InspectImage, ReadsQrCodesInEachFormat) {
  const GreyImage code = qr(kUrl, 240);
  EXPECT_EQ(codes_in(png(code)), std::vector<std::string>{kUrl});
  EXPECT_EQ(codes_in(png(code, true)), std::vector<std::string>{kUrl});  // transparent background
  EXPECT_EQ(codes_in(jpeg(code)), std::vector<std::string>{kUrl});
  EXPECT_EQ(codes_in(gif(code, false)), std::vector<std::string>{kUrl});
  EXPECT_EQ(codes_in(gif(code, true)), std::vector<std::string>{kUrl});
}

// The same picture written by Leptonica in the formats read through it: BMP (colour and
// 1-bit), TIFF (uncompressed and fax G4), WebP (lossless), JPEG 2000.
std::string lept_write(const GreyImage& g, l_int32 format, int depth) {
  PIX* pix = pixCreate(g.width, g.height, 8);
  for (int y = 0; y < g.height; ++y)
    for (int x = 0; x < g.width; ++x) pixSetPixel(pix, x, y, g.pixels[static_cast<std::size_t>(y) * g.width + x]);
  PIX* out = depth == 1 ? pixThresholdToBinary(pix, 128) : depth == 32 ? pixConvertTo32(pix) : pixClone(pix);
  l_uint8* data = nullptr;
  size_t size = 0;
  const l_int32 rc = format == IFF_WEBP ? pixWriteMemWebP(&data, &size, out, 100, 1) : pixWriteMem(&data, &size, out, format);
  std::string bytes = rc == 0 && data ? std::string(reinterpret_cast<char*>(data), size) : std::string();
  lept_free(data);
  pixDestroy(&out);
  pixDestroy(&pix);
  return bytes;
}

TEST(InspectImage, ReadsQrCodesInBmpTiffWebpAndJpeg2000) {
  const GreyImage code = qr(kUrl, 240);
  const std::vector<std::pair<std::string, std::string>> files = {
      {"bmp-rgb", lept_write(code, IFF_BMP, 32)},      {"bmp-1bit", lept_write(code, IFF_BMP, 1)},
      {"tiff", lept_write(code, IFF_TIFF, 8)},         {"tiff-g4", lept_write(code, IFF_TIFF_G4, 1)},
      {"webp", lept_write(code, IFF_WEBP, 32)},        {"jp2", lept_write(code, IFF_JP2, 8)}};
  for (const auto& [kind, bytes] : files) {
    ASSERT_GT(bytes.size(), 16u) << kind << ": Leptonica wrote nothing";
    EXPECT_EQ(codes_in(bytes), std::vector<std::string>{kUrl}) << kind;
    // The header is read first: a picture over the limit is not decoded.
    GreyImage g;
    EXPECT_EQ(read_grey(bytes, 100 * 100, g), ImageRead::kTooLarge) << kind;
    // Cut short or damaged, it is refused, never a crash.
    EXPECT_NE(read_grey(bytes.substr(0, 40), 16u << 20, g), ImageRead::kOk) << kind;
  }
  GreyImage g;
  EXPECT_EQ(read_grey("BM this is not a bitmap at all", 16u << 20, g), ImageRead::kCorrupt);
  EXPECT_EQ(read_grey(std::string("RIFF\xac\0", 6), 16u << 20, g), ImageRead::kNotImage);  // found by fuzzing
}

TEST(InspectImage, ReadsInvertedCodes) {
  GreyImage negative = qr(kUrl, 200);
  for (auto& v : negative.pixels) v = static_cast<std::uint8_t>(255 - v);  // light modules on black
  EXPECT_EQ(codes_in(png(negative)), std::vector<std::string>{kUrl});
}

TEST(InspectImage, FindsASmallCodeInALargerPicture) {
  const GreyImage code = qr(kUrl, 150);
  GreyImage poster;
  poster.width = 900;
  poster.height = 700;
  poster.pixels.assign(static_cast<std::size_t>(poster.width) * poster.height, 200);  // grey page
  for (int y = 0; y < code.height; ++y)
    for (int x = 0; x < code.width; ++x)
      poster.pixels[static_cast<std::size_t>(y + 480) * poster.width + x + 700] = code.pixels[y * code.width + x];
  EXPECT_EQ(codes_in(png(poster)), std::vector<std::string>{kUrl});
}

TEST(InspectImage, ScalesLargeJpegsDownAndRefusesOtherLargeImages) {
  const GreyImage code = qr(kUrl, 600);
  GreyImage g;
  ASSERT_EQ(read_grey(jpeg(code), 200 * 200, g), ImageRead::kOk);  // read at 1/4 scale
  EXPECT_EQ(g.width, 150);
  EXPECT_EQ(read_codes(g, 8), std::vector<std::string>{kUrl});
  EXPECT_EQ(read_grey(png(code), 200 * 200, g), ImageRead::kTooLarge);
  EXPECT_EQ(read_grey(gif(code, false), 200 * 200, g), ImageRead::kTooLarge);
}

TEST(InspectImage, HostileBytesEndInAClearResult) {
  const GreyImage code = qr(kUrl, 120);
  GreyImage g;
  for (const std::string& whole : {png(code), jpeg(code), gif(code, true)}) {
    // Every truncation: never a crash; a partial image may still decode.
    for (std::size_t n = 0; n < whole.size(); n += std::max<std::size_t>(1, whole.size() / 97)) {
      const ImageRead r = read_grey(whole.substr(0, n), 16u << 20, g);
      EXPECT_TRUE(r == ImageRead::kOk || r == ImageRead::kCorrupt || r == ImageRead::kNotImage) << n;
      if (r == ImageRead::kOk) {
        EXPECT_EQ(g.pixels.size(), static_cast<std::size_t>(g.width) * g.height);
      }
    }
    // Flipped bytes after the signature.
    std::string bad = whole;
    for (std::size_t i = 12; i < bad.size(); i += 7) bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    const ImageRead r = read_grey(bad, 16u << 20, g);
    EXPECT_NE(r, ImageRead::kTooLarge);
  }
  // A PNG header claiming 60000 x 60000 pixels is refused before any pixel is allocated.
  std::string huge = png(code);
  huge[16] = '\0', huge[17] = '\0', huge[18] = '\xea', huge[19] = '\x60';
  huge[20] = '\0', huge[21] = '\0', huge[22] = '\xea', huge[23] = '\x60';
  const ImageRead r = read_grey(huge, 16u << 20, g);
  EXPECT_TRUE(r == ImageRead::kTooLarge || r == ImageRead::kCorrupt);  // the header CRC no longer matches
  EXPECT_EQ(read_grey("P6 not a format we read", 16u << 20, g), ImageRead::kNotImage);
  EXPECT_TRUE(codes_in(png(GreyImage{64, 64, std::vector<std::uint8_t>(64 * 64, 255)})).empty());
}

// ---- the whole pipeline ----

std::string mail_with_image(const std::string& text, const std::string& type, const std::string& image) {
  return "From: IT Service Desk <it@example.net>\r\nTo: alice@example.org\r\nSubject: Action required\r\n"
         "MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"B\"\r\n\r\n--B\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n--B\r\nContent-Type: " + type +
         "\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: inline\r\n\r\n" + base64(image) +
         "\r\n--B--\r\n";
}

bool has(const scan::Verdict& v, const std::string& name, const std::string& detail_part = "") {
  return std::any_of(v.symbols.begin(), v.symbols.end(), [&](const Symbol& s) {
    return s.name == name && s.detail.find(detail_part) != std::string::npos;
  });
}

const scan::Scanner& scanner() {
  static const scan::Scanner s(default_config());
  return s;
}

TEST(InspectImage, QrLinksJoinTheMessageLinksAndTheirChecks) {
  const std::string ip_url = "http://198.51.100.7/owa/auth/login.aspx";
  const auto r = scanner().scan(
      mail_with_image("Your mailbox password expires today. Scan the code below with your phone to keep it.",
                      "image/png", png(qr(ip_url, 200))),
      "qr");
  EXPECT_TRUE(has(r.verdict, "IMAGE_QR_URL", ip_url)) << scan::to_json(r.verdict);
  EXPECT_NE(std::find(r.message.urls.begin(), r.message.urls.end(), ip_url), r.message.urls.end());
  EXPECT_TRUE(has(r.verdict, "URL_IP_HOST", "198.51.100.7")) << scan::to_json(r.verdict);
  EXPECT_TRUE(has(r.verdict, "QR_CREDENTIAL_LURE")) << scan::to_json(r.verdict);
  EXPECT_NE(r.verdict.action, Action::kAccept) << scan::to_json(r.verdict);
}

TEST(InspectImage, QrCodesDrawnInlineAsDataUrisAreReadToo) {
  const std::string url = "https://bit.ly/3qRpay";
  std::string b64 = base64(gif(qr(url, 180), false));
  b64.erase(std::remove(b64.begin(), b64.end(), '\r'), b64.end());
  b64.erase(std::remove(b64.begin(), b64.end(), '\n'), b64.end());
  const std::string mail =
      "From: Payroll <hr@example.net>\r\nTo: alice@example.org\r\nSubject: Salary adjustment\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
      "<p>Review your salary adjustment: scan with your phone.</p><img src=\"data:image/gif;base64," + b64 + "\">\r\n";
  const auto r = scanner().scan(mail, "inline");
  EXPECT_TRUE(has(r.verdict, "IMAGE_QR_URL", "1#data-uri-1: " + url)) << scan::to_json(r.verdict);
  EXPECT_TRUE(has(r.verdict, "URL_SHORTENER", "bit.ly")) << scan::to_json(r.verdict);
  EXPECT_TRUE(has(r.verdict, "QR_CREDENTIAL_LURE")) << scan::to_json(r.verdict);
}

// ---- QR codes drawn in PDF attachments ("scan to view the document") ----

std::string zlib_compress(const std::string& in) {
  uLongf n = compressBound(static_cast<uLong>(in.size()));
  std::string out(n, '\0');
  compress2(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(in.data()),
            static_cast<uLong>(in.size()), 9);
  out.resize(n);
  return out;
}

std::string pdf_with_image(const std::string& dict, const std::string& stream) {
  return "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
         "5 0 obj\n<< /Type /XObject /Subtype /Image " + dict + " /Length " + std::to_string(stream.size()) +
         " >>\nstream\n" + stream + "\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
}

std::string mail_with_pdf(const std::string& pdf) {
  return "From: Docs <share@docs.example>\r\nTo: alice@example.org\r\nSubject: Shared document\r\n"
         "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\n"
         "Content-Type: text/plain\r\n\r\nA document was shared with you.\r\n--B\r\n"
         "Content-Type: application/pdf; name=\"doc.pdf\"\r\nContent-Disposition: attachment; filename=\"doc.pdf\"\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n" + base64(pdf) + "\r\n--B--\r\n";
}

TEST(InspectImage, QrCodesInPdfImagesAreRead) {
  const std::string url = "http://203.0.113.9/share/view";
  const GreyImage code = qr(url, 132);
  const std::string size = "/Width " + std::to_string(code.width) + " /Height " + std::to_string(code.height);
  const std::string grey(code.pixels.begin(), code.pixels.end());
  std::string rgb, bits;
  for (std::uint8_t v : code.pixels) rgb.append(3, static_cast<char>(v));
  const std::size_t row = (static_cast<std::size_t>(code.width) + 7) / 8;
  bits.assign(row * static_cast<std::size_t>(code.height), '\0');
  for (int y = 0; y < code.height; ++y)
    for (int x = 0; x < code.width; ++x)
      if (code.pixels[static_cast<std::size_t>(y) * code.width + x] >= 128)
        bits[static_cast<std::size_t>(y) * row + x / 8] |= static_cast<char>(0x80 >> (x % 8));
  const std::vector<std::pair<std::string, std::string>> pdfs = {
      {"jpeg", pdf_with_image(size + " /BitsPerComponent 8 /ColorSpace /DeviceGray /Filter /DCTDecode", jpeg(code))},
      {"grey", pdf_with_image(size + " /BitsPerComponent 8 /ColorSpace /DeviceGray /Filter /FlateDecode", zlib_compress(grey))},
      {"rgb", pdf_with_image(size + " /BitsPerComponent 8 /ColorSpace 7 0 R /Filter /FlateDecode", zlib_compress(rgb))},
      {"1-bit", pdf_with_image(size + " /BitsPerComponent 1 /ColorSpace /DeviceGray /Filter /FlateDecode", zlib_compress(bits))},
  };
  for (const auto& [kind, pdf] : pdfs) {
    const auto r = scanner().scan(mail_with_pdf(pdf), kind);
    EXPECT_TRUE(has(r.verdict, "IMAGE_QR_URL", "2/doc.pdf#image-1: " + url)) << kind << " " << scan::to_json(r.verdict);
    EXPECT_TRUE(has(r.verdict, "URL_IP_HOST", "203.0.113.9")) << kind;
  }
  // Pixels behind a predictor are not guessed at.
  const auto r = scanner().scan(
      mail_with_pdf(pdf_with_image(size + " /BitsPerComponent 8 /Filter /FlateDecode /DecodeParms << /Predictor 15 >>",
                                   zlib_compress(grey))),
      "predictor");
  EXPECT_FALSE(has(r.verdict, "IMAGE_QR_URL")) << scan::to_json(r.verdict);
}

TEST(InspectImage, OrdinaryPicturesAndCodesWithoutLinksRaiseNothing) {
  GreyImage photo{300, 200, {}};
  for (int y = 0; y < 200; ++y)
    for (int x = 0; x < 300; ++x) photo.pixels.push_back(static_cast<std::uint8_t>((x * 7 + y * 3) % 256));
  auto r = scanner().scan(mail_with_image("Photos from the weekend.", "image/jpeg", jpeg(photo)), "photo");
  EXPECT_FALSE(has(r.verdict, "IMAGE_QR_URL")) << scan::to_json(r.verdict);
  r = scanner().scan(mail_with_image("Your ticket.", "image/png", png(qr("TICKET 4711 ROW 12 SEAT 7", 200))), "ticket");
  EXPECT_FALSE(has(r.verdict, "IMAGE_QR_URL")) << scan::to_json(r.verdict);
}

TEST(InspectImage, ImagesOverTheLimitAreNamed) {
  Config c = default_config();
  c.inspect.limits.max_image_pixels = 100 * 100;
  const scan::Scanner small(c);
  const auto r = small.scan(mail_with_image("See the code.", "image/png", png(qr(kUrl, 300))), "big");
  EXPECT_TRUE(has(r.verdict, "IMAGE_NOT_READ", "max_image_pixels=10000")) << scan::to_json(r.verdict);
  EXPECT_FALSE(has(r.verdict, "IMAGE_QR_URL"));
}

// ---- the limits on how many codes, pictures and inline images are read ----

std::string link(int i) { return "https://c" + std::to_string(i) + ".example.net/x"; }

// How many of link(0) .. link(n - 1) reached the message's links.
std::size_t links_read(const std::vector<std::string>& urls, int n) {
  std::size_t k = 0;
  for (int i = 0; i < n; ++i) k += std::find(urls.begin(), urls.end(), link(i)) != urls.end();
  return k;
}

TEST(InspectImage, CodesTakenFromOnePictureAreCapped) {
  // Codes in one picture, each in its own cell. zxing finds several of them (not always
  // all: its multi-symbol search is partial); the cap on how many are taken holds.
  const int side = 120, cell = 260, cols = 5, rows = 2;
  GreyImage sheet{cell * cols, cell * rows, std::vector<std::uint8_t>(static_cast<std::size_t>(cell * cols * cell * rows), 255)};
  for (int i = 0; i < cols * rows; ++i) {
    const GreyImage c = qr(link(i), side);
    ASSERT_EQ(c.width, side);
    const int ox = (i % cols) * cell + (cell - side) / 2, oy = (i / cols) * cell + (cell - side) / 2;
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x)
        sheet.pixels[static_cast<std::size_t>(oy + y) * sheet.width + ox + x] = c.pixels[static_cast<std::size_t>(y) * side + x];
  }
  const std::size_t found = read_codes(sheet, 100).size();
  ASSERT_GE(found, 3u) << "the sheet must hold several readable codes";
  EXPECT_EQ(read_codes(sheet, 2).size(), 2u);
  EXPECT_EQ(read_codes(sheet, 0).size(), 0u);
  InspectLimits limits;
  const auto engines = Engines::load(InspectConfig{});
  ASSERT_TRUE(engines.ok());
  Inspector insp(*engines.value(), limits);
  read_image_links(Blob{"", "2", {}, "", 0}, sheet, insp);
  EXPECT_EQ(insp.results().urls.size(), std::min<std::size_t>(found, 8));
}

TEST(InspectImage, AtMost32PicturesArePerPdfAnd64InlineImagesPerPart) {
  // 40 image XObjects, each a code with its own link: the first 32 are read.
  std::string pdf = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n";
  for (int i = 0; i < 40; ++i) {
    const GreyImage c = qr(link(i), 100);
    const std::string z = zlib_compress(std::string(c.pixels.begin(), c.pixels.end()));
    pdf += std::to_string(10 + i) + " 0 obj\n<< /Type /XObject /Subtype /Image /Width " + std::to_string(c.width) +
           " /Height " + std::to_string(c.height) + " /BitsPerComponent 8 /ColorSpace /DeviceGray /Filter /FlateDecode /Length " +
           std::to_string(z.size()) + " >>\nstream\n" + z + "\nendstream\nendobj\n";
  }
  pdf += "trailer\n<< /Root 1 0 R >>\n%%EOF\n";
  const auto r = scanner().scan(mail_with_pdf(pdf), "many-images");
  EXPECT_TRUE(has(r.verdict, "IMAGE_QR_URL", "2/doc.pdf#image-1: " + link(0)));
  EXPECT_EQ(links_read(r.message.urls, 40), 32u);
  EXPECT_NE(std::find(r.message.urls.begin(), r.message.urls.end(), link(31)), r.message.urls.end());

  // 70 pictures inline in one HTML part: the first 64 are read.
  std::string html = "<p>codes</p>";
  for (int i = 0; i < 70; ++i) {
    std::string b64 = base64(png(qr(link(i), 100)));
    b64.erase(std::remove(b64.begin(), b64.end(), '\r'), b64.end());
    b64.erase(std::remove(b64.begin(), b64.end(), '\n'), b64.end());
    html += "<img src=\"data:image/png;base64," + b64 + "\">";
  }
  const std::string mail = "From: a@example.net\r\nTo: alice@example.org\r\nSubject: codes\r\nMIME-Version: 1.0\r\n"
                           "Content-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n";
  const auto h = scanner().scan(mail, "many-inline");
  EXPECT_TRUE(has(h.verdict, "IMAGE_QR_URL", "1#data-uri-1: " + link(0))) << scan::to_json(h.verdict);
  EXPECT_EQ(links_read(h.message.urls, 70), 64u);
  EXPECT_NE(std::find(h.message.urls.begin(), h.message.urls.end(), link(63)), h.message.urls.end());
}

}  // namespace
}  // namespace bulwark::inspect
