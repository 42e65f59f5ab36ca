// Text in pictures (src/inspect/ocr.cc): a lure sent as a screenshot, rendered here by
// headless Chromium, is read by Tesseract when the message says little in text, in an
// attached picture and as the only page of a PDF, in-process and in the sandboxed workers.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include "core/config.h"
#include "inspect/image.h"
#include "inspect/ocr.h"
#include "scan/output.h"
#include "scan/pipeline.h"
#include "test_support.h"

namespace bulwark::inspect {
namespace {

using test::base64;
using test::run;
using test::slurp;

constexpr const char* kLure =
    "<html><body style='font-family:sans-serif;width:600px;background:#fff'>"
    "<h2 style='color:#0070ba'>PayPal</h2><p>Dear Customer,</p>"
    "<p>Your account has been limited. We noticed unusual activity and need you to confirm your identity.</p>"
    "<p>Your subscription was renewed for $499.99. If you did not authorize this charge, call 1-808-555-0143 now.</p>"
    "<div style='background:#0070ba;color:white;padding:10px;width:200px'>Verify your account</div></body></html>";

// A screenshot of `html` (PNG), as Chromium renders it.
std::string screenshot(const std::filesystem::path& dir, const std::string& html, const std::string& size) {
  std::ofstream(dir / "page.html") << html;
  const std::filesystem::path png = dir / "page.png";
  std::filesystem::remove(png);
  run("chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir=" + (dir / "profile").string() +
      " --window-size=" + size + " --screenshot=" + png.string() + " file://" + (dir / "page.html").string() +
      " 2>/dev/null");
  return slurp(png);
}

std::string mail(const std::string& body_html, const std::string& type, const std::string& bytes,
                 const std::string& disposition = "inline; filename=\"notice.png\"") {
  return "From: PayPal <service@paypa1-support.example>\r\nTo: alice@example.org\r\nSubject: Account notice\r\n"
         "Date: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-ID: <n1@paypa1-support.example>\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/related; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
         body_html + "\r\n--B\r\nContent-Type: " + type + "\r\nContent-ID: <lure>\r\nContent-Disposition: " + disposition +
         "\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64(bytes) + "\r\n--B--\r\n";
}

const Symbol* find(const scan::Verdict& v, const std::string& name) {
  for (const Symbol& s : v.symbols)
    if (s.name == name) return &s;
  return nullptr;
}

class Ocr : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "chromium missing: scripts/install-deps.sh installs it";
    dir_ = std::filesystem::temp_directory_path() / ("bulwark-ocr-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    png_ = screenshot(dir_, kLure, "640,480");
    ASSERT_TRUE(png_.starts_with("\x89PNG")) << "chromium wrote no screenshot";
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  static const scan::Scanner& scanner() {
    static const scan::Scanner s(default_config());
    return s;
  }
  static inline std::filesystem::path dir_;
  static inline std::string png_;
};

TEST_F(Ocr, AScreenshotLureIsReadAndScored) {
  ASSERT_EQ(scanner().load_error(), "");
  ASSERT_NE(scanner().describe_engines().find("OCR: Tesseract"), std::string::npos) << scanner().describe_engines();
  const auto r = scanner().scan(mail("<a href=\"https://paypa1-support.example/login\"><img src=\"cid:lure\"></a>",
                                     "image/png", png_),
                                "screenshot");
  const Symbol* text = find(r.verdict, "IMAGE_TEXT");
  ASSERT_NE(text, nullptr) << scan::to_json(r.verdict);
  EXPECT_NE(text->detail.find("PayPal Dear Customer, Your account has been limited."), std::string::npos) << text->detail;
  const Symbol* lure = find(r.verdict, "BODY_CALLBACK_LURE");
  ASSERT_NE(lure, nullptr) << scan::to_json(r.verdict);
  EXPECT_NE(lure->detail.find("attachment text: \"...9. If you did not authorize this charge, call 1-808-555-0143\""),
            std::string::npos)
      << lure->detail;
  EXPECT_NE(r.message.attachment_text.find("Your account has been limited."), std::string::npos) << r.message.attachment_text;
}

TEST_F(Ocr, OnlyMessagesThatSayLittleInTextHaveTheirPicturesRead) {
  std::string words;
  for (int i = 0; i < 70; ++i) words += "word" + std::to_string(i) + " ";
  const auto r = scanner().scan(mail("<p>" + words + "</p><img src=\"cid:lure\">", "image/png", png_), "long");
  EXPECT_EQ(find(r.verdict, "IMAGE_TEXT"), nullptr) << scan::to_json(r.verdict);
  EXPECT_EQ(r.message.attachment_text, "");
  // inspect.ocr_images = 0 turns it off.
  Config c = default_config();
  c.inspect.limits.ocr_images = 0;
  const scan::Scanner off(c);
  EXPECT_EQ(off.describe_engines().find("OCR"), std::string::npos);
  const auto o = off.scan(mail("<img src=\"cid:lure\">", "image/png", png_), "off");
  EXPECT_EQ(find(o.verdict, "IMAGE_TEXT"), nullptr) << scan::to_json(o.verdict);
}

TEST_F(Ocr, AtMostOcrImagesPicturesAreReadAndSmallOnesNever) {
  // Three copies of the screenshot: two are read (inspect.ocr_images = 2).
  std::string m = "From: a@example.net\r\nTo: alice@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee\r\n";
  for (int i = 0; i < 3; ++i)
    m += "--B\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"p" + std::to_string(i) +
         ".png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64(png_) + "\r\n";
  m += "--B--\r\n";
  const auto r = scanner().scan(m, "three");
  const Symbol* text = find(r.verdict, "IMAGE_TEXT");
  ASSERT_NE(text, nullptr) << scan::to_json(r.verdict);
  EXPECT_NE(text->detail.find("2/p0.png:"), std::string::npos);
  EXPECT_NE(text->detail.find("3/p1.png:"), std::string::npos);
  EXPECT_EQ(text->detail.find("4/p2.png:"), std::string::npos) << text->detail;
  // A picture smaller than a line of text (a logo, a spacer) is not read, even with words.
  std::string why;
  const auto ocr = inspect::Ocr::load(why);
  ASSERT_NE(ocr, nullptr) << why;
  GreyImage g;
  ASSERT_EQ(read_grey(png_, 16u << 20, g), ImageRead::kOk);
  EXPECT_NE(ocr->read(g).find("Your account has been limited."), std::string::npos);
  GreyImage crop{inspect::Ocr::kMinWidth - 1, 120, {}};
  for (int y = 0; y < crop.height; ++y)
    crop.pixels.insert(crop.pixels.end(), g.pixels.begin() + static_cast<std::ptrdiff_t>(y) * g.width,
                       g.pixels.begin() + static_cast<std::ptrdiff_t>(y) * g.width + crop.width);
  EXPECT_EQ(ocr->read(crop), "");
}

TEST_F(Ocr, APdfWhosePageIsAPictureIsRead) {
  // The screenshot as the only content of a PDF page: 8-bit grey samples, FlateDecode.
  GreyImage g;
  ASSERT_EQ(read_grey(png_, 16u << 20, g), ImageRead::kOk);
  const std::string raw(g.pixels.begin(), g.pixels.end());
  uLongf n = compressBound(raw.size());
  std::string z(n, '\0');
  compress(reinterpret_cast<Bytef*>(z.data()), &n, reinterpret_cast<const Bytef*>(raw.data()), raw.size());
  z.resize(n);
  const std::string content = "q " + std::to_string(g.width) + " 0 0 " + std::to_string(g.height) + " 0 0 cm /Im1 Do Q";
  std::string pdf = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
                    "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
                    "3 0 obj\n<< /Type /Page /Parent 2 0 R /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>\nendobj\n"
                    "4 0 obj\n<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "\nendstream\nendobj\n"
                    "5 0 obj\n<< /Type /XObject /Subtype /Image /Width " + std::to_string(g.width) + " /Height " +
                    std::to_string(g.height) + " /BitsPerComponent 8 /ColorSpace /DeviceGray /Filter /FlateDecode /Length " +
                    std::to_string(z.size()) + " >>\nstream\n" + z + "\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
  const auto r = scanner().scan(mail("<p>Invoice attached.</p>", "application/pdf", pdf, "attachment; filename=\"invoice.pdf\""),
                                "pdf-picture");
  const Symbol* text = find(r.verdict, "IMAGE_TEXT");
  ASSERT_NE(text, nullptr) << scan::to_json(r.verdict);
  EXPECT_NE(text->detail.find("2/invoice.pdf#image-1:"), std::string::npos) << text->detail;
  EXPECT_NE(find(r.verdict, "BODY_CALLBACK_LURE"), nullptr) << scan::to_json(r.verdict);
}

TEST_F(Ocr, SandboxedWorkersReadPicturesToo) {
  // The workers are locked down (no threads, no files): OCR runs in them all the same.
  const std::filesystem::path eml = dir_ / "lure.eml";
  std::ofstream(eml, std::ios::binary) << mail("<img src=\"cid:lure\">", "image/png", png_);
  const std::string out = run(std::string(BULWARK_BINARY) + " scan --format json " + eml.string() + " 2>&1");
  EXPECT_NE(out.find("\"IMAGE_TEXT\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"BODY_CALLBACK_LURE\""), std::string::npos) << out;
}

TEST_F(Ocr, WorkersOfSeveralLanesReadPicturesQuietlyWithStderrInAFile) {
  // Found on a corpus of real phishing: a worker forked from a lane thread (a replacement
  // for a recycled or crashed one) started OpenMP threads in Tesseract (libgomp keeps the setting that turns
  // them off per thread) and was killed by seccomp; with stderr in a regular file,
  // Tesseract's "Empty page!!" hit the zero file-size limit and SIGXFSZ killed the worker.
  const std::filesystem::path in = dir_ / "lanes";
  std::filesystem::create_directories(in);
  const std::string blank_html = "<html><body style='background:#fff;width:600px;height:400px'></body></html>";
  const std::string blank = screenshot(dir_, blank_html, "640,480");
  for (int i = 0; i < 6; ++i) {
    std::ofstream(in / ("lure" + std::to_string(i) + ".eml"), std::ios::binary)
        << mail("<img src=\"cid:lure\">", "image/png", png_);
    std::ofstream(in / ("blank" + std::to_string(i) + ".eml"), std::ios::binary)
        << mail("<img src=\"cid:lure\">", "image/png", blank);
  }
  // Workers replaced after every two messages: the replacements fork from lane threads.
  const std::filesystem::path config = dir_ / "lanes.toml";
  std::ofstream(config) << "[sandbox]\nmax_messages_per_worker = 2\n";
  const std::filesystem::path err = dir_ / "stderr.txt";
  const std::string out = run(std::string(BULWARK_BINARY) + " scan --config " + config.string() +
                              " --workers 2 --no-progress --format text " + in.string() + " 2>" + err.string());
  const std::string errors = slurp(err);
  EXPECT_EQ(errors.find("unscannable"), std::string::npos) << errors;
  EXPECT_EQ(errors.find("Empty page"), std::string::npos) << errors;
  std::size_t lines = 0, read = 0;
  for (std::size_t at = 0, nl; (nl = out.find('\n', at)) != std::string::npos; at = nl + 1) {
    const std::string line = out.substr(at, nl - at);
    ++lines;
    if (line.find("/lure") != std::string::npos) read += line.find("IMAGE_TEXT") != std::string::npos;
  }
  EXPECT_EQ(lines, 12u) << out;
  EXPECT_EQ(read, 6u) << out;
}

}  // namespace
}  // namespace bulwark::inspect
