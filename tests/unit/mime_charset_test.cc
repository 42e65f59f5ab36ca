// Charset conversion: fast paths, aliases, ICU conversions, detection, and the symbols.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/symbol.h"
#include "mime/charset.h"

namespace bulwark::mime {
namespace {

struct Ctx {
  SymbolSet symbols;
  Report report{symbols, ""};
};

TextResult convert(Ctx& c, std::string_view bytes, std::string_view label, bool detect = false) {
  return to_utf8(bytes, label, detect, c.report);
}

// --- is_valid_utf8 ------------------------------------------------------------------------

TEST(IsValidUtf8, AcceptsWellFormed) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii text that is longer than eight bytes"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9"));           // U+00E9
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));          // U+20AC
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));      // U+1F600
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));      // U+10FFFF
  EXPECT_TRUE(is_valid_utf8("\xED\x9F\xBF"));          // U+D7FF, just below surrogates
  EXPECT_TRUE(is_valid_utf8(std::string("a\0b", 3)));  // NUL is valid UTF-8
}

TEST(IsValidUtf8, RejectsIllFormed) {
  EXPECT_FALSE(is_valid_utf8("\xC0\x80"));          // overlong NUL
  EXPECT_FALSE(is_valid_utf8("\xC1\xBF"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xF0\x80\x80\xAF"));  // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // U+D800 surrogate
  EXPECT_FALSE(is_valid_utf8("\xED\xBF\xBF"));      // U+DFFF surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xFF"));
  EXPECT_FALSE(is_valid_utf8("\x80"));      // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));  // truncated
  EXPECT_FALSE(is_valid_utf8("caf\xE9"));   // Latin-1
  // The invalid byte after a run of ASCII chunks is still found.
  EXPECT_FALSE(is_valid_utf8("0123456789abcdefghij\xE9xyz"));
  EXPECT_FALSE(is_valid_utf8("01234567\x80"));
}

// --- fast paths --------------------------------------------------------------------------

TEST(ToUtf8, AsciiWithoutLabel) {
  Ctx c;
  const TextResult r = convert(c, "hello world", "");
  EXPECT_EQ(r.utf8, "hello world");
  EXPECT_EQ(r.charset, "us-ascii");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(ToUtf8, Utf8LabelAndAliases) {
  for (std::string_view label : {"utf-8", "UTF-8", "utf8", " \"UTF8\" ", "'utf-8'"}) {
    Ctx c;
    const TextResult r = convert(c,
                                 "Gr\xC3\xBC\xC3\x9F"
                                 "e",
                                 label);
    EXPECT_EQ(r.utf8,
              "Gr\xC3\xBC\xC3\x9F"
              "e")
        << label;
    EXPECT_EQ(r.charset, "utf-8") << label;
    EXPECT_EQ(c.symbols.size(), 0u) << label;
  }
}

TEST(ToUtf8, Latin1IsHandWritten) {
  Ctx c;
  const TextResult r = convert(c, "caf\xE9 cr\xE8me", "ISO-8859-1");
  EXPECT_EQ(r.utf8, "caf\xC3\xA9 cr\xC3\xA8me");
  EXPECT_EQ(r.charset, "iso-8859-1");
  EXPECT_EQ(c.symbols.size(), 0u);
  Ctx c2;
  EXPECT_EQ(convert(c2, "\xFF", "latin1").utf8, "\xC3\xBF");
}

TEST(ToUtf8, Windows1252SmartQuotes) {
  Ctx c;
  const TextResult r = convert(c,
                               "\x93quoted\x94 \x96 \x80"
                               "5",
                               "windows-1252");
  EXPECT_EQ(r.utf8,
            "\xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x80\x93 \xE2\x82\xAC"
            "5");
  EXPECT_EQ(r.charset, "windows-1252");
  EXPECT_EQ(c.symbols.size(), 0u);
  // Clients read a Latin-1 label as windows-1252, too.
  Ctx c2;
  EXPECT_EQ(convert(c2, "\x93x\x94", "iso-8859-1").utf8, "\xE2\x80\x9Cx\xE2\x80\x9D");
  Ctx c3;
  EXPECT_EQ(convert(c3, "\x93x\x94", "cp1252").utf8, "\xE2\x80\x9Cx\xE2\x80\x9D");
}

// --- ICU conversions and aliases -----------------------------------------------------------

TEST(ToUtf8, Koi8r) {
  Ctx c;
  const TextResult r = convert(c, "\xF0\xD2\xC9\xD7\xC5\xD4", "koi8-r");
  EXPECT_EQ(r.utf8, "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");  // Привет
  EXPECT_EQ(r.charset, "koi8-r");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(ToUtf8, ShiftJisAndAlias) {
  const std::string nihongo = "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E";  // 日本語
  for (std::string_view label : {"Shift_JIS", "x-sjis", "shift-jis"}) {
    Ctx c;
    const TextResult r = convert(c, "\x93\xFA\x96\x7B\x8C\xEA", label);
    EXPECT_EQ(r.utf8, nihongo) << label;
    EXPECT_EQ(r.charset, "shift_jis") << label;
    EXPECT_EQ(c.symbols.size(), 0u) << label;
  }
}

TEST(ToUtf8, Iso2022JpIsNotTakenForAscii) {
  // All bytes are 7-bit, yet the text is Japanese: the ASCII fast path must not apply.
  Ctx c;
  const TextResult r = convert(c, "\x1B$BF|K\\8l\x1B(B", "iso-2022-jp");
  EXPECT_EQ(r.utf8, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");
  EXPECT_EQ(r.charset, "iso-2022-jp");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(ToUtf8, Utf16IsNotTakenForAscii) {
  Ctx c;
  EXPECT_EQ(convert(c, std::string("\0A\0B", 4), "utf-16be").utf8, "AB");
}

TEST(ToUtf8, KoreanLabelsMeanWindows949) {
  for (std::string_view label : {"ks_c_5601-1987", "euc-kr"}) {
    Ctx c;
    const TextResult r = convert(c, "\xC7\xD1\xB1\xB9", label);
    EXPECT_EQ(r.utf8, "\xED\x95\x9C\xEA\xB5\xAD") << label;  // 한국
    EXPECT_EQ(r.charset, "windows-949") << label;
  }
}

TEST(ToUtf8, Gb2312MeansGbk) {
  Ctx c;
  const TextResult r = convert(c, "\xD6\xD0\xCE\xC4", "GB2312");
  EXPECT_EQ(r.utf8, "\xE4\xB8\xAD\xE6\x96\x87");  // 中文
  EXPECT_EQ(r.charset, "gbk");
  // A GBK-only character (not in GB2312) decodes too: 0x8140 is U+4E02.
  Ctx c2;
  EXPECT_EQ(convert(c2, "\x81\x40", "gb2312").utf8, "\xE4\xB8\x82");
}

TEST(ToUtf8, HebrewLogicalLabel) {
  Ctx c;
  const TextResult r = convert(c, "\xF9\xEC\xE5\xED", "iso-8859-8-i");
  EXPECT_EQ(r.utf8, "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D");  // שלום
  EXPECT_EQ(r.charset, "iso-8859-8");
  EXPECT_EQ(c.symbols.size(), 0u);
}

TEST(ToUtf8, InvalidSequencesBecomeReplacementCharacters) {
  Ctx c;
  // Shift_JIS lead byte 0x81 followed by a byte that cannot trail it.
  const TextResult r =
      convert(c, "ab\x81\x20 cd and some more text to keep the ratio low", "shift_jis");
  EXPECT_TRUE(is_valid_utf8(r.utf8));
  EXPECT_NE(r.utf8.find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_EQ(r.utf8.substr(0, 2), "ab");
  // UTF-8 label with one stray byte in long text: repaired, not a "wrong charset".
  Ctx c2;
  const TextResult u = convert(c2,
                               "a long enough text with one bad byte \xFF in the middle of it "
                               "so that the replacement ratio stays below two percent ok",
                               "utf-8");
  EXPECT_NE(u.utf8.find("byte \xEF\xBF\xBD in"), std::string::npos);
  EXPECT_FALSE(c2.symbols.has("MIME_CHARSET_WRONG"));
}

// --- symbols ---------------------------------------------------------------------------------

TEST(ToUtf8, UnknownLabel) {
  Ctx c;
  const TextResult r = convert(c, "plain", "x-no-such-charset");
  EXPECT_EQ(r.utf8, "plain");
  ASSERT_TRUE(c.symbols.has("MIME_CHARSET_UNKNOWN"));
  EXPECT_NE(c.symbols.find("MIME_CHARSET_UNKNOWN")->detail.find("x-no-such-charset"),
            std::string::npos);
  // Unknown with 8-bit and no detection: windows-1252.
  Ctx c2;
  EXPECT_EQ(convert(c2, "\x93hi\x94", "bogus").utf8, "\xE2\x80\x9Chi\xE2\x80\x9D");
  EXPECT_TRUE(c2.symbols.has("MIME_CHARSET_UNKNOWN"));
}

TEST(ToUtf8, HostileLabelsAreUnknownNotOpened) {
  for (std::string_view label :
       {std::string_view("../../../../etc/passwd"), std::string_view("utf-8,swaplfnl"),
        std::string_view("iso_2022,locale=ja"), std::string_view("/tmp/x.cnv"),
        std::string_view("utf-8\0x", 7)}) {
    Ctx c;
    const TextResult r = convert(c, "abc\xE9", label);
    EXPECT_TRUE(is_valid_utf8(r.utf8));
    EXPECT_TRUE(c.symbols.has("MIME_CHARSET_UNKNOWN")) << label;
  }
  Ctx c;
  const std::string long_label(10000, 'a');
  convert(c, "x", long_label);
  EXPECT_TRUE(c.symbols.has("MIME_CHARSET_UNKNOWN"));
  EXPECT_LE(c.symbols.find("MIME_CHARSET_UNKNOWN")->detail.size(), 100u);
}

TEST(ToUtf8, Missing8BitUtf8) {
  Ctx c;
  const TextResult r = convert(c, "caf\xC3\xA9", "");
  EXPECT_EQ(r.utf8, "caf\xC3\xA9");
  EXPECT_EQ(r.charset, "utf-8");
  EXPECT_TRUE(c.symbols.has("MIME_CHARSET_MISSING_8BIT"));
  EXPECT_FALSE(c.symbols.has("MIME_CHARSET_WRONG"));
  EXPECT_FALSE(c.symbols.has("MIME_CHARSET_UNKNOWN"));
}

TEST(ToUtf8, Missing8BitNotUtf8WithoutDetection) {
  Ctx c;
  const TextResult r = convert(c, "caf\xE9", "", false);
  EXPECT_EQ(r.utf8, "caf\xC3\xA9");
  EXPECT_EQ(r.charset, "windows-1252");
  EXPECT_TRUE(c.symbols.has("MIME_CHARSET_MISSING_8BIT"));
}

TEST(ToUtf8, UsAsciiWith8BitUtf8PrefersUtf8) {
  Ctx c;
  const TextResult r = convert(c, "na\xC3\xAFve", "us-ascii");
  EXPECT_EQ(r.utf8, "na\xC3\xAFve");
  EXPECT_EQ(r.charset, "utf-8");
  EXPECT_TRUE(c.symbols.has("MIME_CHARSET_WRONG"));
  EXPECT_FALSE(c.symbols.has("MIME_CHARSET_MISSING_8BIT"));
}

TEST(ToUtf8, UsAsciiWith8BitLatinIsWindows1252) {
  Ctx c;
  const TextResult r = convert(c, "\x93smart\x94", "us-ascii");
  EXPECT_EQ(r.utf8, "\xE2\x80\x9Csmart\xE2\x80\x9D");
  EXPECT_EQ(r.charset, "windows-1252");
  EXPECT_TRUE(c.symbols.has("MIME_CHARSET_WRONG"));
}

TEST(ToUtf8, Utf8LabelledLatin1) {
  Ctx c;
  // Valid UTF-8 labelled Latin-1: clients show the mojibake; we report the wrong label.
  const TextResult r = convert(c, "caf\xC3\xA9", "iso-8859-1");
  EXPECT_EQ(r.utf8, "caf\xC3\x83\xC2\xA9");
  EXPECT_TRUE(c.symbols.has("MIME_CHARSET_WRONG"));
}

TEST(ToUtf8, Latin1LabelledUtf8) {
  const std::string text =
      "caf\xE9 cr\xE8me br\xFBl\xE9"
      "e, d\xE9j\xE0 vu, na\xEFve fa\xE7"
      "ade";
  Ctx c;
  const TextResult plain = convert(c, text, "utf-8", false);
  EXPECT_TRUE(is_valid_utf8(plain.utf8));
  EXPECT_NE(plain.utf8.find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_TRUE(c.symbols.has("MIME_CHARSET_WRONG"));
  Ctx d;
  const TextResult detected = convert(d, text, "utf-8", true);
  EXPECT_EQ(detected.utf8.substr(0, 5), "caf\xC3\xA9");
  EXPECT_EQ(detected.utf8.find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_TRUE(d.symbols.has("MIME_CHARSET_WRONG"));
}

TEST(ToUtf8, CleanLabelledTextRaisesNothing) {
  Ctx c;
  convert(c, "\xF0\xD2\xC9\xD7\xC5\xD4", "koi8-r", true);
  convert(c, "caf\xE9", "iso-8859-1", true);
  convert(c, "caf\xC3\xA9", "utf-8", true);
  convert(c, "\xC7\xD1\xB1\xB9", "euc-kr", true);
  convert(c, "ascii", "us-ascii", true);
  EXPECT_EQ(c.symbols.size(), 0u);
}

// --- detection -------------------------------------------------------------------------------

TEST(ToUtf8, DetectsUnlabelledShiftJis) {
  // "これは日本語のテキストです。" (this is Japanese text) in Shift_JIS, repeated.
  const std::string sjis_sentence =
      "\x82\xB1\x82\xEA\x82\xCD\x93\xFA\x96\x7B\x8C\xEA\x82\xCC\x83\x65\x83\x4C\x83\x58\x83\x67"
      "\x82\xC5\x82\xB7\x81\x42";
  const std::string utf8_sentence =
      "\xE3\x81\x93\xE3\x82\x8C\xE3\x81\xAF\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE3\x83"
      "\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83\x88\xE3\x81\xA7\xE3\x81\x99\xE3\x80\x82";
  std::string in;
  for (int i = 0; i < 8; ++i) in += sjis_sentence;
  Ctx c;
  const TextResult r = convert(c, in, "", true);
  EXPECT_EQ(r.charset, "shift_jis");
  EXPECT_EQ(r.utf8.substr(0, utf8_sentence.size()), utf8_sentence);
  EXPECT_TRUE(c.symbols.has("MIME_CHARSET_MISSING_8BIT"));
}

TEST(ToUtf8, DetectsUnlabelledIso2022Jp) {
  std::string in;
  for (int i = 0; i < 4; ++i) in += "\x1B$BF|K\\8l\x1B(B text ";
  Ctx c;
  const TextResult r = convert(c, in, "", true);
  EXPECT_EQ(r.charset, "iso-2022-jp");
  EXPECT_EQ(r.utf8.substr(0, 9), "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");
  // Without detection it is plain ASCII.
  Ctx d;
  EXPECT_EQ(convert(d, in, "", false).utf8, in);
}

TEST(ToUtf8, DetectsUnlabelledKoi8r) {
  // A typical phishing sentence in Russian, KOI8-R ("Здравствуйте, уважаемый клиент! ...").
  const std::string koi =
      "\xFA\xC4\xD2\xC1\xD7\xD3\xD4\xD7\xD5\xCA\xD4\xC5, \xD5\xD7\xC1\xD6\xC1\xC5\xCD\xD9"
      "\xCA \xCB\xCC\xC9\xC5\xCE\xD4! \xF7\xC1\xDB \xD3\xDE\xC5\xD4 \xD7 \xC2\xC1\xCE\xCB"
      "\xC5 \xD7\xD2\xC5\xCD\xC5\xCE\xCE\xCF \xDA\xC1\xC2\xCC\xCF\xCB\xC9\xD2\xCF\xD7\xC1"
      "\xCE. \xF0\xCF\xD6\xC1\xCC\xD5\xCA\xD3\xD4\xC1, \xD0\xCF\xC4\xD4\xD7\xC5\xD2\xC4\xC9"
      "\xD4\xC5 \xD7\xC1\xDB\xC9 \xC4\xC1\xCE\xCE\xD9\xC5 \xD0\xCF \xD3\xD3\xD9\xCC\xCB"
      "\xC5 \xCE\xC9\xD6\xC5, \xDE\xD4\xCF\xC2\xD9 \xD7\xCF\xD3\xD3\xD4\xC1\xCE\xCF\xD7\xC9"
      "\xD4\xD8 \xC4\xCF\xD3\xD4\xD5\xD0. ";
  Ctx c;
  const TextResult r = convert(c, koi, "", true);
  EXPECT_EQ(r.charset, "koi8-r");
  EXPECT_EQ(r.utf8.substr(0, 4), "\xD0\x97\xD0\xB4");  // Зд
}

TEST(ToUtf8, DetectsUnlabelledLatin1) {
  Ctx c;
  const TextResult r = convert(
      c, "Votre facture du mois de f\xE9vrier est disponible. Le d\xE9lai de paiement a expir\xE9.",
      "", true);
  EXPECT_EQ(r.utf8,
            "Votre facture du mois de f\xC3\xA9vrier est disponible. Le d\xC3\xA9lai de paiement a "
            "expir\xC3\xA9.");
  EXPECT_TRUE(c.symbols.has("MIME_CHARSET_MISSING_8BIT"));
}

TEST(ToUtf8, DetectionSamplesTheStartButConvertsEverything) {
  // Only the start is shown to the detector; every byte is still converted.
  const std::string koi =
      "\xFA\xC4\xD2\xC1\xD7\xD3\xD4\xD7\xD5\xCA\xD4\xC5, \xCB\xCC\xC9\xC5\xCE\xD4! ";
  std::string in;
  while (in.size() < 100 * 1024) in += koi;
  in += "\xF0";  // П, past any sample
  Ctx c;
  const TextResult r = convert(c, in, "", true);
  EXPECT_EQ(r.charset, "koi8-r");
  EXPECT_EQ(r.utf8.substr(r.utf8.size() - 2), "\xD0\x9F");
  EXPECT_TRUE(is_valid_utf8(r.utf8));
}

// --- charset_to_utf8 -------------------------------------------------------------------------

TEST(CharsetToUtf8, KnownUnknownAndEmpty) {
  std::string out = "stale";
  EXPECT_TRUE(charset_to_utf8("caf\xE9", "iso-8859-1", out));
  EXPECT_EQ(out, "caf\xC3\xA9");
  EXPECT_TRUE(charset_to_utf8("\x93\xFA", "SHIFT_JIS", out));
  EXPECT_EQ(out, "\xE6\x97\xA5");
  EXPECT_FALSE(charset_to_utf8("caf\xE9", "x-unknown", out));
  EXPECT_EQ(out, "caf\xC3\xA9");  // the Latin-1 reading
  EXPECT_TRUE(charset_to_utf8("caf\xC3\xA9", "", out));
  EXPECT_EQ(out, "caf\xC3\xA9");
  EXPECT_TRUE(charset_to_utf8("caf\xE9", "", out));
  EXPECT_EQ(out, "caf\xC3\xA9");
  EXPECT_TRUE(charset_to_utf8("\xE2\x82", "utf-8", out));
  EXPECT_EQ(out, "\xEF\xBF\xBD");
}

// --- fast paths at word boundaries ------------------------------------------------------------

// ASCII is skipped eight bytes at a time: an 8-bit byte must be found at any offset.
TEST(ToUtf8, EightBitByteAtEveryOffset) {
  for (std::size_t len = 1; len <= 24; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      std::string latin(len, 'a');
      std::string utf8 = latin;
      latin[at] = '\xE9';
      utf8.replace(at, 1, "\xC3\xA9");
      Ctx c;
      EXPECT_EQ(convert(c, latin, "iso-8859-1").utf8, utf8) << len << " " << at;
      Ctx d;
      EXPECT_EQ(convert(d, latin, "windows-1252").utf8, utf8) << len << " " << at;
      // Unlabelled: UTF-8 when valid, else windows-1252; the ASCII before is not rescanned.
      Ctx e;
      const TextResult u = convert(e, utf8, "");
      EXPECT_EQ(u.utf8, utf8) << len << " " << at;
      EXPECT_EQ(u.charset, "utf-8") << len << " " << at;
      Ctx f;
      const TextResult w = convert(f, latin, "");
      EXPECT_EQ(w.utf8, utf8) << len << " " << at;
      EXPECT_EQ(w.charset, "windows-1252") << len << " " << at;
      std::string out;
      EXPECT_TRUE(charset_to_utf8(latin, "us-ascii", out));
      EXPECT_EQ(out, utf8) << len << " " << at;
    }
  }
}

TEST(ToUtf8, Windows1252RunsBetweenHighBytes) {
  Ctx c;
  EXPECT_EQ(convert(c, "\x80\x80 12345678\x93q\x94\xFF", "windows-1252").utf8,
            "\xE2\x82\xAC\xE2\x82\xAC 12345678\xE2\x80\x9Cq\xE2\x80\x9D\xC3\xBF");
  Ctx d;
  EXPECT_EQ(convert(d, "\x81\x8D\x8F\x90\x9D", "iso-8859-1").utf8,
            "\xC2\x81\xC2\x8D\xC2\x8F\xC2\x90\xC2\x9D");  // holes keep their C1 code point
}

// --- robustness ------------------------------------------------------------------------------

TEST(ToUtf8, OutputIsAlwaysValidUtf8) {
  std::mt19937 rng(12345);
  const char* labels[] = {"",       "utf-8",       "us-ascii", "iso-8859-1", "shift_jis",
                          "euc-jp", "iso-2022-jp", "gbk",      "big5",       "koi8-r",
                          "utf-16", "utf-16le",    "utf-7",    "hz-gb-2312", "x-bogus",
                          "utf-32", "euc-kr",      "gb18030",  "ibm037",     "windows-1255"};
  for (int round = 0; round < 200; ++round) {
    std::string bytes(static_cast<std::size_t>(rng() % 300), '\0');
    for (char& b : bytes) b = static_cast<char>(rng());
    for (const char* label : labels) {
      for (bool detect : {false, true}) {
        Ctx c;
        const TextResult r = convert(c, bytes, label, detect);
        ASSERT_TRUE(is_valid_utf8(r.utf8)) << label;
        std::string out;
        charset_to_utf8(bytes, label, out);
        ASSERT_TRUE(is_valid_utf8(out)) << label;
      }
    }
  }
}

TEST(ToUtf8, ConverterCacheSurvivesManyLabels) {
  // More distinct labels than cache slots, then the first ones again.
  const char* labels[] = {"koi8-r",       "koi8-u",       "iso-8859-2",   "iso-8859-3",
                          "iso-8859-4",   "iso-8859-5",   "iso-8859-6",   "iso-8859-7",
                          "iso-8859-13",  "iso-8859-15",  "windows-1250", "windows-1251",
                          "windows-1253", "windows-1255", "windows-1256", "windows-1257",
                          "windows-1258", "big5",         "euc-jp",       "gb18030",
                          "ibm437",       "ibm850",       "ibm852",       "ibm855",
                          "ibm857",       "ibm860",       "ibm861",       "ibm862",
                          "ibm863",       "ibm865",       "ibm866",       "ibm869",
                          "macintosh",    "iso-8859-8",   "iso-8859-10",  "iso-8859-14"};
  for (int pass = 0; pass < 2; ++pass) {
    for (const char* label : labels) {
      Ctx c;
      const TextResult r = convert(c, "abc", label);
      EXPECT_EQ(r.utf8, "abc") << label;
      EXPECT_FALSE(c.symbols.has("MIME_CHARSET_UNKNOWN")) << label;
    }
  }
  Ctx c;
  EXPECT_EQ(convert(c, "\xF0", "koi8-r").utf8, "\xD0\x9F");
}

TEST(ToUtf8, LargeInput) {
  std::string big(4u << 20, 'a');
  big[100] = '\xE9';
  Ctx c;
  const TextResult r = convert(c, big, "iso-8859-1");
  EXPECT_EQ(r.utf8.size(), big.size() + 1);
  Ctx d;
  const TextResult s = convert(d, big, "windows-1251");
  EXPECT_EQ(s.utf8.size(), big.size() + 1);  // U+0439
}

}  // namespace
}  // namespace bulwark::mime
