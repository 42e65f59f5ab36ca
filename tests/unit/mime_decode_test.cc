// Body decoders: expected bytes for valid input, and each leniency's flag.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/decode.h"

namespace bulwark::mime {
namespace {

// ---- test-side encoders (independent of the decoders under test) ------------------------

std::string b64_encode(std::string_view in, std::size_t line = 76, std::string_view eol = "\r\n") {
  static const char kAlpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  std::size_t col = 0;
  auto put = [&](char c) {
    if (line && col == line) {
      s += eol;
      col = 0;
    }
    s += c;
    ++col;
  };
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16 |
                       static_cast<unsigned char>(in[i + 1]) << 8 |
                       static_cast<unsigned char>(in[i + 2]);
    for (int k = 18; k >= 0; k -= 6) put(kAlpha[(v >> k) & 63]);
  }
  if (in.size() - i == 1) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    put(kAlpha[(v >> 18) & 63]);
    put(kAlpha[(v >> 12) & 63]);
    put('=');
    put('=');
  } else if (in.size() - i == 2) {
    const unsigned v =
        static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8;
    put(kAlpha[(v >> 18) & 63]);
    put(kAlpha[(v >> 12) & 63]);
    put(kAlpha[(v >> 6) & 63]);
    put('=');
  }
  return s;
}

std::string pseudo_random(std::size_t n, std::uint32_t seed) {
  std::string s(n, '\0');
  for (auto& c : s) {
    seed = seed * 1664525u + 1013904223u;
    c = static_cast<char>(seed >> 24);
  }
  return s;
}

std::string uu_encode(std::string_view data, std::string_view name, std::string_view eol) {
  auto enc = [](unsigned v) { return static_cast<char>(v == 0 ? '`' : v + 0x20); };
  std::string s = "begin 644 " + std::string(name) + std::string(eol);
  for (std::size_t i = 0; i < data.size(); i += 45) {
    const std::string_view chunk = data.substr(i, 45);
    s += enc(static_cast<unsigned>(chunk.size()));
    for (std::size_t j = 0; j < chunk.size(); j += 3) {
      unsigned char b[3] = {0, 0, 0};
      for (std::size_t k = 0; k < 3 && j + k < chunk.size(); ++k)
        b[k] = static_cast<unsigned char>(chunk[j + k]);
      s += enc(b[0] >> 2);
      s += enc(((b[0] & 3) << 4) | (b[1] >> 4));
      s += enc(((b[1] & 15) << 2) | (b[2] >> 6));
      s += enc(b[2] & 63);
    }
    s += eol;
  }
  s += "`";
  s += eol;
  s += "end";
  s += eol;
  return s;
}

std::string yenc_data(std::string_view data, std::size_t line = 128) {
  std::string s;
  std::size_t col = 0;
  for (const char ch : data) {
    const auto c = static_cast<unsigned char>(static_cast<unsigned char>(ch) + 42);
    if (c == 0 || c == '\n' || c == '\r' || c == '=') {
      s += '=';
      s += static_cast<char>(c + 64);
      col += 2;
    } else {
      s += static_cast<char>(c);
      ++col;
    }
    if (col >= line) {
      s += "\r\n";
      col = 0;
    }
  }
  if (col) s += "\r\n";
  return s;
}

std::string hex8(std::uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

std::uint32_t crc32_of(std::string_view s) {
  return static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

std::string yenc_encode(std::string_view data, std::string_view name) {
  const std::string size = std::to_string(data.size());
  return "=ybegin line=128 size=" + size + " name=" + std::string(name) + "\r\n" + yenc_data(data) +
         "=yend size=" + size + " crc32=" + hex8(crc32_of(data)) + "\r\n";
}

// Bitwise CRC-16/XMODEM (the decoder uses a table).
std::uint16_t crc16(std::string_view s) {
  std::uint16_t crc = 0;
  for (const char ch : s) {
    crc ^= static_cast<std::uint16_t>(static_cast<unsigned char>(ch) << 8);
    for (int k = 0; k < 8; ++k)
      crc = static_cast<std::uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
  }
  return crc;
}

void put_be(std::string& s, std::uint32_t v, int bytes) {
  for (int k = bytes - 1; k >= 0; --k) s += static_cast<char>((v >> (8 * k)) & 0xff);
}

struct BinHexOptions {
  bool corrupt_data_crc = false;
  bool corrupt_header_crc = false;
  bool close = true;
};

// BinHex 4.0 of a file with the given forks: header, forks with CRCs, RLE, 6-bit text.
std::string binhex_encode(std::string_view name, std::string_view data, std::string_view rsrc,
                          BinHexOptions opt = {}) {
  std::string raw;
  std::string header;
  header += static_cast<char>(name.size());
  header += name;
  header += '\0';
  header += "TEXTttxt";
  put_be(header, 0, 2);
  put_be(header, static_cast<std::uint32_t>(data.size()), 4);
  put_be(header, static_cast<std::uint32_t>(rsrc.size()), 4);
  raw += header;
  put_be(raw, crc16(header) ^ (opt.corrupt_header_crc ? 1 : 0), 2);
  raw += data;
  put_be(raw, crc16(data) ^ (opt.corrupt_data_crc ? 1 : 0), 2);
  raw += rsrc;
  put_be(raw, crc16(rsrc), 2);

  // Run-length coding: a run of 3 or more becomes byte, 0x90, count; 0x90 is 0x90 0x00.
  std::string rle;
  for (std::size_t i = 0; i < raw.size();) {
    const char b = raw[i];
    std::size_t run = 1;
    while (i + run < raw.size() && raw[i + run] == b && run < 255) ++run;
    if (static_cast<unsigned char>(b) == 0x90) {
      rle += "\x90";
      rle += '\0';
      i += 1;
    } else if (run >= 3) {
      rle += b;
      rle += "\x90";
      rle += static_cast<char>(run);
      i += run;
    } else {
      rle += b;
      i += 1;
    }
  }

  static const char kAlpha[] = "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";
  std::string text = "(This file must be converted with BinHex 4.0)\r\n:";
  std::size_t col = 1;
  auto put = [&](unsigned v) {
    text += kAlpha[v & 63];
    if (++col == 64) {
      text += "\r\n";
      col = 0;
    }
  };
  std::size_t i = 0;
  for (; i + 3 <= rle.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(rle[i]) << 16 |
                       static_cast<unsigned char>(rle[i + 1]) << 8 |
                       static_cast<unsigned char>(rle[i + 2]);
    put(v >> 18);
    put(v >> 12);
    put(v >> 6);
    put(v);
  }
  if (rle.size() - i == 1) {
    const unsigned v = static_cast<unsigned char>(rle[i]) << 16;
    put(v >> 18);
    put(v >> 12);
  } else if (rle.size() - i == 2) {
    const unsigned v =
        static_cast<unsigned char>(rle[i]) << 16 | static_cast<unsigned char>(rle[i + 1]) << 8;
    put(v >> 18);
    put(v >> 12);
    put(v >> 6);
  }
  if (opt.close) text += ":";
  text += "\r\n";
  return text;
}

std::string deflate_all(std::string_view in, int window_bits, int level = 6) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string gzip(std::string_view in) {
  return deflate_all(in, 15 + 16);
}

// A gzip stream of `n` zero bytes, built without holding them in memory.
std::string gzip_zeros(std::size_t n) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
  const std::string zeros(1 << 20, '\0');
  std::string out;
  std::string buf(1 << 16, '\0');
  while (true) {
    const std::size_t chunk = std::min(n, zeros.size());
    n -= chunk;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    zs.avail_in = static_cast<uInt>(chunk);
    const int flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
    int ret;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf.data());
      zs.avail_out = static_cast<uInt>(buf.size());
      ret = deflate(&zs, flush);
      out.append(buf.data(), buf.size() - zs.avail_out);
    } while (zs.avail_out == 0);
    if (flush == Z_FINISH) {
      EXPECT_EQ(ret, Z_STREAM_END);
      break;
    }
  }
  deflateEnd(&zs);
  return out;
}

bool clean(const DecodeStats& s) {
  return s.junk_bytes == 0 && !s.bad_padding && !s.padding_in_middle && !s.broken_escapes &&
         !s.lowercase_hex && !s.long_lines && !s.bad_checksum && !s.bad_length && !s.incomplete &&
         !s.truncated;
}

constexpr std::size_t kBig = 1 << 24;

// ---- base64 -----------------------------------------------------------------------------

std::string b64(std::string_view in, DecodeStats& st, Base64Mode mode = Base64Mode::kContinue,
                std::size_t max_out = kBig) {
  std::string out;
  decode_base64(in, mode, max_out, out, st);
  return out;
}

TEST(Base64, DecodesCanonicalInput) {
  DecodeStats st;
  EXPECT_EQ(b64("SGVsbG8sIFdvcmxkIQ==", st), "Hello, World!");
  EXPECT_TRUE(clean(st));
  DecodeStats st2;
  EXPECT_EQ(b64("SGk=", st2), "Hi");
  EXPECT_TRUE(clean(st2));
  DecodeStats st3;
  EXPECT_EQ(b64("", st3), "");
  EXPECT_TRUE(clean(st3));
}

TEST(Base64, RoundTripsAllByteValuesWithLineBreaks) {
  for (const std::size_t n : {0u, 1u, 2u, 3u, 56u, 57u, 58u, 1000u, 100000u}) {
    const std::string data = pseudo_random(n, static_cast<std::uint32_t>(n));
    for (const std::string_view eol : {"\r\n", "\n"}) {
      DecodeStats st;
      EXPECT_EQ(b64(b64_encode(data, 76, eol), st), data) << n;
      EXPECT_TRUE(clean(st)) << n;
    }
  }
}

TEST(Base64, WhitespaceIsNotJunk) {
  DecodeStats st;
  EXPECT_EQ(b64(" SG Vs\tbG\r\n8 =\r\n", st), "Hello");
  EXPECT_TRUE(clean(st));
}

TEST(Base64, JunkIsSkippedAndCounted) {
  DecodeStats st;
  EXPECT_EQ(b64("SG*Vs!bG8=\x01", st), "Hello");
  EXPECT_EQ(st.junk_bytes, 3u);
  EXPECT_FALSE(st.bad_padding);
  DecodeStats st2;
  EXPECT_EQ(b64("SGVs\vbG8=", st2), "Hello");  // only CR, LF, SP, HT are whitespace
  EXPECT_EQ(st2.junk_bytes, 1u);
}

TEST(Base64, PaddingInMiddleContinues) {
  DecodeStats st;
  EXPECT_EQ(b64("SGk=\r\nSGVsbG8=\r\n", st), "HiHello");
  EXPECT_TRUE(st.padding_in_middle);
  EXPECT_FALSE(st.bad_padding);
  DecodeStats st2;
  EXPECT_EQ(b64("SA==SGk=SGVs", st2), "HHiHel");
  EXPECT_TRUE(st2.padding_in_middle);
  EXPECT_FALSE(st2.bad_padding);
}

TEST(Base64, PaddingInMiddleStops) {
  DecodeStats st;
  EXPECT_EQ(b64("SGk=\r\nSGVsbG8=\r\n", st, Base64Mode::kStopAtPadding), "Hi");
  EXPECT_TRUE(st.padding_in_middle);
  DecodeStats st2;
  EXPECT_EQ(b64("SGVsbG8=\r\n\r\n", st2, Base64Mode::kStopAtPadding), "Hello");
  EXPECT_TRUE(clean(st2));
}

TEST(Base64, ShortPaddingBeforeMoreData) {
  DecodeStats st;
  EXPECT_EQ(b64("SA=SGk=", st), "HHi");  // "SA" wants "==", got one '='
  EXPECT_TRUE(st.padding_in_middle);
  EXPECT_TRUE(st.bad_padding);
}

TEST(Base64, MissingPadding) {
  DecodeStats st;
  EXPECT_EQ(b64("SGk", st), "Hi");
  EXPECT_TRUE(st.bad_padding);
  DecodeStats st2;
  EXPECT_EQ(b64("SGVsbG8\r\n", st2), "Hello");
  EXPECT_TRUE(st2.bad_padding);
  DecodeStats st3;
  EXPECT_EQ(b64("SA", st3), "H");
  EXPECT_TRUE(st3.bad_padding);
  DecodeStats st4;
  EXPECT_EQ(b64("SGk=\r\n", st4), "Hi");
  EXPECT_FALSE(st4.bad_padding);
}

TEST(Base64, SingleLeftoverCharIsDropped) {
  DecodeStats st;
  EXPECT_EQ(b64("SGVsbG8sS", st), "Hello,");
  EXPECT_TRUE(st.bad_padding);
  DecodeStats st2;
  EXPECT_EQ(b64("SGVsS=", st2), "Hel");
  EXPECT_TRUE(st2.bad_padding);
}

TEST(Base64, TooMuchPadding) {
  DecodeStats st;
  EXPECT_EQ(b64("SGk==", st), "Hi");
  EXPECT_TRUE(st.bad_padding);
  EXPECT_FALSE(st.padding_in_middle);
  DecodeStats st2;
  EXPECT_EQ(b64("SGVs=", st2), "Hel");
  EXPECT_TRUE(st2.bad_padding);
  DecodeStats st3;
  EXPECT_EQ(b64("SA===", st3), "H");
  EXPECT_TRUE(st3.bad_padding);
}

TEST(Base64, LongLines) {
  const std::string data = pseudo_random(600, 7);
  DecodeStats st76;
  EXPECT_EQ(b64(b64_encode(data, 76), st76), data);
  EXPECT_FALSE(st76.long_lines);
  DecodeStats st80;
  EXPECT_EQ(b64(b64_encode(data, 80), st80), data);
  EXPECT_TRUE(st80.long_lines);
  DecodeStats one_line;  // the last line has no line break
  EXPECT_EQ(b64(b64_encode(data, 0), one_line), data);
  EXPECT_TRUE(one_line.long_lines);
}

TEST(Base64, TruncatesAtMaxOut) {
  DecodeStats st;
  EXPECT_EQ(b64("SGVsbG8sIFdvcmxkIQ==", st, Base64Mode::kContinue, 5), "Hello");
  EXPECT_TRUE(st.truncated);
  DecodeStats st2;
  EXPECT_EQ(b64("SGVsbG8sIFdvcmxkIQ==", st2, Base64Mode::kContinue, 13), "Hello, World!");
  EXPECT_FALSE(st2.truncated);
  DecodeStats st3;
  EXPECT_EQ(b64("SGVsbG8sIFdvcmxkIQ==", st3, Base64Mode::kContinue, 0), "");
  EXPECT_TRUE(st3.truncated);
  const std::string data = pseudo_random(10000, 3);
  for (const std::size_t cap : {1u, 2u, 3u, 4u, 1000u, 9999u}) {
    DecodeStats s;
    EXPECT_EQ(b64(b64_encode(data), s, Base64Mode::kContinue, cap), data.substr(0, cap));
    EXPECT_TRUE(s.truncated);
  }
}

TEST(Base64, AppendsToOut) {
  std::string out = "prefix:";
  DecodeStats st;
  decode_base64("SGk=", Base64Mode::kContinue, 2, out, st);
  EXPECT_EQ(out, "prefix:Hi");
  EXPECT_FALSE(st.truncated);  // max_out counts this call's bytes only
}

TEST(Base64, StopModeIsPrefixOfContinue) {
  const std::string in = "SGk=SGVsbG8=\r\nV29ybGQ=";
  DecodeStats a, b;
  const std::string cont = b64(in, a);
  const std::string stop = b64(in, b, Base64Mode::kStopAtPadding);
  EXPECT_EQ(cont, "HiHelloWorld");
  EXPECT_EQ(stop, "Hi");
}

TEST(Base64, LooksLikeBase64) {
  const std::string body = b64_encode(pseudo_random(300, 1));
  EXPECT_TRUE(looks_like_base64(body, 64));
  EXPECT_TRUE(looks_like_base64("SGk=\r\n", 3));
  EXPECT_FALSE(looks_like_base64("SGk=\r\n", 4));  // too few alphabet chars
  EXPECT_FALSE(looks_like_base64("SGk=SGk=", 4));  // '=' in the middle
  EXPECT_FALSE(looks_like_base64("Hello, World", 4));
  EXPECT_FALSE(looks_like_base64("SGk===", 3));
  EXPECT_TRUE(looks_like_base64("", 0));
}

// ---- quoted-printable -------------------------------------------------------------------

std::string qp(std::string_view in, DecodeStats& st, std::size_t max_out = kBig) {
  std::string out;
  decode_qp(in, max_out, out, st);
  return out;
}

TEST(QuotedPrintable, DecodesEscapes) {
  DecodeStats st;
  EXPECT_EQ(qp("Caf=C3=A9 =3D ok", st), "Caf\xC3\xA9 = ok");
  EXPECT_TRUE(clean(st));
}

TEST(QuotedPrintable, SoftLineBreaks) {
  DecodeStats st;
  EXPECT_EQ(qp("abc=\r\ndef=\nghi", st), "abcdefghi");
  EXPECT_TRUE(clean(st));
  DecodeStats st2;  // "=" then trailing white space, then the line break
  EXPECT_EQ(qp("abc= \t\r\ndef=  \nghi", st2), "abcdefghi");
  EXPECT_TRUE(clean(st2));
}

TEST(QuotedPrintable, HardLineBreaksKeepTheirForm) {
  DecodeStats st;
  EXPECT_EQ(qp("a\r\nb\nc\r\n", st), "a\r\nb\nc\r\n");
  EXPECT_TRUE(clean(st));
  DecodeStats st2;
  EXPECT_EQ(qp("\n\r\n\n", st2), "\n\r\n\n");
  DecodeStats st3;  // a bare CR is not a line break
  EXPECT_EQ(qp("a\rb", st3), "a\rb");
}

TEST(QuotedPrintable, TrailingWhitespaceIsRemoved) {
  DecodeStats st;
  EXPECT_EQ(qp("a  \r\nb\t\nc =20\r\nd \t", st), "a\r\nb\nc  \r\nd");
  EXPECT_TRUE(clean(st));
}

TEST(QuotedPrintable, LowercaseHex) {
  DecodeStats st;
  EXPECT_EQ(qp("a=3db=e9", st), "a=b\xE9");
  EXPECT_TRUE(st.lowercase_hex);
  EXPECT_FALSE(st.broken_escapes);
  DecodeStats st2;
  EXPECT_EQ(qp("=3D=E9", st2), "=\xE9");
  EXPECT_FALSE(st2.lowercase_hex);
}

TEST(QuotedPrintable, BrokenEscapesStayLiteral) {
  DecodeStats st;
  EXPECT_EQ(qp("a=ZZb", st), "a=ZZb");
  EXPECT_TRUE(st.broken_escapes);
  DecodeStats st2;
  EXPECT_EQ(qp("price=", st2), "price=");  // '=' at the end of the input
  EXPECT_TRUE(st2.broken_escapes);
  DecodeStats st3;
  EXPECT_EQ(qp("x=4", st3), "x=4");
  EXPECT_TRUE(st3.broken_escapes);
  DecodeStats st4;
  EXPECT_EQ(qp("x=4\r\ny", st4), "x=4\r\ny");  // escapes do not span lines
  EXPECT_TRUE(st4.broken_escapes);
  DecodeStats st5;
  EXPECT_EQ(qp("a==\r\nb", st5), "a=b");  // broken '=' then a soft break
  EXPECT_TRUE(st5.broken_escapes);
  DecodeStats st6;
  // The byte after a broken '=' stays with it: the "=3D" here is not an escape.
  EXPECT_EQ(qp("==3D and =\t=41", st6), "==3D and =\tA");
  EXPECT_TRUE(st6.broken_escapes);
}

TEST(QuotedPrintable, LongLines) {
  const std::string l76(76, 'x');
  DecodeStats st;
  EXPECT_EQ(qp(l76 + "\r\n" + l76, st), l76 + "\r\n" + l76);
  EXPECT_FALSE(st.long_lines);
  DecodeStats st2;
  EXPECT_EQ(qp(l76 + "y\r\n", st2), l76 + "y\r\n");
  EXPECT_TRUE(st2.long_lines);
}

TEST(QuotedPrintable, TruncatesAtMaxOut) {
  DecodeStats st;
  EXPECT_EQ(qp("ab=3Dcd\r\nef", st, 3), "ab=");
  EXPECT_TRUE(st.truncated);
  DecodeStats st2;
  EXPECT_EQ(qp("ab\r\n", st2, 3), "ab\r");  // a CRLF split by the cap
  EXPECT_TRUE(st2.truncated);
  DecodeStats st3;
  EXPECT_EQ(qp("ab=3D", st3, 3), "ab=");
  EXPECT_FALSE(st3.truncated);
}

TEST(QEncoding, UnderscoreAndEscapes) {
  std::string out;
  DecodeStats st;
  decode_q("Caf=C3=A9_au_lait=3f", out, st);
  EXPECT_EQ(out, "Caf\xC3\xA9 au lait?");
  EXPECT_TRUE(st.lowercase_hex);
  EXPECT_FALSE(st.broken_escapes);
  std::string out2;
  DecodeStats st2;
  decode_q("a=ZZ_=", out2, st2);
  EXPECT_EQ(out2, "a=ZZ =");
  EXPECT_TRUE(st2.broken_escapes);
}

// ---- uuencode ---------------------------------------------------------------------------

struct Named {
  std::string out;
  std::string name;
  DecodeStats st;
};

Named uu(std::string_view in, std::size_t max_out = kBig) {
  Named r;
  decode_uuencode(in, max_out, r.out, r.name, r.st);
  return r;
}

TEST(Uuencode, DecodesHandWrittenBlock) {
  const Named r = uu("begin 644 cat.txt\n#0V%T\n`\nend\n");
  EXPECT_EQ(r.out, "Cat");
  EXPECT_EQ(r.name, "cat.txt");
  EXPECT_TRUE(clean(r.st));
}

TEST(Uuencode, RoundTripsWithCrlfAndLf) {
  const std::string data = pseudo_random(1000, 11);
  for (const std::string_view eol : {"\r\n", "\n"}) {
    const Named r = uu(uu_encode(data, "my file.bin", eol));
    EXPECT_EQ(r.out, data);
    EXPECT_EQ(r.name, "my file.bin");  // names may contain spaces
    EXPECT_TRUE(clean(r.st));
  }
}

TEST(Uuencode, SpaceAndBacktickAreZero) {
  const Named a = uu("begin 600 z\n#````\n`\nend\n");
  const Named b = uu("begin 600 z\n#    \n \nend\n");
  EXPECT_EQ(a.out, std::string(3, '\0'));
  EXPECT_EQ(b.out, std::string(3, '\0'));
  EXPECT_TRUE(clean(a.st));
  EXPECT_TRUE(clean(b.st));
}

TEST(Uuencode, BadLengthCharacter) {
  const Named r = uu("begin 644 cat.txt\n$0V%T\n`\nend\n");  // says 4 bytes, carries 3
  EXPECT_EQ(r.out, "Cat");
  EXPECT_TRUE(r.st.bad_length);
  const Named r2 = uu("begin 644 cat.txt\n\"0V%T0V%T\n`\nend\n");  // says 2, carries 6
  EXPECT_EQ(r2.out, "Ca");
  EXPECT_TRUE(r2.st.bad_length);
}

TEST(Uuencode, MissingEnd) {
  const Named r = uu("begin 644 cat.txt\r\n#0V%T\r\n");
  EXPECT_EQ(r.out, "Cat");
  EXPECT_TRUE(r.st.incomplete);
}

TEST(Uuencode, NoBeginDecodesNothing) {
  const Named r = uu("#0V%T\n`\nend\n");
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(r.st.incomplete);
  const Named r2 = uu("hello\nbegin 644 cat.txt\n#0V%T\n`\nend\n");
  EXPECT_EQ(r2.out, "");
  EXPECT_TRUE(r2.st.incomplete);
  const Named r3 = uu("\r\nbegin 644 cat.txt\n#0V%T\n`\nend\n");  // blank lines are fine
  EXPECT_EQ(r3.out, "Cat");
  EXPECT_TRUE(clean(r3.st));
}

TEST(Uuencode, TruncatesAtMaxOut) {
  const std::string data = pseudo_random(500, 5);
  const Named r = uu(uu_encode(data, "x", "\n"), 100);
  EXPECT_EQ(r.out, data.substr(0, 100));
  EXPECT_TRUE(r.st.truncated);
  const Named r2 = uu(uu_encode(data, "x", "\n"), 500);
  EXPECT_EQ(r2.out, data);
  EXPECT_FALSE(r2.st.truncated);
}

// ---- yEnc -------------------------------------------------------------------------------

Named yenc(std::string_view in, std::size_t max_out = kBig) {
  Named r;
  decode_yenc(in, max_out, r.out, r.name, r.st);
  return r;
}

TEST(Yenc, DecodesWithEscapesAndGoodCrc) {
  // 0xD6, 0xE0, 0xE3, 0x13 become NUL, LF, CR, '=' after +42: all escaped.
  std::string data = "yEnc \xD6\xE0\xE3\x13 test";
  data += pseudo_random(1000, 9);
  const std::string enc = yenc_encode(data, "my file.bin");
  ASSERT_NE(enc.find("=@"), std::string::npos);  // the escape for NUL is present
  const Named r = yenc(enc);
  EXPECT_EQ(r.out, data);
  EXPECT_EQ(r.name, "my file.bin");
  EXPECT_TRUE(clean(r.st));
}

TEST(Yenc, HandWrittenBlock) {
  // "Hi\n": 'H'+42 = 'r', 'i'+42 = 0x93, '\n'+42 = '4'
  const std::string in = "=ybegin line=128 size=3 name=hi.txt\r\nr\x93\x34\r\n=yend size=3 crc32=" +
                         hex8(crc32_of("Hi\n")) + "\r\n";
  const Named r = yenc(in);
  EXPECT_EQ(r.out, "Hi\n");
  EXPECT_EQ(r.name, "hi.txt");
  EXPECT_TRUE(clean(r.st));
}

TEST(Yenc, BadCrc) {
  std::string enc = yenc_encode("hello world", "h.txt");
  const std::size_t at = enc.find("crc32=") + 6;
  enc[at] = enc[at] == '0' ? '1' : '0';
  const Named r = yenc(enc);
  EXPECT_EQ(r.out, "hello world");
  EXPECT_TRUE(r.st.bad_checksum);
  EXPECT_FALSE(r.st.bad_length);
}

TEST(Yenc, BadSize) {
  const std::string in = "=ybegin line=128 size=5 name=a\r\n" + yenc_data("abcd") +
                         "=yend size=5 crc32=" + hex8(crc32_of("abcd")) + "\r\n";
  const Named r = yenc(in);
  EXPECT_EQ(r.out, "abcd");
  EXPECT_TRUE(r.st.bad_length);
  EXPECT_FALSE(r.st.bad_checksum);
}

TEST(Yenc, MultipartUsesPcrc) {
  const std::string part = "second half";
  const std::string in =
      "=ybegin part=2 total=2 line=128 size=22 name=f.bin\r\n"
      "=ypart begin=12 end=22\r\n" +
      yenc_data(part) + "=yend size=11 part=2 pcrc32=" + hex8(crc32_of(part)) +
      " crc32=deadbeef\r\n";
  const Named r = yenc(in);
  EXPECT_EQ(r.out, part);
  EXPECT_EQ(r.name, "f.bin");
  EXPECT_TRUE(clean(r.st));
}

TEST(Yenc, MissingEndAndCrLfIgnored) {
  const Named r = yenc("=ybegin line=128 size=3 name=a\nr\x93\r\n\x34\n");
  EXPECT_EQ(r.out, "Hi\n");
  EXPECT_TRUE(r.st.incomplete);
  const Named r2 = yenc("no yenc here\n");
  EXPECT_EQ(r2.out, "");
  EXPECT_TRUE(r2.st.incomplete);
}

TEST(Yenc, TruncatesAtMaxOut) {
  const std::string data = pseudo_random(1000, 4);
  const Named r = yenc(yenc_encode(data, "x"), 10);
  EXPECT_EQ(r.out, data.substr(0, 10));
  EXPECT_TRUE(r.st.truncated);
  EXPECT_FALSE(r.st.bad_checksum);  // not checked on a partial decode
}

// ---- BinHex -----------------------------------------------------------------------------

Named binhex(std::string_view in, std::size_t max_out = kBig) {
  Named r;
  decode_binhex(in, max_out, r.out, r.name, r.st);
  return r;
}

TEST(BinHex, DecodesDataForkWithRunsAndMarkerBytes) {
  std::string data = "Hello, Mac!";
  data += std::string(300, 'A');  // longer than one run
  data += "\x90\x90\x90 x \x90";  // marker bytes, literal and in a run
  data += std::string(5, '\0');
  data += pseudo_random(2000, 21);
  const std::string enc = binhex_encode("Read Me", data, "resource fork bytes");
  const Named r = binhex("Some text before.\r\n" + enc + "trailer\r\n");
  EXPECT_EQ(r.out, data);
  EXPECT_EQ(r.name, "Read Me");
  EXPECT_TRUE(clean(r.st));
}

TEST(BinHex, EmptyForks) {
  const Named r = binhex(binhex_encode("empty", "", ""));
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.name, "empty");
  EXPECT_TRUE(clean(r.st));
}

TEST(BinHex, BadDataCrc) {
  BinHexOptions opt;
  opt.corrupt_data_crc = true;
  const Named r = binhex(binhex_encode("a", "some data", "", opt));
  EXPECT_EQ(r.out, "some data");
  EXPECT_TRUE(r.st.bad_checksum);
}

TEST(BinHex, BadHeaderCrc) {
  BinHexOptions opt;
  opt.corrupt_header_crc = true;
  const Named r = binhex(binhex_encode("a", "some data", "", opt));
  EXPECT_EQ(r.out, "some data");
  EXPECT_TRUE(r.st.bad_checksum);
}

TEST(BinHex, MissingClosingColon) {
  BinHexOptions opt;
  opt.close = false;
  const Named r = binhex(binhex_encode("a", "some data", "rsrc", opt));
  EXPECT_EQ(r.out, "some data");
  EXPECT_TRUE(r.st.incomplete);
  EXPECT_FALSE(r.st.bad_checksum);
}

TEST(BinHex, CutShort) {
  const std::string enc = binhex_encode("a", pseudo_random(500, 2), "");
  const Named r = binhex(enc.substr(0, enc.size() / 2) + ":");
  EXPECT_TRUE(r.st.incomplete);
  const Named r2 = binhex("no binhex here");
  EXPECT_TRUE(r2.st.incomplete);
  EXPECT_EQ(r2.out, "");
}

TEST(BinHex, JunkInsideData) {
  std::string enc = binhex_encode("a", "some data", "");
  enc.insert(enc.find(':') + 5, "~");
  const Named r = binhex(enc);
  EXPECT_EQ(r.out, "some data");
  EXPECT_EQ(r.st.junk_bytes, 1u);
}

TEST(BinHex, TruncatesAtMaxOut) {
  const std::string data = pseudo_random(1000, 8);
  const Named r = binhex(binhex_encode("a", data, ""), 100);
  EXPECT_EQ(r.out, data.substr(0, 100));
  EXPECT_TRUE(r.st.truncated);
}

TEST(BinHex, RunLengthBombIsBoundedByMaxOut) {
  // 4 MB of zeros and 4 MB of 'r': about 33k runs of 255 in some 130 KB of text.
  const std::string data(4 << 20, '\0');
  const std::string enc = binhex_encode("bomb", data, std::string(4 << 20, 'r'));
  EXPECT_LT(enc.size(), 150000u);
  const Named r = binhex(enc, 1000);
  EXPECT_EQ(r.out.size(), 1000u);
  EXPECT_TRUE(r.st.truncated);
  const Named full = binhex(enc, 8 << 20);  // the resource fork is checked within max_out
  EXPECT_EQ(full.out, data);
  EXPECT_TRUE(clean(full.st));
}

// ---- x-gzip64 ---------------------------------------------------------------------------

std::string gz64(std::string_view in, DecodeStats& st, std::size_t max_out = kBig) {
  std::string out;
  decode_gzip64(in, max_out, out, st);
  return out;
}

TEST(Gzip64, RoundTripGzipAndZlib) {
  const std::string data = pseudo_random(200000, 13) + std::string(100000, 'x');
  DecodeStats st;
  EXPECT_EQ(gz64(b64_encode(gzip(data)), st), data);
  EXPECT_TRUE(clean(st));
  DecodeStats st2;
  EXPECT_EQ(gz64(b64_encode(deflate_all(data, 15)), st2), data);
  EXPECT_TRUE(clean(st2));
}

TEST(Gzip64, ExactMaxOutIsNotTruncated) {
  const std::string data = "hello gzip";
  DecodeStats st;
  EXPECT_EQ(gz64(b64_encode(gzip(data)), st, data.size()), data);
  EXPECT_TRUE(clean(st));
}

TEST(Gzip64, ConcatenatedMembers) {
  DecodeStats st;
  EXPECT_EQ(gz64(b64_encode(gzip("first ") + gzip("second")), st), "first second");
  EXPECT_TRUE(clean(st));
}

TEST(Gzip64, BombOnlySetsTruncated) {
  const std::string bomb = gzip_zeros(100u << 20);
  ASSERT_LT(bomb.size(), 200000u);
  DecodeStats st;
  const std::string out = gz64(b64_encode(bomb), st, 1 << 20);
  EXPECT_EQ(out.size(), 1u << 20);
  EXPECT_EQ(out, std::string(1 << 20, '\0'));
  EXPECT_TRUE(st.truncated);
  EXPECT_FALSE(st.incomplete);
  EXPECT_FALSE(st.bad_checksum);
}

TEST(Gzip64, TruncatesSmallMaxOut) {
  const std::string data = pseudo_random(5000, 17);
  DecodeStats st;
  EXPECT_EQ(gz64(b64_encode(gzip(data)), st, 100), data.substr(0, 100));
  EXPECT_TRUE(st.truncated);
}

TEST(Gzip64, ZeroMaxOutStillSeesTheData) {
  DecodeStats st;
  EXPECT_EQ(gz64(b64_encode(gzip("x")), st, 0), "");
  EXPECT_TRUE(st.truncated);
  EXPECT_FALSE(st.incomplete);
  DecodeStats st2;  // a member with no data: nothing was cut off
  EXPECT_EQ(gz64(b64_encode(gzip("")), st2, 0), "");
  EXPECT_TRUE(clean(st2));
}

TEST(Gzip64, TrailingGarbageAfterMemberIsIgnored) {
  DecodeStats st;
  EXPECT_EQ(gz64(b64_encode(gzip("data") + "garbage!"), st), "data");
  EXPECT_TRUE(clean(st));
  DecodeStats st2;  // but a second member that breaks is reported
  const std::string second = gzip(pseudo_random(1000, 6));
  EXPECT_EQ(gz64(b64_encode(gzip("data") + second.substr(0, second.size() / 2)), st2).substr(0, 4),
            "data");
  EXPECT_TRUE(st2.incomplete);
}

TEST(Gzip64, CorruptTrailerIsBadChecksum) {
  std::string z = gzip("some text that is compressed");
  z[z.size() - 6] ^= 1;  // inside the CRC-32 of the gzip trailer
  DecodeStats st;
  gz64(b64_encode(z), st);
  EXPECT_TRUE(st.bad_checksum);
  EXPECT_FALSE(st.truncated);
}

TEST(Gzip64, CutShortOrNotGzipIsIncomplete) {
  const std::string z = gzip(pseudo_random(1000, 1));
  DecodeStats st;
  const std::string out = gz64(b64_encode(z.substr(0, z.size() / 2)), st);
  EXPECT_TRUE(st.incomplete);
  EXPECT_FALSE(st.truncated);
  DecodeStats st2;
  EXPECT_EQ(gz64(b64_encode("this is not compressed at all"), st2), "");
  EXPECT_TRUE(st2.incomplete);
  DecodeStats st3;
  EXPECT_EQ(gz64("", st3), "");
  EXPECT_TRUE(st3.incomplete);
}

TEST(Gzip64, Base64LeniencyIsReported) {
  DecodeStats st;
  std::string text = b64_encode(gzip("abc"));
  text.insert(4, "*");
  EXPECT_EQ(gz64(text, st), "abc");
  EXPECT_EQ(st.junk_bytes, 1u);
}

// ---- all decoders: a smaller max_out gives a prefix, truncated exactly when bytes were cut

TEST(AllDecoders, SmallerMaxOutGivesPrefixAndTruncatedFlag) {
  const std::string data = pseudo_random(300, 12) + std::string(200, 'z');
  using Decoder = std::function<void(std::size_t, std::string&, DecodeStats&)>;
  const std::string b64_text = b64_encode(data);
  const std::string qp_text = "a=3Db\r\nsoft=\r\nline  \r\n" + std::string(100, 'q');
  const std::string uu_text = uu_encode(data, "f", "\n");
  const std::string y_text = yenc_encode(data, "f");
  const std::string hqx_text = binhex_encode("f", data, "rsrc");
  const std::string gz_text = b64_encode(gzip(data) + gzip(data));
  std::string name;
  const std::vector<std::pair<const char*, Decoder>> decoders = {
      {"base64", [&](std::size_t m, std::string& o,
                     DecodeStats& s) { decode_base64(b64_text, Base64Mode::kContinue, m, o, s); }},
      {"qp", [&](std::size_t m, std::string& o, DecodeStats& s) { decode_qp(qp_text, m, o, s); }},
      {"uu", [&](std::size_t m, std::string& o,
                 DecodeStats& s) { decode_uuencode(uu_text, m, o, name, s); }},
      {"yenc",
       [&](std::size_t m, std::string& o, DecodeStats& s) { decode_yenc(y_text, m, o, name, s); }},
      {"binhex", [&](std::size_t m, std::string& o,
                     DecodeStats& s) { decode_binhex(hqx_text, m, o, name, s); }},
      {"gzip64",
       [&](std::size_t m, std::string& o, DecodeStats& s) { decode_gzip64(gz_text, m, o, s); }},
  };
  for (const auto& [what, decode] : decoders) {
    std::string full;
    DecodeStats fs;
    decode(kBig, full, fs);
    ASSERT_FALSE(fs.truncated) << what;
    ASSERT_GT(full.size(), 100u) << what;
    for (std::size_t cap = 0; cap <= full.size() + 1; ++cap) {
      std::string out = "pre";  // the cap counts only this call's bytes
      DecodeStats st;
      decode(cap, out, st);
      ASSERT_EQ(out, "pre" + full.substr(0, cap)) << what << " cap " << cap;
      ASSERT_EQ(st.truncated, full.size() > cap) << what << " cap " << cap;
    }
  }
}

// ---- embedded blocks --------------------------------------------------------------------

TEST(Embedded, FindsUuencodeAndYencInMixedText) {
  const std::string uu_block = uu_encode("payload one", "one.exe", "\r\n");
  const std::string y_block = yenc_encode("payload two", "two.exe");
  const std::string text =
      "Hello,\r\nbegin the meeting at 10.\r\n" + uu_block + "middle text\r\n" + y_block + "bye\r\n";
  const auto blocks = find_embedded_blocks(text, 10);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].kind, EmbeddedBlock::Kind::kUuencode);
  EXPECT_EQ(blocks[0].begin, text.find("begin 644"));
  EXPECT_EQ(blocks[0].end, text.find("middle"));
  EXPECT_EQ(blocks[1].kind, EmbeddedBlock::Kind::kYenc);
  EXPECT_EQ(blocks[1].begin, text.find("=ybegin"));
  EXPECT_EQ(blocks[1].end, text.find("bye"));

  // The blocks decode as themselves.
  const auto sub = [&](const EmbeddedBlock& b) {
    return std::string_view(text).substr(b.begin, b.end - b.begin);
  };
  const Named a = uu(sub(blocks[0]));
  EXPECT_EQ(a.out, "payload one");
  EXPECT_EQ(a.name, "one.exe");
  const Named b = yenc(sub(blocks[1]));
  EXPECT_EQ(b.out, "payload two");
  EXPECT_TRUE(clean(b.st));
}

TEST(Embedded, FindsBinHexWithLfLines) {
  std::string enc;
  for (const char c : binhex_encode("mac", "mac data", ""))
    if (c != '\r') enc += c;
  const std::string text = "see attached\n" + enc + "thanks\n";
  const auto blocks = find_embedded_blocks(text, 10);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].kind, EmbeddedBlock::Kind::kBinHex);
  EXPECT_EQ(blocks[0].begin, text.find("(This"));
  EXPECT_EQ(blocks[0].end, text.find("thanks"));
  const Named r =
      binhex(std::string_view(text).substr(blocks[0].begin, blocks[0].end - blocks[0].begin));
  EXPECT_EQ(r.out, "mac data");
}

TEST(Embedded, UnterminatedBlockRunsToEnd) {
  const std::string text = "x\nbegin 0644 f.txt\n#0V%T\n";
  const auto blocks = find_embedded_blocks(text, 10);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].begin, 2u);
  EXPECT_EQ(blocks[0].end, text.size());
}

TEST(Embedded, RespectsMaxBlocksAndIgnoresProse) {
  std::string text;
  for (int i = 0; i < 5; ++i) text += "=ybegin line=128 size=0 name=f\n=yend size=0\n";
  EXPECT_EQ(find_embedded_blocks(text, 3).size(), 3u);
  EXPECT_EQ(find_embedded_blocks(text, 0).size(), 0u);
  EXPECT_EQ(find_embedded_blocks(text, 100).size(), 5u);
  EXPECT_TRUE(
      find_embedded_blocks("begin 644\nbegin 64 x\nbegin 12345 x\n begin 644 x\n", 10).empty());
  EXPECT_TRUE(find_embedded_blocks("", 10).empty());
}

}  // namespace
}  // namespace bulwark::mime
