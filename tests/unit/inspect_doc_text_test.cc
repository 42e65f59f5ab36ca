// Text read out of attached documents for the body rules (src/inspect/pdf_text.cc, the
// text parts of ooxml.cc and html_doc.cc). PDFs are built here for each way a producer
// stores text (simple fonts, Type0 with ToUnicode CMaps, /Differences, object streams,
// positioned runs), then real producers' output is read: headless Chromium (Skia) and
// Ghostscript, checked word for word against poppler's pdftotext on the same file.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "inspect/documents.h"
#include "inspect/engines.h"
#include "inspect/inspect.h"
#include "inspect/pdf_text.h"
#include "scan/output.h"
#include "scan/pipeline.h"
#include "test_support.h"

namespace bulwark::inspect {
namespace {

using test::base64;
using test::run;
using test::slurp;

const Engines& engines() {
  static std::unique_ptr<Engines> e = [] {
    auto r = Engines::load(InspectConfig{});
    if (!r) {
      ADD_FAILURE() << "Engines::load: " << r.error().message;
      std::abort();
    }
    return std::move(r).value();
  }();
  return *e;
}

struct Read {
  std::string text;
  std::vector<std::string> urls;
};

Read read_pdf(const std::string& bytes) {
  InspectLimits limits;
  Inspector insp(engines(), limits);
  inspect_pdf(Blob{bytes, "1", {"doc.pdf"}, "", 0}, insp);
  return Read{insp.results().text, insp.results().urls};
}

std::string pdf(const std::vector<std::string>& objects) {
  std::string out = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n";
  int n = 0;
  for (const std::string& o : objects) out += std::to_string(++n) + " 0 obj\n" + o + "\nendobj\n";
  out += "trailer\n<< /Root 1 0 R >>\n%%EOF\n";
  return out;
}

std::string stream(std::string entries, std::string_view body) {
  return "<< " + entries + " /Length " + std::to_string(body.size()) + " >>\nstream\n" +
         std::string(body) + "\nendstream";
}

std::string deflate(std::string_view in) {
  uLongf n = compressBound(in.size());
  std::string out(n, '\0');
  compress(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(in.data()), in.size());
  out.resize(n);
  return out;
}

// Catalog, one page using `resources`, its content in object 4; `extra` are objects 5...
std::string one_page(std::string resources, std::string content, std::vector<std::string> extra = {}) {
  std::vector<std::string> objs = {"<< /Type /Catalog /Pages 2 0 R >>",
                                   "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                                   "<< /Type /Page /Parent 2 0 R /Resources " + resources + " /Contents 4 0 R >>",
                                   std::move(content)};
  for (std::string& e : extra) objs.push_back(std::move(e));
  return pdf(objs);
}

TEST(PdfText, SimpleFontLinesAndWords) {
  // Helvetica, WinAnsi: lines by Td, a word gap in TJ, an octal escape, cp1252 quotes.
  const std::string content =
      "BT /F1 12 Tf 72 700 Td (Your Norton subscription) Tj 0 -14 Td "
      "[(renewed for)-333(\\044399.99)] TJ 0 -40 Td (\\223Call\\224 now) Tj ET";
  const Read r = read_pdf(one_page("<< /Font << /F1 5 0 R >> >>", stream("", content),
                                   {"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"}));
  // One line step joins a wrapped paragraph with a space; a larger gap is a new line.
  EXPECT_EQ(r.text, "Your Norton subscription renewed for $399.99\n\xE2\x80\x9C" "Call\xE2\x80\x9D now");
}

TEST(PdfText, Type0WithToUnicodeInObjectStreamAndCompressedContent) {
  // Two-byte glyph ids; the font dictionary (object 9) lives in an object stream; the CMap
  // maps by bfchar, by a bfrange with a base and by a bfrange with an array.
  const std::string cmap =
      "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
      "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
      "2 beginbfchar <0001> <0052> <0002> <0065> endbfchar\n"
      "2 beginbfrange <0003> <0004> <0066> <0005> <0006> [<006E> <0064>] endbfrange\n"
      "1 beginbfchar <0007> <0020> endbfchar\n"
      "endcmap CMapName currentdict /CMap defineresource pop end end";
  const std::string glyphs = "<00010002000300070005000600070001>";  // R e f ' ' n d ' ' R
  const std::string content = deflate("BT /C0 10 Tf 1 0 0 1 50 500 Tm " + glyphs + " Tj ET");
  const std::string font = "<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H "
                           "/DescendantFonts [7 0 R] /ToUnicode 6 0 R >>";
  const std::string header = "9 0 ";
  const Read r = read_pdf(one_page(
      "<< /Font << /C0 9 0 R >> >>", stream("/Filter /FlateDecode", content),
      {stream("/Type /ObjStm /N 1 /First " + std::to_string(header.size()) + " /Filter /FlateDecode",
              deflate(header + font)),
       stream("", cmap), "<< /Type /Font /Subtype /CIDFontType2 /DW 600 >>"}));
  EXPECT_EQ(r.text, "Ref nd R");
}

TEST(PdfText, SurrogatePairsAndLigatures) {
  const std::string cmap =
      "begincmap 1 begincodespacerange <00> <FF> endcodespacerange\n"
      "3 beginbfchar <01> <D83DDE00> <02> <00660069> <03> <0041> endbfchar endcmap";
  const Read r = read_pdf(one_page("<< /Font << /F1 5 0 R >> >>", stream("", "BT /F1 9 Tf <010203> Tj ET"),
                                   {"<< /Type /Font /Subtype /TrueType /ToUnicode 6 0 R >>", stream("", cmap)}));
  EXPECT_EQ(r.text, "\xF0\x9F\x98\x80" "fiA");
}

TEST(PdfText, DifferencesGlyphNamesWithoutToUnicode) {
  // Codes 1..6 name their glyphs; an obfuscating producer hides the words from a naive
  // byte reader, not from the glyph names.
  const Read r = read_pdf(one_page(
      "<< /Font << /F1 5 0 R >> >>", stream("", "BT /F1 12 Tf 10 10 Td <010203040506070809> Tj ET"),
      {"<< /Type /Font /Subtype /Type1 /Encoding 6 0 R >>",
       "<< /Type /Encoding /Differences [1 /P /a /y /P /a /l /space /uni0041 /one.oldstyle] >>"}));
  EXPECT_EQ(r.text, "PayPal A1");
  // The same inline in the font.
  const Read s = read_pdf(one_page(
      "<< /Font << /F1 5 0 R >> >>", stream("", "BT /F1 12 Tf <0102> Tj ET"),
      {"<< /Type /Font /Subtype /Type1 /Encoding << /Differences [1 /O /K] >> >>"}));
  EXPECT_EQ(s.text, "OK");
}

TEST(PdfText, RunsSplitMidWordJoinByWidths) {
  // Chromium writes a line as several runs placed by Td, split anywhere, with real space
  // glyphs; a producer that places each word apart writes no space glyph. Widths decide.
  const std::string widths = "/FirstChar 32 /Widths [250 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
                             "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
                             "500 500 500 500 500 500 500 500 500 500 500 500 500 500 500 500 500 500 500 500 500 500 "
                             "500 500 500 500]";
  // "renew" + "al": 5 glyphs of 500/1000 * 10 = 25 units, then Td 25 -> same word.
  // "your" then Td 60 (20 + a 40-unit gap) -> a new word.
  const std::string content =
      "BT /F1 10 Tf 100 100 Td (renew) Tj 25 0 Td (al) Tj 10 0 Td ( your) Tj 60 0 Td (plan) Tj ET";
  const Read r = read_pdf(one_page("<< /Font << /F1 5 0 R >> >>", stream("", content),
                                   {"<< /Type /Font /Subtype /Type1 " + widths + " >>"}));
  EXPECT_EQ(r.text, "renewal your plan");
}

TEST(PdfText, ActualTextAndCharacterSpacing) {
  // /ActualText replaces the glyphs it covers (a ligature, a glyph without a mapping)...
  std::string widths = "/FirstChar 32 /Widths [250";
  for (int i = 33; i < 127; ++i) widths += " 500";
  widths += "]";
  const std::string content =
      "BT /F1 10 Tf 0 0 Td (con) Tj /Span << /ActualText (fi) >> BDC (\001) Tj EMC (rm) Tj ET "
      // ...but cannot hide what is drawn: a span whose glyphs read otherwise keeps both.
      "BT /F1 10 Tf 0 -100 Td /Span << /ActualText <FEFF0020> >> BDC (call 555-0100) Tj EMC ET "
      // Letter spacing (Tc) is not a word gap; the same gap without Tc is.
      "BT /F1 10 Tf 3 Tc 0 -200 Td (ab) Tj 16 0 Td (cd) Tj 0 Tc 20 0 Td (ef) Tj ET";
  const Read r = read_pdf(one_page("<< /Font << /F1 5 0 R >> >>", stream("", content),
                                   {"<< /Type /Font /Subtype /Type1 " + widths + " >>"}));
  EXPECT_EQ(r.text, "confirm\ncall 555-0100\nabcd ef");
}

TEST(PdfText, SameResourceNameOnTwoPagesPicksTheFontThatMaps) {
  const std::string cmap_a = "begincmap 1 beginbfchar <01> <0048> endbfchar endcmap";  // 01 -> H
  const std::string cmap_b = "begincmap 1 beginbfchar <02> <0069> endbfchar endcmap";  // 02 -> i
  const std::string p = pdf({"<< /Type /Catalog /Pages 2 0 R >>",
                             "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
                             "<< /Type /Page /Resources << /Font << /F1 7 0 R >> >> /Contents 5 0 R >>",
                             "<< /Type /Page /Resources << /Font << /F1 8 0 R >> >> /Contents 6 0 R >>",
                             stream("", "BT /F1 12 Tf <01> Tj ET"), stream("", "BT /F1 12 Tf <02> Tj ET"),
                             "<< /Type /Font /Subtype /Type0 /ToUnicode 9 0 R >>",
                             "<< /Type /Font /Subtype /Type0 /ToUnicode 10 0 R >>", stream("", cmap_a),
                             stream("", cmap_b)});
  EXPECT_EQ(read_pdf(p).text, "H\ni");
}

TEST(PdfText, CompositeFontWithoutCMapShowsNothing) {
  const Read r = read_pdf(one_page("<< /Font << /F1 5 0 R >> >>", stream("", "BT /F1 12 Tf <00410042> Tj ET"),
                                   {"<< /Type /Font /Subtype /Type0 /Encoding /Identity-H >>"}));
  EXPECT_EQ(r.text, "");
  // A font that cannot be found, shown with two-byte codes: glyph ids, not letters.
  const Read u = read_pdf(one_page("<< >>", stream("", "BT /F9 12 Tf <00410042> Tj ( plain) Tj ET")));
  EXPECT_EQ(u.text, "plain");
}

TEST(PdfText, InlineImageDataIsNotText) {
  const std::string content =
      "BT /F1 12 Tf (before) Tj ET BI /W 4 /H 1 /BPC 8 /CS /G ID \x01(fake) Tj EIx\x02 EI "
      "BT /F1 12 Tf 0 -100 Td (after) Tj ET";
  const Read r = read_pdf(one_page("<< /Font << /F1 5 0 R >> >>", stream("", content),
                                   {"<< /Type /Font /Subtype /Type1 >>"}));
  EXPECT_EQ(r.text, "before\nafter");
}

TEST(PdfText, TypedLinksAreLinks) {
  const Read r = read_pdf(one_page("<< /Font << /F1 5 0 R >> >>",
                                   stream("", "BT /F1 12 Tf (Renew at https://billing.example.net/renew now) Tj ET"),
                                   {"<< /Type /Font /Subtype /Type1 >>"}));
  ASSERT_EQ(r.urls.size(), 1u);
  EXPECT_EQ(r.urls[0], "https://billing.example.net/renew");
}

pdf::FontDict type0_font(long long to_unicode) {
  pdf::FontDict d;
  d.subtype = "Type0";
  d.to_unicode = to_unicode;
  return d;
}

TEST(PdfText, LimitsHold) {
  // Text per file is cut at 64 KiB, on a character boundary.
  std::string content = "BT /F1 12 Tf ";
  for (int i = 0; i < 12000; ++i) content += "(\xE9t\xE9 words) Tj ";
  content += "ET";
  const Read r = read_pdf(one_page("<< /Font << /F1 5 0 R >> >>", stream("/Filter /FlateDecode", deflate(content)),
                                   {"<< /Type /Font /Subtype /Type1 >>"}));
  EXPECT_LE(r.text.size(), 64u << 10);
  EXPECT_GT(r.text.size(), 60u << 10);
  EXPECT_TRUE(r.text.starts_with("\xC3\xA9t\xC3\xA9 words"));
  const unsigned char last = static_cast<unsigned char>(r.text.back());
  EXPECT_TRUE(last < 0x80) << "text ends inside a character";

  // A bfrange over the whole 4-byte space is one entry, not four billion.
  pdf::TextExtractor x;
  x.add_font(5, type0_font(6));
  x.add_reference("F1", 5);
  EXPECT_TRUE(x.add_stream(6, "begincmap 1 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange endcmap"));
  EXPECT_TRUE(x.add_stream(4, "BT /F1 1 Tf <00000001> Tj ET"));
  EXPECT_EQ(x.text(100), "B");
  // CMap entries per file are capped: the entries past the cap are dropped, not stored.
  std::string big = "begincmap 300000 beginbfchar ";
  for (int i = 0; i < 300000; ++i) {
    char b[32];
    std::snprintf(b, sizeof b, "<%06X> <0041> ", i);
    big += b;
  }
  big += "endbfchar endcmap";
  pdf::TextExtractor y;
  y.add_font(5, type0_font(6));
  y.add_reference("F1", 5);
  y.add_stream(6, big);
  y.add_stream(4, "BT /F1 1 Tf <000001> Tj <03FFFF> Tj ET");  // 1 is kept, 262143 is the last kept
  y.add_stream(7, "BT /F1 1 Tf 0 -50 Td <040000> Tj ET");     // 262144 is past the cap
  EXPECT_EQ(y.text(100), "AA");
  // Content kept per file is capped.
  pdf::TextExtractor z;
  const std::string chunk = "BT (x) Tj ET " + std::string(1u << 20, ' ');
  std::size_t kept = 0;
  for (int i = 0; i < 20; ++i) kept += z.add_stream(10 + i, chunk);
  EXPECT_EQ(kept, pdf::TextExtractor::kMaxContent / chunk.size());
}

TEST(PdfText, HostileContentIsBounded) {
  // Unterminated strings, arrays and images, operators without operands, deep arrays.
  const std::vector<std::string> contents = {
      "BT /F1 12 Tf (never closed", "BT [(a) [[[[ (b) TJ", "BI ID \x01\x02 no end", "Tj TJ ' \" Td Tm Tf T* BT ET",
      "BT 1e308 1e308 Td (x) Tj -1e308 0 0 -1e308 1e308 1e308 Tm (y) Tj ET", std::string(100000, '['),
      "BT /F1 0 Tf (z) Tj ET"};
  for (const std::string& c : contents) {
    const Read r = read_pdf(one_page("<< /Font << /F1 5 0 R >> >>", stream("", c), {"<< /Type /Font >>"}));
    EXPECT_LE(r.text.size(), 16u) << c.substr(0, 40);
  }
  EXPECT_EQ(pdf::glyph_text("uniD800"), "\xEF\xBF\xBD");  // a lone surrogate is not text
  EXPECT_EQ(pdf::glyph_text("g123"), "");
  EXPECT_EQ(pdf::glyph_text("u1F600"), "\xF0\x9F\x98\x80");
}

TEST(PdfText, HostileFontsStayLinear) {
  // Many ranges and many codes: each code is a binary search, not a walk over all ranges.
  std::string cmap = "begincmap 100000 beginbfrange ";
  char b[64];
  for (int i = 0; i < 100000; ++i) {
    std::snprintf(b, sizeof b, "<%06X> <%06X> <%04X> ", i * 2, i * 2, 0x41 + i % 26);
    cmap += b;
  }
  cmap += "endbfrange endcmap";
  std::string shown = "<";
  for (int i = 0; i < 200000; ++i) {
    std::snprintf(b, sizeof b, "%06X", (i % 100000) * 2);
    shown += b;
  }
  shown += ">";
  pdf::TextExtractor x;
  x.add_font(5, type0_font(6));
  x.add_reference("F1", 5);
  x.add_stream(6, cmap);
  // Many fonts selected many times, under one name bound to many objects.
  for (long long i = 0; i < 5000; ++i) x.add_reference("F1", 100 + i);
  std::string content = "BT ";
  for (int i = 0; i < 20000; ++i) content += "/F1 1 Tf ";
  content += "/F1 1 Tf " + shown + " Tj ET";
  EXPECT_TRUE(x.add_stream(7, content));
  const std::string t = x.text(1u << 20);
  ASSERT_GE(t.size(), 26u);
  EXPECT_EQ(t.substr(0, 26), "ABCDEFGHIJKLMNOPQRSTUVWXYZ");

  // A /W array of ranges repeated over the same codes: the work is capped, not repeated.
  std::string w = "[";
  for (int i = 0; i < 80000; ++i) w += "0 60000 500 ";
  w += "]";
  pdf::TextExtractor y;
  pdf::FontDict cid;
  cid.subtype = "CIDFontType2";
  cid.w_ref = 9;
  pdf::FontDict font = type0_font(6);
  font.descendant = 8;
  y.add_array(9, w);
  y.add_font(8, cid);
  for (long long i = 0; i < 64; ++i) {
    y.add_font(10 + i, font);
    y.add_reference("F" + std::to_string(i), 10 + i);
  }
  y.add_stream(6, "begincmap 1 beginbfrange <0000> <FFFF> <0041> endbfrange endcmap");
  std::string many = "BT ";
  for (int i = 0; i < 64; ++i) many += "/F" + std::to_string(i) + " 10 Tf <0001> Tj ";
  EXPECT_TRUE(y.add_stream(7, many + "ET"));
  EXPECT_EQ(y.text(1000).substr(0, 4), "BBBB");
}

// ---------------------------------------------------------------------------------------
// Office and HTML documents

TEST(DocText, WordPowerPointAndExcelText) {
  InspectLimits limits;
  Inspector insp(engines(), limits);
  const std::string doc =
      "<?xml version=\"1.0\"?><w:document xmlns:w=\"x\"><w:body><w:p><w:r><w:t>Your invoice</w:t></w:r>"
      "<w:r><w:t xml:space=\"preserve\"> #4471 is overdue &amp; </w:t></w:r><w:r><w:instrText>HYPERLINK x</w:instrText>"
      "</w:r><w:r><w:t>unpaid</w:t></w:r></w:p><w:p><w:r><w:t>Call 888-555-0199</w:t></w:r></w:p></w:body></w:document>";
  inspect_ooxml_part(Blob{doc, "1/a.docx/word/document.xml", {"word/document.xml"}, "", 1}, insp);
  const std::string slide = "<p:sld><a:p><a:r><a:t>Slide &#x41;</a:t></a:r></a:p></p:sld>";
  inspect_ooxml_part(Blob{slide, "1/b.pptx/ppt/slides/slide1.xml", {"ppt/slides/slide1.xml"}, "", 1}, insp);
  const std::string strings = "<sst><si><t>cell one</t></si><si><r><t>cell</t></r><r><t> two</t></r></si></sst>";
  inspect_ooxml_part(Blob{strings, "1/c.xlsx/xl/sharedStrings.xml", {"xl/sharedStrings.xml"}, "", 1}, insp);
  EXPECT_EQ(insp.results().text,
            "Your invoice #4471 is overdue & unpaid\nCall 888-555-0199\nSlide A\ncell one\ncell two");
}

TEST(DocText, OpenDocumentText) {
  InspectLimits limits;
  Inspector insp(engines(), limits);
  const std::string content =
      "<?xml version=\"1.0\"?><office:document-content><office:body><office:text>"
      "<text:h text:outline-level=\"1\">Invoice &amp; renewal</text:h>"
      "<text:p>Your <text:span text:style-name=\"b\">McAfee</text:span> plan<text:s/>was charged.<text:line-break/>"
      "Call<text:tab/>1-808-555-0143</text:p><table:table><table:table-row><table:table-cell><text:p>cell</text:p>"
      "</table:table-cell></table:table-row></table:table><office:annotation><dc:creator>x</dc:creator></office:annotation>"
      "</office:text></office:body></office:document-content>";
  inspect_ooxml_part(Blob{content, "2/a.odt/content.xml", {"content.xml"}, "", 1}, insp);
  EXPECT_EQ(insp.results().text, "Invoice & renewal\nYour McAfee plan was charged.\nCall 1-808-555-0143\ncell");
}

TEST(DocText, RtfText) {
  InspectLimits limits;
  Inspector insp(engines(), limits);
  const std::string rtf =
      "{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0 Times New Roman;}}{\\colortbl;\\red0\\green0\\blue0;}"
      "{\\*\\generator Riched20;}{\\info{\\title hidden title}}\\pard Your Norton plan was \\b renewed\\b0  for "
      "\\'80399.99\\par Call\\~1-808-555-0143\\tab now \\u8220?quoted\\u8221?\\par "
      "{\\field{\\*\\fldinst HYPERLINK \"http://x.example\"}{\\fldrslt click here}}"
      "{\\*\\unknowndest secret}{\\pict\\wmetafile8 0102}\\par}";
  inspect_rtf(Blob{rtf, "2/a.rtf", {"a.rtf"}, "", 0}, insp);
  EXPECT_EQ(insp.results().text,
            "Your Norton plan was renewed for \xE2\x82\xAC" "399.99\nCall 1-808-555-0143 now \xE2\x80\x9Cquoted\xE2\x80\x9D\n"
            "click here\n");
}

TEST(DocText, TextPerPartAndPageIsCapped) {
  // 64 KiB per Office part and per HTML file; the message's 256 KiB holds both.
  std::string words;
  for (int i = 0; i < 20000; ++i) words += "lure ";
  InspectLimits limits;
  Inspector insp(engines(), limits);
  inspect_ooxml_part(Blob{"<w:document><w:p><w:r><w:t>" + words + "</w:t></w:r></w:p></w:document>",
                          "1/a.docx/word/document.xml", {"word/document.xml"}, "", 1},
                     insp);
  EXPECT_EQ(insp.results().text.size(), 64u << 10);
  inspect_html_attachment(Blob{"<html><body><p>" + words + "</p></body></html>", "2/a.html", {"a.html"}, "text/html", 0},
                          insp);
  EXPECT_LE(insp.results().text.size(), (128u << 10) + 1);
  EXPECT_GT(insp.results().text.size(), (120u << 10));
}

TEST(DocText, HtmlAttachmentText) {
  InspectLimits limits;
  Inspector insp(engines(), limits);
  const std::string page =
      "<html><head><title>t</title><script>var hidden='not text';</script></head>"
      "<body><p>Your mailbox is full.</p><p>Sign in to keep your messages.</p></body></html>";
  inspect_html_attachment(Blob{page, "2/invoice.html", {"invoice.html"}, "text/html", 0}, insp);
  EXPECT_NE(insp.results().text.find("Your mailbox is full."), std::string::npos) << insp.results().text;
  EXPECT_NE(insp.results().text.find("Sign in to keep your messages."), std::string::npos);
  EXPECT_EQ(insp.results().text.find("not text"), std::string::npos);
}

TEST(DocText, MessageTextIsCappedOnACharacterBoundary) {
  InspectLimits limits;
  Inspector insp(engines(), limits);
  const Blob b{"", "1", {}, "", 0};
  std::string piece;
  for (int i = 0; i < 30000; ++i) piece += "\xE2\x82\xAC";  // 90,000 bytes of euro signs
  for (int i = 0; i < 4; ++i) insp.add_text(b, piece);
  const std::string& t = insp.results().text;
  EXPECT_LE(t.size(), kMaxDocumentText);
  EXPECT_GT(t.size(), kMaxDocumentText - 4);
  EXPECT_EQ(t.size() % 3, 2u);  // whole characters, plus the separating newlines: 3*k + 2
}

// ---------------------------------------------------------------------------------------
// Real producers, against poppler's pdftotext on the same file

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

constexpr const char* kLure =
    "Norton LifeLock Billing Department. Your subscription has been renewed and $399.99 was charged "
    "to your account today. Invoice number: INV-88412. If you did not authorise this payment, to "
    "cancel or request a refund, call our billing desk at +1 (808) 555-0143 within 24 hours. "
    "Manage your plan at https://norton-billing.example.net/renew. Caf\xC3\xA9 na\xC3\xAFve "
    "fa\xC3\xA7" "ade \xE2\x80\x9Cquoted\xE2\x80\x9D \xEF\xAC\x81nance.";

// pdftotext keeps the producer's line breaks, some ligatures (U+FB01) and drops a hyphen
// that ends a line: the word sequences are compared without those differences.
std::string comparable(std::string s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 3, "\xEF\xAC\x81") == 0) {
      out += "fi";
      i += 2;
    } else if (s[i] != '-') {
      out += s[i];
    }
  }
  return out;
}

void expect_same_words(const std::string& ours, const std::string& theirs) {
  const std::vector<std::string> wa = words(comparable(ours)), wb = words(comparable(theirs));
  EXPECT_EQ(wa, wb) << "ours:\n" << ours << "\npdftotext:\n" << theirs;
}

class Producers : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bulwark-pdftext-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(Producers, HeadlessChromium) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "chromium missing: scripts/install-deps.sh installs it";
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/pdftotext")) << "poppler-utils missing";
  std::ofstream(dir_ / "lure.html") << "<html><meta charset=utf-8><body style='width:420px;font:15px sans-serif'>"
                                    << "<h2>Order confirmation</h2><p>" << kLure << "</p><p>Second paragraph, "
                                    << "<b>bold</b> and <i>italic</i> runs.</p></body></html>";
  const std::filesystem::path pdf_path = dir_ / "lure.pdf";
  run("chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer --user-data-dir=" +
      (dir_ / "profile").string() + " --print-to-pdf=" + pdf_path.string() + " file://" +
      (dir_ / "lure.html").string() + " 2>/dev/null");
  const std::string bytes = slurp(pdf_path);
  ASSERT_TRUE(bytes.starts_with("%PDF-")) << "chromium wrote no PDF";
  const Read r = read_pdf(bytes);
  expect_same_words(r.text, run("pdftotext -enc UTF-8 " + pdf_path.string() + " -"));
  // The phone number wrapped or not, it reads as one on one line.
  EXPECT_NE(r.text.find("+1 (808) 555-0143"), std::string::npos) << r.text;
  EXPECT_NE(std::find(r.urls.begin(), r.urls.end(), "https://norton-billing.example.net/renew"), r.urls.end());
}

TEST_F(Producers, Ghostscript) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/gs")) << "ghostscript missing: scripts/install-deps.sh installs it";
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/pdftotext")) << "poppler-utils missing";
  // PostScript with a standard font, shown word by word and by kerned runs.
  std::ofstream(dir_ / "lure.ps")
      << "%!PS\n/Helvetica findfont 11 scalefont setfont\n"
      << "72 720 moveto (Your Geek Squad membership was charged) show\n"
      << "72 706 moveto (call) show 100 706 moveto (1-808-555-0143) show 200 706 moveto (today) show\n"
      << "72 650 moveto (Second) show ( paragraph here.) show\nshowpage\n";
  const std::filesystem::path pdf_path = dir_ / "lure.pdf";
  run("gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=pdfwrite -sOutputFile=" + pdf_path.string() + " " +
      (dir_ / "lure.ps").string() + " 2>&1");
  const std::string bytes = slurp(pdf_path);
  ASSERT_TRUE(bytes.starts_with("%PDF-")) << "ghostscript wrote no PDF";
  const Read r = read_pdf(bytes);
  expect_same_words(r.text, run("pdftotext -enc UTF-8 " + pdf_path.string() + " -"));
  EXPECT_NE(r.text.find("call 1-808-555-0143 today"), std::string::npos) << r.text;
}

// ---------------------------------------------------------------------------------------
// Encrypted PDFs, written by qpdf

struct Opened {
  Read read;
  std::vector<Finding> symbols;
  bool has(std::string_view name) const {
    return std::any_of(symbols.begin(), symbols.end(), [&](const Finding& f) { return f.symbol == name; });
  }
};

Opened open_pdf(const std::string& bytes, std::vector<std::string> passwords = {}) {
  InspectLimits limits;
  Inspector insp(engines(), limits);
  insp.set_passwords(std::move(passwords));
  inspect_pdf(Blob{bytes, "1", {"doc.pdf"}, "", 0}, insp);
  return Opened{Read{insp.results().text, insp.results().urls}, insp.results().symbols};
}

TEST_F(Producers, EncryptedWithEachCipherAreDecrypted) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/qpdf")) << "qpdf missing: scripts/install-deps.sh installs it";
  // A lure page, and an open action that runs JavaScript: with object streams, the action
  // is inside a compressed, encrypted stream, invisible without the key.
  const std::string content = "BT /F1 12 Tf 72 700 Td (Your PayPal account was charged $499.00, call 1-808-555-0143) Tj ET";
  const std::string plain = pdf({"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>",
                                 "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                                 "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
                                 stream("", content), "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
                                 "<< /S /JavaScript /JS (app.alert\\(1\\)) >>"});
  std::ofstream(dir_ / "plain.pdf", std::ios::binary) << plain;
  struct Mode {
    std::string args, method;
    bool object_streams;  // 40-bit files are PDF 1.3: no object streams, the action stays out
  };
  const std::vector<Mode> modes = {{"40", "RC4 40-bit", false}, {"128 --use-aes=n", "RC4 128-bit", true},
                                   {"128 --use-aes=y", "AES-128", true}, {"256", "AES-256", true}};
  for (const Mode& m : modes) {
    const std::filesystem::path out = dir_ / "enc.pdf";
    run("qpdf --allow-weak-crypto --object-streams=generate --encrypt '' owner-pw " + m.args + " -- " +
        (dir_ / "plain.pdf").string() + " " + out.string() + " 2>&1");
    const std::string bytes = slurp(out);
    ASSERT_NE(bytes.find("/Encrypt"), std::string::npos) << m.args;
    if (m.object_streams) {
      ASSERT_EQ(bytes.find("JavaScript"), std::string::npos) << "qpdf left the action in the clear: " << m.args;
    }
    ASSERT_EQ(bytes.find("app.alert"), std::string::npos) << m.args;
    const Opened o = open_pdf(bytes);
    EXPECT_TRUE(o.has("PDF_ENCRYPTED_NO_PASSWORD")) << m.args;
    EXPECT_TRUE(o.has("PDF_JAVASCRIPT")) << m.args;
    EXPECT_TRUE(o.has("PDF_OPEN_ACTION")) << m.args;
    EXPECT_EQ(o.read.text, "Your PayPal account was charged $499.00, call 1-808-555-0143") << m.args;
    for (const Finding& f : o.symbols) {
      if (f.symbol == "PDF_ENCRYPTED_NO_PASSWORD") {
        EXPECT_TRUE(f.detail.starts_with(m.method)) << f.detail;
      }
    }
  }
  // A real password: unread without it, read with it when the message gives it.
  for (const std::string bits : {"128 --use-aes=y", "256", "40"}) {
    const std::filesystem::path out = dir_ / "pw.pdf";
    run("qpdf --allow-weak-crypto --encrypt 'Inv-2291!' owner-pw " + bits + " -- " + (dir_ / "plain.pdf").string() + " " +
        out.string() + " 2>&1");
    const std::string bytes = slurp(out);
    const Opened locked = open_pdf(bytes, {"wrong", "Inv-2290!"});
    EXPECT_TRUE(locked.has("DOC_ENCRYPTED")) << bits;
    EXPECT_EQ(locked.read.text, "") << bits;
    const Opened opened = open_pdf(bytes, {"wrong", "Inv-2291!"});
    EXPECT_TRUE(opened.has("DOC_PASSWORD_FOUND")) << bits;
    EXPECT_FALSE(opened.has("DOC_ENCRYPTED")) << bits;
    EXPECT_EQ(opened.read.text, "Your PayPal account was charged $499.00, call 1-808-555-0143") << bits;
  }
}

TEST(PdfCrypt, MalformedEncryptionDictionariesAreRefusedCleanly) {
  const std::vector<std::string> dicts = {
      "<< /Filter /Standard /V 2 /R 3 /Length 128 /O (short) /U (short) /P -4 >>",
      "<< /Filter /Standard /V 99 /R 99 /O <00> /U <00> >>",
      "<< /Filter /Standard /V 5 /R 6 /O <" + std::string(96, '0') + "> /U <" + std::string(96, '0') +
          "> /UE <00> /OE <00> /P -4 >>",
      "<< /Filter /Standard /V 1 /R 2 /Length 999999999 /O <" + std::string(64, '1') + "> /U <" +
          std::string(64, '2') + "> /P 99999999999 >>",
      "<< /Filter /Adobe.PubSec /V 4 /R 4 >>"};
  for (const std::string& d : dicts) {
    const std::string p = pdf({"<< /Type /Catalog >>", d, stream("", "BT (plain) Tj ET")}) ;
    const std::string with_ref = p.substr(0, p.size() - 6) + "trailer << /Encrypt 2 0 R /ID [<0102> <0304>] >>\n%%EOF\n";
    const Opened o = open_pdf(with_ref, {"x"});
    EXPECT_TRUE(o.has("DOC_ENCRYPTED")) << d;
    EXPECT_EQ(o.read.text, "") << d;
  }
}

// ---------------------------------------------------------------------------------------
// The whole scan: a callback lure that is only in the attached PDF

std::string mail_with_attachment(const std::string& name, const std::string& type, const std::string& bytes) {
  std::string m =
      "From: Billing Team <nortonbilling.team@gmail.com>\r\nTo: alice@example.org\r\nSubject: Your order\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\n"
      "Content-Type: text/plain\r\n\r\nHello, please see the attached document.\r\n";
  if (!bytes.empty())
    m += "--B\r\nContent-Type: " + type + "; name=\"" + name + "\"\r\nContent-Disposition: attachment; filename=\"" +
         name + "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64(bytes) + "\r\n";
  return m + "--B--\r\n";
}

bool has(const scan::Verdict& v, const std::string& name) {
  return std::any_of(v.symbols.begin(), v.symbols.end(), [&](const Symbol& s) { return s.name == name; });
}

TEST_F(Producers, CallbackLureInAChromiumPdfIsScored) {
  std::ofstream(dir_ / "lure.html") << "<html><meta charset=utf-8><body style='width:420px'><p>" << kLure
                                    << "</p></body></html>";
  const std::filesystem::path pdf_path = dir_ / "invoice.pdf";
  run("chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer --user-data-dir=" +
      (dir_ / "profile").string() + " --print-to-pdf=" + pdf_path.string() + " file://" +
      (dir_ / "lure.html").string() + " 2>/dev/null");
  const std::string bytes = slurp(pdf_path);
  ASSERT_TRUE(bytes.starts_with("%PDF-")) << "chromium wrote no PDF";
  static const scan::Scanner scanner(default_config());
  ASSERT_EQ(scanner.load_error(), "");
  const auto r = scanner.scan(mail_with_attachment("invoice.pdf", "application/pdf", bytes), "pdf");
  EXPECT_TRUE(has(r.verdict, "BODY_CALLBACK_LURE")) << scan::to_json(r.verdict);
  EXPECT_TRUE(has(r.verdict, "META_CALLBACK_FREEMAIL")) << scan::to_json(r.verdict);
  // The explanation says where the words were.
  for (const Symbol& sym : r.verdict.symbols) {
    if (sym.name == "BODY_CALLBACK_LURE") {
      EXPECT_NE(sym.detail.find("attachment text: \"...request a refund, call our billing desk at +1 (808) 555-0143\""),
                std::string::npos)
          << sym.detail;
    }
  }
  EXPECT_NE(std::find(r.message.urls.begin(), r.message.urls.end(), "https://norton-billing.example.net/renew"),
            r.message.urls.end());
  // --explain shows what was read.
  const std::string explained = scan::to_explain(r);
  EXPECT_NE(explained.find("text read from attachments ("), std::string::npos) << explained;
  EXPECT_NE(explained.find("  Norton LifeLock Billing Department."), std::string::npos) << explained;
  // The same message without the document says nothing a rule could hold against it.
  const auto plain = scanner.scan(mail_with_attachment("", "", ""), "plain");
  EXPECT_FALSE(has(plain.verdict, "BODY_CALLBACK_LURE")) << scan::to_json(plain.verdict);
  // A Word document and an HTML page carry the same lure.
  const std::string doc = "<w:document><w:body><w:p><w:r><w:t>" + std::string(kLure).substr(0, 400) +
                          "</w:t></w:r></w:p></w:body></w:document>";
  // Not a zip here: the part is inspected as the member it would be.
  const Config cfg = default_config();
  Inspector insp(engines(), cfg.inspect.limits);
  inspect_ooxml_part(Blob{doc, "2/a.docx/word/document.xml", {"word/document.xml"}, "", 1}, insp);
  EXPECT_NE(insp.results().text.find("call our billing desk at +1 (808) 555-0143"), std::string::npos);
  const std::string ics =
      "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Norton subscription renewal\r\nDESCRIPTION:Your Norton plan "
      "was auto-renewed and $399.99 has been charged to your card. To cancel\\, call 1-808-555-0143.\r\n"
      "END:VEVENT\r\nEND:VCALENDAR\r\n";
  const auto invite = scanner.scan(mail_with_attachment("invite.ics", "text/calendar", ics), "ics");
  EXPECT_TRUE(has(invite.verdict, "BODY_CALLBACK_LURE")) << scan::to_json(invite.verdict);
  const auto html = scanner.scan(
      mail_with_attachment("invoice.html", "text/html", std::string("<html><body><p>") + kLure + "</p></body></html>"),
      "html");
  EXPECT_TRUE(has(html.verdict, "BODY_CALLBACK_LURE")) << scan::to_json(html.verdict);
}

}  // namespace
}  // namespace bulwark::inspect
