// Header value parsers: unfolding, Content-Type / Content-Disposition parameters (RFC 2045,
// RFC 2231), RFC 2047 encoded-words, and RFC 5322 address lists, hostile input included.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/symbol.h"
#include "mime/charset.h"
#include "mime/header_value.h"

namespace bulwark::mime {
namespace {

struct Ctx {
  SymbolSet symbols;
  Report report{symbols, ""};
  bool has(std::string_view name) const { return symbols.has(name); }
  std::string detail(std::string_view name) const {
    const Symbol* s = symbols.find(name);
    return s ? s->detail : std::string();
  }
  std::vector<std::string> names() const {
    std::vector<std::string> r;
    for (const Symbol& s : symbols.all()) r.push_back(s.name);
    return r;
  }
};

using Names = std::vector<std::string>;

// --- unfold ----------------------------------------------------------------------------------

TEST(Unfold, RemovesLineBreaksBeforeWhitespace) {
  EXPECT_EQ(unfold("a\r\n b"), "a b");
  EXPECT_EQ(unfold("a\n\tb"), "a\tb");
  EXPECT_EQ(unfold("a\r b"), "a b");
  EXPECT_EQ(unfold("a\r\n\r\n b"), "a b");  // a run of breaks before WSP is one fold
  EXPECT_EQ(unfold("a\n\r b"), "a b");
  EXPECT_EQ(unfold(" text/plain;\r\n charset=utf-8\r\n"), "text/plain; charset=utf-8");
  EXPECT_EQ(unfold("  \t x \t "), "x");
  EXPECT_EQ(unfold(""), "");
  EXPECT_EQ(unfold("\r\n"), "");
}

TEST(Unfold, KeepsBreaksNotFollowedByWhitespace) {
  EXPECT_EQ(unfold("a\r\nb"), "a\r\nb");
  EXPECT_EQ(unfold("a\nb"), "a\nb");
}

TEST(Unfold, LargeInputIsLinear) {
  std::string in;
  for (int i = 0; i < 200000; ++i) in += "x\r\n ";
  EXPECT_EQ(unfold(in).size(), 200000u * 2 - 1);
}

// --- Content-Type ----------------------------------------------------------------------------

TEST(ContentType, Simple) {
  Ctx c;
  const FieldValue v = parse_content_type("text/plain; charset=us-ascii", c.report);
  EXPECT_TRUE(v.valid);
  EXPECT_EQ(v.type, "text/plain");
  ASSERT_EQ(v.params.size(), 1u);
  EXPECT_EQ(v.params[0].name, "charset");
  EXPECT_EQ(v.params[0].value, "us-ascii");
  EXPECT_FALSE(v.params[0].rfc2231);
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(ContentType, CaseQuotesAndWhitespace) {
  Ctx c;
  const FieldValue v =
      parse_content_type("Text/HTML ;\tCharset = \"UTF-8\" ; FORMAT=Flowed", c.report);
  EXPECT_EQ(v.type, "text/html");
  ASSERT_NE(v.param("charset"), nullptr);
  EXPECT_EQ(v.param("charset")->value, "UTF-8");  // values keep their case
  EXPECT_EQ(v.param("CHARSET"), v.param("charset"));
  EXPECT_EQ(v.param("format")->value, "Flowed");
  EXPECT_EQ(v.param("missing"), nullptr);
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(ContentType, CommentsAroundTokens) {
  Ctx c;
  const FieldValue v = parse_content_type(
      "(lead) text (a) / (b (nested)) plain (c); charset=us-ascii (Plain text)", c.report);
  EXPECT_TRUE(v.valid);
  EXPECT_EQ(v.type, "text/plain");
  ASSERT_NE(v.param("charset"), nullptr);
  EXPECT_EQ(v.param("charset")->value, "us-ascii");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(ContentType, QuotedStringEscapes) {
  Ctx c;
  const FieldValue v = parse_content_type(R"(application/x; name="a\"b\\c;d")", c.report);
  ASSERT_NE(v.param("name"), nullptr);
  EXPECT_EQ(v.param("name")->value, "a\"b\\c;d");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(ContentType, MissingSlash) {
  Ctx c;
  const FieldValue v = parse_content_type("textplain; charset=utf-8", c.report);
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.type, "");
  EXPECT_TRUE(c.has("MIME_BAD_CONTENT_TYPE"));
  EXPECT_FALSE(c.has("MIME_BAD_PARAMS"));
  ASSERT_NE(v.param("charset"), nullptr);  // parameters are still read
  EXPECT_EQ(v.param("charset")->value, "utf-8");
}

TEST(ContentType, JunkAfterType) {
  Ctx c;
  const FieldValue v = parse_content_type("text/plain/html; charset=x", c.report);
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.type, "");
  EXPECT_TRUE(c.has("MIME_BAD_CONTENT_TYPE"));
  Ctx d;
  EXPECT_FALSE(parse_content_type("text/plain garbage", d.report).valid);
  EXPECT_TRUE(d.has("MIME_BAD_CONTENT_TYPE"));
  Ctx e;
  EXPECT_FALSE(parse_content_type("/plain", e.report).valid);
  EXPECT_TRUE(e.has("MIME_BAD_CONTENT_TYPE"));
  Ctx f;
  EXPECT_FALSE(parse_content_type("text/", f.report).valid);
  EXPECT_TRUE(f.has("MIME_BAD_CONTENT_TYPE"));
}

TEST(ContentType, Empty) {
  Ctx c;
  const FieldValue v = parse_content_type("", c.report);
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.type, "");
  EXPECT_TRUE(v.params.empty());
  EXPECT_TRUE(c.has("MIME_BAD_CONTENT_TYPE"));
}

TEST(ContentType, OnlyParameters) {
  Ctx c;
  const FieldValue v = parse_content_type("charset=utf-8", c.report);
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.type, "");
  ASSERT_EQ(v.params.size(), 1u);
  EXPECT_EQ(v.params[0].value, "utf-8");
}

TEST(ContentType, MissingSemicolonAfterType) {
  Ctx c;
  const FieldValue v = parse_content_type("multipart/mixed boundary=\"abc\"", c.report);
  EXPECT_TRUE(v.valid);
  EXPECT_EQ(v.type, "multipart/mixed");
  ASSERT_NE(v.param("boundary"), nullptr);
  EXPECT_EQ(v.param("boundary")->value, "abc");
  EXPECT_TRUE(c.has("MIME_BAD_PARAMS"));
  EXPECT_FALSE(c.has("MIME_BAD_CONTENT_TYPE"));
}

TEST(ContentType, MissingSemicolonBetweenParams) {
  Ctx c;
  const FieldValue v = parse_content_type("text/plain; a=1 b=\"2\" c=3;d=4", c.report);
  ASSERT_EQ(v.params.size(), 4u);
  EXPECT_EQ(v.params[0].value, "1");
  EXPECT_EQ(v.params[1].value, "2");
  EXPECT_EQ(v.params[2].value, "3");
  EXPECT_EQ(v.params[3].value, "4");
  EXPECT_TRUE(c.has("MIME_BAD_PARAMS"));
}

TEST(ContentType, UnquotedValueWithSpacesAndSpecials) {
  Ctx c;
  const FieldValue v = parse_content_type("application/pdf; name=my file (1).pdf; x=y", c.report);
  ASSERT_NE(v.param("name"), nullptr);
  EXPECT_EQ(v.param("name")->value, "my file (1).pdf");
  EXPECT_EQ(v.param("x")->value, "y");
  EXPECT_TRUE(c.has("MIME_BAD_PARAMS"));
  Ctx d;
  const FieldValue b = parse_content_type("multipart/mixed; boundary=----=_Part_0_1.2", d.report);
  EXPECT_EQ(b.param("boundary")->value, "----=_Part_0_1.2");
  EXPECT_TRUE(d.has("MIME_BAD_PARAMS"));
  Ctx e;
  const FieldValue q =
      parse_content_type("multipart/mixed; boundary=\"----=_Part_0_1.2\"", e.report);
  EXPECT_EQ(q.param("boundary")->value, "----=_Part_0_1.2");
  EXPECT_EQ(e.symbols.size(), 0u);
}

TEST(ContentType, UnterminatedQuote) {
  Ctx c;
  const FieldValue v = parse_content_type("text/plain; name=\"abc; def", c.report);
  EXPECT_TRUE(v.valid);
  ASSERT_NE(v.param("name"), nullptr);
  EXPECT_EQ(v.param("name")->value, "abc; def");
  EXPECT_TRUE(c.has("MIME_BAD_PARAMS"));
}

TEST(ContentType, BrokenParameters) {
  Ctx c;
  const FieldValue v = parse_content_type("text/plain; ; novalue; =x; charset=; ok=1", c.report);
  EXPECT_TRUE(v.valid);
  EXPECT_TRUE(c.has("MIME_BAD_PARAMS"));
  ASSERT_NE(v.param("ok"), nullptr);
  EXPECT_EQ(v.param("ok")->value, "1");
  ASSERT_NE(v.param("charset"), nullptr);
  EXPECT_EQ(v.param("charset")->value, "");
  // Empty parameters between ';' alone are harmless.
  Ctx d;
  parse_content_type("text/plain;; charset=utf-8;", d.report);
  EXPECT_EQ(d.symbols.size(), 0u);
}

TEST(ContentType, UnterminatedComment) {
  Ctx c;
  const FieldValue v = parse_content_type("text/plain; charset=utf-8 (oops", c.report);
  EXPECT_EQ(v.type, "text/plain");
  EXPECT_TRUE(c.has("MIME_BAD_PARAMS"));
}

TEST(ContentType, NamesLowerCased) {
  Ctx c;
  const FieldValue v = parse_content_type("text/plain; CHARSET=x; Name=Y", c.report);
  ASSERT_EQ(v.params.size(), 2u);
  EXPECT_EQ(v.params[0].name, "charset");
  EXPECT_EQ(v.params[1].name, "name");
  EXPECT_EQ(v.params[1].value, "Y");
}

TEST(ContentType, DuplicatePlainParameter) {
  Ctx c;
  const FieldValue v = parse_content_type("text/plain; charset=utf-8; Charset=koi8-r", c.report);
  const auto all = v.all("charset");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]->value, "utf-8");
  EXPECT_EQ(all[1]->value, "koi8-r");
  EXPECT_EQ(v.param("charset")->value, "utf-8");
  EXPECT_TRUE(c.has("MIME_DUP_PARAM"));
  EXPECT_NE(c.detail("MIME_DUP_PARAM").find("charset"), std::string::npos);
  EXPECT_FALSE(c.has("MIME_PARAM_2231_CONFLICT"));
}

TEST(ContentType, Raw8BitValues) {
  Ctx c;
  const FieldValue v = parse_content_type("text/plain; name=\"caf\xC3\xA9.txt\"", c.report);
  EXPECT_EQ(v.param("name")->value, "caf\xC3\xA9.txt");
  EXPECT_EQ(c.symbols.size(), 0u);
  Ctx d;
  const FieldValue w = parse_content_type("text/plain; name=\"caf\xE9.txt\"", d.report);
  EXPECT_EQ(w.param("name")->value, "caf\xC3\xA9.txt");
  EXPECT_TRUE(d.has("MIME_HEADER_8BIT"));
  // A boundary keeps its exact bytes: it must match the body's delimiter lines.
  Ctx e;
  const FieldValue b = parse_content_type("multipart/mixed; boundary=\"a\xE9\"", e.report);
  EXPECT_EQ(b.param("boundary")->value, "a\xE9");
}

// --- RFC 2231 --------------------------------------------------------------------------------

TEST(Rfc2231, ExtendedValue) {
  Ctx c;
  const FieldValue v =
      parse_content_type("application/pdf; name*=UTF-8''%E2%82%AC%20rates.pdf", c.report);
  ASSERT_EQ(v.params.size(), 1u);
  EXPECT_EQ(v.params[0].name, "name");
  EXPECT_EQ(v.params[0].value, "\xE2\x82\xAC rates.pdf");
  EXPECT_EQ(v.params[0].charset, "utf-8");
  EXPECT_TRUE(v.params[0].rfc2231);
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(Rfc2231, Rfc2231Examples) {
  Ctx c;
  const FieldValue a = parse_content_type(
      "application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A", c.report);
  EXPECT_EQ(a.param("title")->value, "This is ***fun***");
  const FieldValue b = parse_content_type(
      "message/external-body; access-type=URL; URL*0=\"ftp://\"; "
      "URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"",
      c.report);
  ASSERT_NE(b.param("url"), nullptr);
  EXPECT_EQ(b.param("url")->value, "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar");
  EXPECT_TRUE(b.param("url")->rfc2231);
  EXPECT_EQ(b.param("access-type")->value, "URL");
  const FieldValue d = parse_content_type(
      "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; "
      "title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"",
      c.report);
  ASSERT_EQ(d.params.size(), 1u);
  EXPECT_EQ(d.params[0].value, "This is even more ***fun*** isn't it!");
  EXPECT_EQ(d.params[0].charset, "us-ascii");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(Rfc2231, OutOfOrderSegments) {
  Ctx c;
  const FieldValue v = parse_disposition(
      "attachment; filename*1=\"voice.\"; filename*2=\"pdf\"; filename*0=\"in\"", c.report);
  ASSERT_EQ(v.all("filename").size(), 1u);
  EXPECT_EQ(v.param("filename")->value, "invoice.pdf");
  EXPECT_TRUE(c.has("MIME_RFC2231_OUT_OF_ORDER"));
  EXPECT_FALSE(c.has("MIME_RFC2231_GAP"));
  EXPECT_FALSE(c.has("MIME_RFC2231_DUP_SEGMENT"));
}

TEST(Rfc2231, OutOfOrderExtendedSegmentsKeepCharset) {
  Ctx c;
  const FieldValue v =
      parse_disposition("attachment; filename*1*=%E9.txt; filename*0*=iso-8859-1''caf", c.report);
  EXPECT_EQ(v.param("filename")->value, "caf\xC3\xA9.txt");
  EXPECT_EQ(v.param("filename")->charset, "iso-8859-1");
  EXPECT_TRUE(c.has("MIME_RFC2231_OUT_OF_ORDER"));
}

TEST(Rfc2231, GapKeepsBothReadings) {
  Ctx c;
  const FieldValue v =
      parse_disposition("attachment; filename*0=\"invoice\"; filename*2=\".exe\"", c.report);
  const auto all = v.all("filename");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]->value, "invoice");  // Thunderbird stops at the gap
  EXPECT_EQ(all[1]->value, "invoice.exe");
  EXPECT_TRUE(c.has("MIME_RFC2231_GAP"));
  EXPECT_FALSE(c.has("MIME_RFC2231_OUT_OF_ORDER"));
  // Segment 0 missing: only the joined reading.
  Ctx d;
  const FieldValue w =
      parse_disposition("attachment; filename*1=\"a\"; filename*2=\"b\"", d.report);
  ASSERT_EQ(w.all("filename").size(), 1u);
  EXPECT_EQ(w.param("filename")->value, "ab");
  EXPECT_TRUE(d.has("MIME_RFC2231_GAP"));
}

TEST(Rfc2231, DuplicateSegment) {
  Ctx c;
  const FieldValue v = parse_disposition(
      "attachment; filename*0=\"safe\"; filename*1=\".pdf\"; filename*0=\"evil\"", c.report);
  const auto all = v.all("filename");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]->value, "safe.pdf");
  EXPECT_EQ(all[1]->value, "evil.pdf");
  EXPECT_TRUE(c.has("MIME_RFC2231_DUP_SEGMENT"));
  EXPECT_TRUE(c.has("MIME_RFC2231_OUT_OF_ORDER"));
  EXPECT_FALSE(c.has("MIME_RFC2231_GAP"));
}

TEST(Rfc2231, CharsetConversion) {
  Ctx c;
  const FieldValue v =
      parse_disposition("attachment; filename*=shift_jis''%93%FA%96%7B.txt", c.report);
  EXPECT_EQ(v.param("filename")->value, "\xE6\x97\xA5\xE6\x9C\xAC.txt");
  EXPECT_EQ(v.param("filename")->charset, "shift_jis");
  EXPECT_EQ(c.symbols.size(), 0u);
  Ctx d;
  const FieldValue w = parse_disposition("attachment; filename*=x-bogus''a%E9", d.report);
  EXPECT_EQ(w.param("filename")->value, "a\xC3\xA9");
  EXPECT_TRUE(d.has("MIME_CHARSET_UNKNOWN"));
}

TEST(Rfc2231, MalformedExtendedValues) {
  Ctx c;
  const FieldValue v = parse_disposition("attachment; filename*=abc%zz", c.report);
  EXPECT_EQ(v.param("filename")->value, "abc%zz");
  EXPECT_TRUE(c.has("MIME_BAD_PARAMS"));
  Ctx d;
  const FieldValue w = parse_disposition("attachment; filename*=utf-8'x%41", d.report);
  EXPECT_EQ(w.param("filename")->value, "xA");
  EXPECT_TRUE(d.has("MIME_BAD_PARAMS"));
  Ctx e;
  const FieldValue big = parse_disposition("attachment; filename*0=a; filename*99999=b", e.report);
  EXPECT_EQ(big.param("filename")->value, "a");
  EXPECT_TRUE(e.has("MIME_BAD_PARAMS"));
}

TEST(Rfc2231, PlainAndExtendedBothKept) {
  Ctx c;
  const FieldValue v = parse_disposition(
      "attachment; filename=\"report.pdf\"; filename*=utf-8''report.pdf", c.report);
  const auto all = v.all("filename");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_FALSE(all[0]->rfc2231);
  EXPECT_TRUE(all[1]->rfc2231);
  EXPECT_FALSE(c.has("MIME_PARAM_2231_CONFLICT"));
  EXPECT_FALSE(c.has("MIME_DUP_PARAM"));
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(Rfc2231, PlainAndExtendedConflict) {
  Ctx c;
  const FieldValue v = parse_disposition(
      "attachment; filename*=utf-8''invoice.exe; filename=\"invoice.pdf\"", c.report);
  const auto all = v.all("filename");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]->value, "invoice.exe");  // document order
  EXPECT_EQ(all[1]->value, "invoice.pdf");
  EXPECT_TRUE(c.has("MIME_PARAM_2231_CONFLICT"));
  EXPECT_NE(c.detail("MIME_PARAM_2231_CONFLICT").find("filename"), std::string::npos);
  // The same with continuations.
  Ctx d;
  parse_content_type("application/octet-stream; name=\"a.pdf\"; name*0=\"a.\"; name*1=\"exe\"",
                     d.report);
  EXPECT_TRUE(d.has("MIME_PARAM_2231_CONFLICT"));
}

TEST(Rfc2231, EncodedWordsInPlainValues) {
  Ctx c;
  const FieldValue v =
      parse_content_type("application/octet-stream; name=\"=?utf-8?B?w6kudHh0?=\"", c.report);
  EXPECT_EQ(v.param("name")->value, "\xC3\xA9.txt");
  EXPECT_TRUE(c.has("MIME_ENCODED_WORD_IN_PARAM"));
  Ctx d;
  const FieldValue w =
      parse_disposition("attachment; filename==?iso-8859-1?Q?caf=E9.txt?=; size=3", d.report);
  EXPECT_EQ(w.param("filename")->value, "caf\xC3\xA9.txt");
  EXPECT_TRUE(d.has("MIME_ENCODED_WORD_IN_PARAM"));
  // Outlook sends both forms; decoded they agree, so no conflict.
  Ctx e;
  parse_disposition("attachment; filename=\"=?utf-8?B?w6kudHh0?=\"; filename*=utf-8''%C3%A9.txt",
                    e.report);
  EXPECT_TRUE(e.has("MIME_ENCODED_WORD_IN_PARAM"));
  EXPECT_FALSE(e.has("MIME_PARAM_2231_CONFLICT"));
  // "=?" that is no encoded-word: nothing decoded, nothing reported as one.
  Ctx g;
  const FieldValue n = parse_disposition("attachment; filename=\"caf\xE9 =?.txt\"", g.report);
  EXPECT_EQ(n.param("filename")->value, "caf\xC3\xA9 =?.txt");
  EXPECT_TRUE(g.has("MIME_HEADER_8BIT"));
  EXPECT_FALSE(g.has("MIME_ENCODED_WORD_IN_PARAM"));
  Ctx h;
  const FieldValue u = parse_disposition("attachment; filename=\"=?utf-8?q?abc.txt\"", h.report);
  EXPECT_EQ(u.param("filename")->value, "=?utf-8?q?abc.txt");
  EXPECT_TRUE(h.has("MIME_ENCODED_WORD_BAD"));
  EXPECT_FALSE(h.has("MIME_ENCODED_WORD_IN_PARAM"));
  // Boundaries and other parameters are never decoded.
  Ctx f;
  const FieldValue b = parse_content_type("multipart/mixed; boundary=\"=?x?q?y?=\"", f.report);
  EXPECT_EQ(b.param("boundary")->value, "=?x?q?y?=");
  EXPECT_FALSE(f.has("MIME_ENCODED_WORD_IN_PARAM"));
}

// --- Content-Disposition -------------------------------------------------------------------

TEST(Disposition, Types) {
  Ctx c;
  const FieldValue a = parse_disposition("attachment; filename=\"a.pdf\"", c.report);
  EXPECT_TRUE(a.valid);
  EXPECT_EQ(a.type, "attachment");
  EXPECT_EQ(a.param("filename")->value, "a.pdf");
  const FieldValue i = parse_disposition("INLINE", c.report);
  EXPECT_EQ(i.type, "inline");
  EXPECT_TRUE(i.params.empty());
  const FieldValue o = parse_disposition("X-Custom; size=10", c.report);
  EXPECT_EQ(o.type, "x-custom");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(Disposition, MissingOrJunkType) {
  Ctx c;
  const FieldValue v = parse_disposition("filename=\"a.pdf\"", c.report);
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.type, "");
  EXPECT_EQ(v.param("filename")->value, "a.pdf");
  EXPECT_TRUE(c.has("MIME_BAD_PARAMS"));
  Ctx d;
  const FieldValue w = parse_disposition("attachment junk; filename=a.pdf", d.report);
  EXPECT_EQ(w.type, "attachment");  // clients take the first token
  EXPECT_EQ(w.param("filename")->value, "a.pdf");
  EXPECT_TRUE(d.has("MIME_BAD_PARAMS"));
  EXPECT_FALSE(d.has("MIME_BAD_CONTENT_TYPE"));
}

// --- pathological parameter input ------------------------------------------------------------

TEST(ContentType, HostileInputsFinish) {
  const std::size_t n = 1u << 20;
  for (const std::string& in :
       {std::string("text/plain; a=") + std::string(n, '('), "text/plain " + std::string(n, '('),
        std::string(n, '('), std::string(n, '"'), "text/plain; a=" + std::string(n, '"'),
        std::string(n, ';'), std::string(n, '='), std::string(n, ' '), std::string(n, '\\'),
        "text/plain; a=\"" + std::string(n, '\\')}) {
    Ctx c;
    const FieldValue v = parse_content_type(in, c.report);
    EXPECT_LE(v.params.size(), 1024u);
    Ctx d;
    parse_disposition(in, d.report);
  }
  std::string many = "text/plain";
  for (int i = 0; i < 100000; ++i) many += "; p" + std::to_string(i) + "=v";
  Ctx c;
  const FieldValue v = parse_content_type(many, c.report);
  EXPECT_EQ(v.params.size(), 1024u);
  EXPECT_TRUE(c.has("MIME_BAD_PARAMS"));
  std::string spaced = "text/plain; a=";
  for (int i = 0; i < 200000; ++i) spaced += "x ";
  Ctx d;
  EXPECT_EQ(parse_content_type(spaced, d.report).param("a")->value.size(), 399999u);
  std::string segments = "attachment";
  for (int i = 1000; i >= 0; --i) segments += "; filename*" + std::to_string(i) + "=x";
  Ctx e;
  const FieldValue s = parse_disposition(segments, e.report);
  ASSERT_EQ(s.params.size(), 1u);
  EXPECT_EQ(s.params[0].value, std::string(1000, 'x'));  // segment 1000 is beyond the limit
  EXPECT_TRUE(e.has("MIME_BAD_PARAMS"));
  EXPECT_TRUE(e.has("MIME_RFC2231_OUT_OF_ORDER"));
}

// --- RFC 2047 encoded-words ------------------------------------------------------------------

TEST(EncodedWords, PlainTextUntouched) {
  Ctx c;
  EXPECT_EQ(decode_encoded_words("Hello, world = ? yes", c.report), "Hello, world = ? yes");
  EXPECT_EQ(decode_encoded_words("Gr\xC3\xBC\xC3\x9F"
                                 "e",
                                 c.report),
            "Gr\xC3\xBC\xC3\x9F"
            "e");
  EXPECT_EQ(decode_encoded_words("1+1=?", c.report), "1+1=?");
  EXPECT_EQ(decode_encoded_words("x=??y", c.report), "x=??y");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(EncodedWords, QAndB) {
  Ctx c;
  EXPECT_EQ(decode_encoded_words("=?utf-8?Q?caf=C3=A9_au_lait?=", c.report), "caf\xC3\xA9 au lait");
  EXPECT_EQ(decode_encoded_words("=?UTF-8?B?Y2Fmw6k=?=", c.report), "caf\xC3\xA9");
  EXPECT_EQ(decode_encoded_words("=?utf-8?q?x?=", c.report), "x");     // lower-case q
  EXPECT_EQ(decode_encoded_words("=?utf-8?b?eA==?=", c.report), "x");  // lower-case b
  EXPECT_EQ(decode_encoded_words("Re: =?utf-8?q?x?= (fwd)", c.report), "Re: x (fwd)");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(EncodedWords, Rfc2047Examples) {
  Ctx c;
  EXPECT_EQ(decode_encoded_words("=?ISO-8859-1?Q?a?=", c.report), "a");
  EXPECT_EQ(decode_encoded_words("=?ISO-8859-1?Q?a?= b", c.report), "a b");
  EXPECT_EQ(decode_encoded_words("=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=", c.report), "ab");
  EXPECT_EQ(decode_encoded_words("=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=", c.report), "ab");
  EXPECT_EQ(decode_encoded_words("=?ISO-8859-1?Q?a?=\r\n   =?ISO-8859-1?Q?b?=", c.report), "ab");
  EXPECT_EQ(decode_encoded_words("=?ISO-8859-1?Q?a_b?=", c.report), "a b");
  EXPECT_EQ(decode_encoded_words("=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=", c.report), "a b");
  EXPECT_EQ(decode_encoded_words("=?US-ASCII*EN?Q?Keith_Moore?=", c.report), "Keith Moore");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(EncodedWords, Utf8CharacterSplitAcrossWords) {
  Ctx c;
  // U+20AC is E2 82 AC: the first word carries E2 82, the second AC.
  EXPECT_EQ(decode_encoded_words("=?utf-8?B?4oI=?= =?utf-8?B?rA==?=", c.report), "\xE2\x82\xAC");
  EXPECT_EQ(decode_encoded_words("=?utf-8?Q?=E2=82?=\r\n =?UTF-8?Q?=AC?= x", c.report),
            "\xE2\x82\xAC x");
  EXPECT_EQ(decode_encoded_words("=?utf-8?B?4oI=?= =?utf-8?Q?=AC?=", c.report), "\xE2\x82\xAC");
  EXPECT_EQ(c.symbols.size(), 0u);
  // Decoded separately, each half would be garbage.
  std::string half;
  charset_to_utf8("\xE2\x82", "utf-8", half);
  EXPECT_EQ(half, "\xEF\xBF\xBD");
}

TEST(EncodedWords, Base64SplitMidQuantum) {
  Ctx c;
  // "w6k=" split as "w6" + "k=": the encoded text is joined as Thunderbird does.
  EXPECT_EQ(decode_encoded_words("=?utf-8?B?w6?= =?utf-8?B?k=?=", c.report), "\xC3\xA9");
  EXPECT_TRUE(c.has("MIME_ENCODED_WORD_BAD"));
}

TEST(EncodedWords, Japanese) {
  const std::string nihongo = "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E";
  Ctx c;
  EXPECT_EQ(decode_encoded_words("=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=", c.report), nihongo);
  EXPECT_EQ(decode_encoded_words(
                "=?iso-2022-jp?B?GyRCRnxLXBsoQg==?= =?iso-2022-jp?B?GyRCOGwbKEI=?=", c.report),
            nihongo);
  EXPECT_EQ(decode_encoded_words("=?shift_jis?Q?=93=FA=96=7B=8C=EA?=", c.report), nihongo);
  EXPECT_EQ(decode_encoded_words("=?x-sjis?B?k/qWe4zq?=", c.report), nihongo);
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(EncodedWords, OtherCharsets) {
  Ctx c;
  EXPECT_EQ(decode_encoded_words("=?windows-1252?Q?=93hi=94?=", c.report),
            "\xE2\x80\x9Chi\xE2\x80\x9D");
  EXPECT_EQ(decode_encoded_words("=?KOI8-R?B?8NLJ18XU?=", c.report),
            "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
  EXPECT_EQ(decode_encoded_words("=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?=", c.report),
            "\xC3\xA9\xC3\xA9");
  EXPECT_EQ(decode_encoded_words("=?ks_c_5601-1987?B?x9GxuQ==?=", c.report),
            "\xED\x95\x9C\xEA\xB5\xAD");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(EncodedWords, Unseparated) {
  Ctx c;
  EXPECT_EQ(decode_encoded_words("abc=?utf-8?q?x?=def", c.report), "abcxdef");
  EXPECT_TRUE(c.has("MIME_ENCODED_WORD_UNSEPARATED"));
  Ctx d;
  EXPECT_EQ(decode_encoded_words("=?utf-8?q?a?==?utf-8?q?b?=", d.report), "ab");
  EXPECT_TRUE(d.has("MIME_ENCODED_WORD_UNSEPARATED"));
  Ctx e;
  EXPECT_EQ(decode_encoded_words("x =?utf-8?q?a?= y", e.report), "x a y");
  EXPECT_FALSE(e.has("MIME_ENCODED_WORD_UNSEPARATED"));
}

TEST(EncodedWords, SpacesInside) {
  // Thunderbird reads to the first "?=", spaces included.
  Ctx c;
  EXPECT_EQ(decode_encoded_words("=?utf-8?q?hello world?= x", c.report), "hello world x");
  EXPECT_TRUE(c.has("MIME_ENCODED_WORD_BAD"));
  Ctx d;
  EXPECT_EQ(decode_encoded_words("=?utf-8?B?Y2Fm w6k=?=", d.report), "caf\xC3\xA9");
  EXPECT_TRUE(d.has("MIME_ENCODED_WORD_BAD"));
}

TEST(EncodedWords, Unterminated) {
  Ctx c;
  EXPECT_EQ(decode_encoded_words("Re: =?utf-8?q?abc", c.report), "Re: =?utf-8?q?abc");
  EXPECT_TRUE(c.has("MIME_ENCODED_WORD_BAD"));
  // A control character inside ends the attempt; the text stays literal.
  Ctx d;
  EXPECT_EQ(decode_encoded_words("=?utf-8?q?a\tb?=", d.report), "=?utf-8?q?a\tb?=");
  EXPECT_TRUE(d.has("MIME_ENCODED_WORD_BAD"));
}

TEST(EncodedWords, UnknownEncodingAndEmpty) {
  Ctx c;
  EXPECT_EQ(decode_encoded_words("=?utf-8?x?abc?=", c.report), "=?utf-8?x?abc?=");
  EXPECT_TRUE(c.has("MIME_ENCODED_WORD_BAD"));
  Ctx d;
  EXPECT_EQ(decode_encoded_words("a =?utf-8?q?"
                                 "?= b",
                                 d.report),
            "a  b");
  EXPECT_TRUE(d.has("MIME_ENCODED_WORD_BAD"));
  Ctx e;
  EXPECT_EQ(decode_encoded_words("=?utf-8?q?100=?=", e.report), "100=");
  EXPECT_TRUE(e.has("MIME_ENCODED_WORD_BAD"));
  Ctx f;
  EXPECT_EQ(decode_encoded_words("=?utf-8?B?!!!Y2Fm?=", f.report), "caf");
  EXPECT_TRUE(f.has("MIME_ENCODED_WORD_BAD"));
}

TEST(EncodedWords, UnknownCharset) {
  Ctx c;
  EXPECT_EQ(decode_encoded_words("=?x-bogus?q?caf=E9?=", c.report), "caf\xC3\xA9");
  EXPECT_TRUE(c.has("MIME_CHARSET_UNKNOWN"));
  EXPECT_NE(c.detail("MIME_CHARSET_UNKNOWN").find("x-bogus"), std::string::npos);
}

TEST(EncodedWords, Raw8Bit) {
  Ctx c;
  EXPECT_EQ(decode_encoded_words("caf\xC3\xA9 =?utf-8?q?x?=", c.report), "caf\xC3\xA9 x");
  EXPECT_FALSE(c.has("MIME_HEADER_8BIT"));
  Ctx d;
  EXPECT_EQ(decode_encoded_words("\x93quoted\x94 =?utf-8?q?x?=", d.report),
            "\xE2\x80\x9Cquoted\xE2\x80\x9D x");
  EXPECT_TRUE(d.has("MIME_HEADER_8BIT"));
  Ctx e;
  EXPECT_EQ(decode_encoded_words("caf\xE9", e.report), "caf\xC3\xA9");
  EXPECT_TRUE(e.has("MIME_HEADER_8BIT"));
}

TEST(EncodedWords, OutputAlwaysValidUtf8) {
  Ctx c;
  for (const char* in : {"=?utf-8?q?=FF=FE?=", "=?utf-8?b?/w==?=", "=?iso-2022-jp?q?=1B$B?=",
                         "\xFF\xFE=?utf-8?q?=C3?=", "=?utf-16?b?2D0=?=", "=?utf-7?q?+2D0-?="}) {
    EXPECT_TRUE(is_valid_utf8(decode_encoded_words(in, c.report))) << in;
  }
}

TEST(EncodedWords, HostileInputsFinish) {
  const std::size_t n = 1u << 20;
  std::string eq;
  for (std::size_t i = 0; i < n / 2; ++i) eq += "=?";
  Ctx c;
  EXPECT_TRUE(decode_encoded_words(eq, c.report) == eq);

  std::string unterminated;
  while (unterminated.size() + 7 <= n) unterminated += "=?a?q?a";
  Ctx d;
  EXPECT_TRUE(decode_encoded_words(unterminated, d.report) == unterminated);
  EXPECT_TRUE(d.has("MIME_ENCODED_WORD_BAD"));

  std::string words;
  std::size_t count = 0;
  while (words.size() < n) {
    words += "=?utf-8?q?ab?= ";
    ++count;
  }
  Ctx e;
  EXPECT_EQ(decode_encoded_words(words, e.report).size(), count * 2 + 1);  // + trailing space
  EXPECT_EQ(e.symbols.size(), 0u);

  std::string charsets;  // alternating charsets: every word flushes
  while (charsets.size() < n) charsets += "=?koi8-r?q?=F0?= =?iso-8859-1?q?=E9?= ";
  Ctx f;
  EXPECT_TRUE(is_valid_utf8(decode_encoded_words(charsets, f.report)));
}

TEST(EncodedWords, OutputIsBounded) {
  // 1.5 MiB of windows-1252 smart quotes would become 4.5 MiB of UTF-8.
  const std::string in(3u << 19, '\x93');
  Ctx c;
  const std::string out = decode_encoded_words(in, c.report);
  EXPECT_LE(out.size(), 1u << 20);
  EXPECT_TRUE(is_valid_utf8(out));
  EXPECT_TRUE(c.has("MIME_LIMIT_HEADER_BYTES"));
}

// --- addresses -------------------------------------------------------------------------------

TEST(Address, NameAngleAddr) {
  Ctx c;
  const auto a = parse_address_list("John Doe <John.Doe@Example.COM>", c.report);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].display_name, "John Doe");
  EXPECT_EQ(a[0].local_part, "John.Doe");
  EXPECT_EQ(a[0].domain, "example.com");
  EXPECT_EQ(a[0].address(), "John.Doe@example.com");
  EXPECT_EQ(a[0].group, "");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(Address, CleanListRaisesNothing) {
  Ctx c;
  const auto a = parse_address_list(
      "a@b.org, \"Doe, Jane\" <jane@x.net>, e@f.com (Eff), <g@h.io>, \"Q. P.\" <\"q "
      "p\"@[10.0.0.1]>",
      c.report);
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[0].address(), "a@b.org");
  EXPECT_EQ(a[1].display_name, "Doe, Jane");
  EXPECT_EQ(a[1].address(), "jane@x.net");
  EXPECT_EQ(a[2].display_name, "Eff");
  EXPECT_EQ(a[3].display_name, "");
  EXPECT_EQ(a[3].address(), "g@h.io");
  EXPECT_EQ(a[4].local_part, "q p");
  EXPECT_EQ(a[4].domain, "[10.0.0.1]");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(Address, CommentsNestedAndEscaped) {
  Ctx c;
  const auto a = parse_address_list("a@b (x (y) \\) z)", c.report);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].display_name, "x (y) ) z");
  const auto b = parse_address_list(
      "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", c.report);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].display_name, "Pete");
  EXPECT_EQ(b[0].address(), "pete@silly.test");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(Address, QuotedStringsWithEscapes) {
  Ctx c;
  const auto a = parse_address_list(R"("a \"b\" \\c" <"x\"y"@z.com>)", c.report);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].display_name, "a \"b\" \\c");
  EXPECT_EQ(a[0].local_part, "x\"y");
  EXPECT_EQ(a[0].domain, "z.com");
  const auto b = parse_address_list("\"john smith\"@example.com", c.report);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].local_part, "john smith");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(Address, Groups) {
  Ctx c;
  const auto a = parse_address_list("Undisclosed: a@b.com, C <c@d.com>;, e@f.com", c.report);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].group, "Undisclosed");
  EXPECT_EQ(a[1].group, "Undisclosed");
  EXPECT_EQ(a[1].display_name, "C");
  EXPECT_EQ(a[2].group, "");
  EXPECT_EQ(c.symbols.size(), 0u);
  Ctx d;
  EXPECT_TRUE(parse_address_list("undisclosed-recipients:;", d.report).empty());
  EXPECT_EQ(d.symbols.size(), 0u);
  Ctx e;
  const auto g = parse_address_list("=?utf-8?q?Gr=C3=BCn?=: a@b.c;", e.report);
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].group, "Gr\xC3\xBCn");
}

TEST(Address, GroupWithoutSemicolon) {
  Ctx c;
  const auto a = parse_address_list("List: a@b.c, d@e.f", c.report);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1].group, "List");
  EXPECT_TRUE(c.has("MIME_ADDRESS_BAD"));
}

TEST(Address, RouteAddress) {
  Ctx c;
  const auto a =
      parse_address_list("Old <@relay1.example,@relay2.example:joe@example.org>, x@y.z", c.report);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].display_name, "Old");
  EXPECT_EQ(a[0].address(), "joe@example.org");
  EXPECT_EQ(a[1].address(), "x@y.z");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(Address, ObsoleteSpacesAroundDots) {
  Ctx c;
  const auto a = parse_address_list("john . smith @ example . com", c.report);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].address(), "john.smith@example.com");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(Address, MissingAngleBrackets) {
  Ctx c;
  const auto a = parse_address_list("John Smith john@example.com", c.report);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].display_name, "John Smith");
  EXPECT_EQ(a[0].address(), "john@example.com");
  EXPECT_TRUE(c.has("MIME_ADDRESS_BAD"));
}

TEST(Address, MultipleAt) {
  Ctx c;
  const auto a = parse_address_list("a@b@c.com", c.report);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].local_part, "a@b");
  EXPECT_EQ(a[0].domain, "c.com");
  EXPECT_TRUE(c.has("MIME_ADDRESS_BAD"));
  Ctx d;
  const auto b = parse_address_list("X <paypal.com@evil@attacker.net>", d.report);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].local_part, "paypal.com@evil");
  EXPECT_EQ(b[0].domain, "attacker.net");
  EXPECT_TRUE(d.has("MIME_ADDRESS_BAD"));
}

TEST(Address, EncodedWordDisplayName) {
  Ctx c;
  const auto a =
      parse_address_list("=?utf-8?q?J=C3=B6rg?= =?utf-8?q?_M=C3=BCller?= <j@x.de>", c.report);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].display_name, "J\xC3\xB6rg M\xC3\xBCller");
  const auto b = parse_address_list("\"=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=\" <j@x.jp>", c.report);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].display_name, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(Address, DisplayNameContainingAnAddress) {
  Ctx c;
  const auto a = parse_address_list("\"service@paypal.com\" <phish@evil.example>", c.report);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].display_name, "service@paypal.com");
  EXPECT_EQ(a[0].address(), "phish@evil.example");
  EXPECT_EQ(c.symbols.size(), 0u);
  Ctx d;
  const auto b = parse_address_list("service@paypal.com <phish@evil.example>", d.report);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].display_name, "service@paypal.com");
  EXPECT_EQ(b[0].address(), "phish@evil.example");
  EXPECT_TRUE(d.has("MIME_ADDRESS_BAD"));  // unquoted '@' in a display name
}

TEST(Address, Unterminated) {
  Ctx c;
  const auto a = parse_address_list("Name <a@b.com", c.report);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].display_name, "Name");
  EXPECT_EQ(a[0].address(), "a@b.com");
  EXPECT_TRUE(c.has("MIME_ADDRESS_BAD"));
  Ctx d;
  const auto b = parse_address_list("\"Name <a@b.com>", d.report);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].address(), "a@b.com");
  EXPECT_TRUE(d.has("MIME_ADDRESS_BAD"));
  Ctx e;
  const auto x = parse_address_list("a@b.com (unterminated", e.report);
  ASSERT_EQ(x.size(), 1u);
  EXPECT_EQ(x[0].address(), "a@b.com");
  EXPECT_TRUE(e.has("MIME_ADDRESS_BAD"));
}

TEST(Address, TwoAngleAddressesInOneMailbox) {
  Ctx c;
  const auto a = parse_address_list("Bank <bank@bank.example> <evil@evil.example>", c.report);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].address(), "bank@bank.example");
  EXPECT_EQ(a[1].address(), "evil@evil.example");
  EXPECT_TRUE(c.has("MIME_ADDRESS_BAD"));
}

TEST(Address, OtherIrregularities) {
  for (const char* in : {"a@b.c; d@e.f", "a@", "@b.c", "<>", "Name <>", "a@b.c >", "root",
                         "(just a comment)", "a@b.c junk", "x@y:z", "a@b..c"}) {
    Ctx c;
    parse_address_list(in, c.report);
    EXPECT_TRUE(c.has("MIME_ADDRESS_BAD")) << in;
  }
  Ctx c;
  const auto root = parse_address_list("root", c.report);
  ASSERT_EQ(root.size(), 1u);
  EXPECT_EQ(root[0].local_part, "root");
  EXPECT_EQ(root[0].domain, "");
  EXPECT_EQ(root[0].address(), "root");
}

TEST(Address, EmptyElementsAreSkipped) {
  Ctx c;
  const auto a = parse_address_list(",, a@b.c ,,", c.report);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(c.symbols.size(), 0u);
  EXPECT_TRUE(parse_address_list("", c.report).empty());
}

TEST(Address, Raw8Bit) {
  Ctx c;
  const auto a = parse_address_list("Caf\xC3\xA9 <a@b.c>", c.report);
  EXPECT_EQ(a[0].display_name, "Caf\xC3\xA9");
  EXPECT_EQ(c.symbols.size(), 0u);
  Ctx d;
  const auto b = parse_address_list("Caf\xE9 <a\xE9@b.c>", d.report);
  EXPECT_EQ(b[0].display_name, "Caf\xC3\xA9");
  EXPECT_EQ(b[0].local_part, "a\xC3\xA9");
  EXPECT_TRUE(d.has("MIME_HEADER_8BIT"));
}

TEST(Address, HostileInputsFinish) {
  const std::size_t n = 1u << 20;
  Ctx c;
  EXPECT_TRUE(parse_address_list(std::string(n, '('), c.report).empty());
  EXPECT_TRUE(c.has("MIME_ADDRESS_BAD"));
  Ctx d;
  EXPECT_TRUE(parse_address_list(std::string(n, '"'), d.report).empty());
  Ctx e;
  const auto angles = parse_address_list(std::string(n, '<'), e.report);
  EXPECT_LE(angles.size(), 1u);
  EXPECT_TRUE(e.has("MIME_ADDRESS_BAD"));
  Ctx f;
  std::string many;
  while (many.size() < n) many += "a@b,";
  EXPECT_EQ(parse_address_list(many, f.report).size(), 10000u);
  EXPECT_TRUE(f.has("MIME_ADDRESS_BAD"));
  Ctx g;
  std::string escaped_quotes = "\"";
  while (escaped_quotes.size() < n) escaped_quotes += "\\\"";
  parse_address_list(escaped_quotes, g.report);
  EXPECT_TRUE(g.has("MIME_ADDRESS_BAD"));
  Ctx h;
  std::string routes = "<";
  while (routes.size() < n) routes += "@a,";
  EXPECT_LE(parse_address_list(routes, h.report).size(), 1u);
  Ctx i;
  std::string colons = "a@b";
  colons += std::string(n, ':');
  EXPECT_EQ(parse_address_list(colons, i.report).size(), 1u);
  Ctx j;
  std::string words;
  while (words.size() < n) words += "w ";
  words += "<x@y.z>";
  const auto w = parse_address_list(words, j.report);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].address(), "x@y.z");
  Ctx k;
  for (const std::string& in :
       {std::string(n, '@'), std::string(n, '.'), std::string(n, ')'), std::string(n, '['),
        std::string(n, '>'), std::string(n, ';'), std::string(n, '\\')})
    parse_address_list(in, k.report);
}

}  // namespace
}  // namespace bulwark::mime
