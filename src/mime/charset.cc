// Charset conversion to UTF-8 with ICU, plus the hand-written fast paths (ASCII, UTF-8,
// Latin-1 / windows-1252) that cover most mail without touching a converter.
#include "core/utf8.h"
#include "mime/charset.h"

#include <unicode/ucnv.h>
#include <unicode/ucnv_cb.h>
#include <unicode/ucnv_err.h>
#include <unicode/ucsdet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "core/escape.h"

namespace bulwark::mime {

namespace {

constexpr std::size_t kMaxLabelBytes = 64;
// Converters kept per thread. Real mail (unknown labels and detection guesses included) uses
// about twenty keys; with 16 slots the round-robin reopened every converter on each pass.
constexpr std::size_t kCacheSlots = 32;
// ICU keeps at most 8 KiB for its byte statistics and n-gram (single-byte) recognisers;
// only the UTF and CJK multi-byte recognisers read further. 16 KiB is the smallest sample
// that picks the same charset as 64 KiB on every text part of the SpamAssassin corpus
// (8 KiB turned one Big5 part into GB18030).
constexpr std::size_t kDetectBytes = 16 * 1024;
constexpr int32_t kMinDetectConfidence = 15;  // ICU gives 10 to mere possibilities
constexpr char kEsc = 0x1b;

// windows-1252 for 0x80..0x9F. The five holes keep their C1 code point, as WHATWG
// decoders (and so browsers and Thunderbird) do.
constexpr std::array<char16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};


constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Offset of the first byte >= 0x80, or s.size(). Eight bytes at a time.
std::size_t first_8bit(std::string_view s) {
  std::size_t i = 0;
  const char* p = s.data();
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ULL) break;
  }
  for (; i < s.size(); ++i)
    if (static_cast<unsigned char>(p[i]) >= 0x80) return i;
  return s.size();
}

// Length of the well-formed UTF-8 sequence at p (Unicode table 3-7), or 0; then `bad`
// holds the length of the maximal ill-formed subpart, which becomes one U+FFFD.
std::size_t utf8_seq(const unsigned char* p, std::size_t avail, std::size_t& bad) {
  const unsigned c = p[0];
  if (c < 0x80) return 1;
  std::size_t need;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0)
      lo = 0xA0;  // overlong
    else if (c == 0xED)
      hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0)
      lo = 0x90;  // overlong
    else if (c == 0xF4)
      hi = 0x8F;  // > U+10FFFF
  } else {
    bad = 1;
    return 0;
  }
  for (std::size_t k = 1; k <= need; ++k) {
    if (k >= avail) {
      bad = k;
      return 0;
    }
    const unsigned b = p[k];
    if (b < lo || b > hi) {
      bad = k;
      return 0;
    }
    lo = 0x80;
    hi = 0xBF;
  }
  return need + 1;
}

// True when s is valid UTF-8; s[0..i) must be ASCII (callers pass first_8bit's answer, so
// the ASCII prefix is not scanned twice).
bool valid_utf8_from(std::string_view s, std::size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  while (i < s.size()) {
    // Skip ASCII eight bytes at a time.
    while (i + 8 <= s.size()) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= s.size()) break;
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    std::size_t bad = 0;
    const std::size_t n = utf8_seq(p + i, s.size() - i, bad);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// Appends `in` with every ill-formed subpart replaced by U+FFFD; returns how many.
std::size_t repair_utf8(std::string_view in, std::string& out) {
  std::size_t replaced = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t i = 0, run = 0;
  while (i < in.size()) {
    std::size_t bad = 0;
    const std::size_t n = utf8_seq(p + i, in.size() - i, bad);
    if (n) {
      i += n;
      continue;
    }
    out.append(in.substr(run, i - run));
    out.append(kReplacement);
    ++replaced;
    i += bad;
    run = i;
  }
  out.append(in.substr(run));
  return replaced;
}

void cp1252_to_utf8(std::string_view in, std::string& out) {
  out.reserve(out.size() + in.size() + in.size() / 2);
  while (!in.empty()) {
    // ASCII runs are copied whole: most mail labelled Latin-1 is plain ASCII.
    const std::size_t run = first_8bit(in);
    out.append(in.substr(0, run));
    if (run == in.size()) break;
    const auto c = static_cast<unsigned char>(in[run]);
    bulwark::append_utf8(out, c < 0xA0 ? kCp1252High[c - 0x80] : c);
    in.remove_prefix(run + 1);
  }
}

char lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = lower_ascii(c);
  return r;
}

bool in_list(std::string_view key, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), key) != list.end();
}

// Trims, strips quotes, lower-cases, and maps the labels clients treat as another
// charset (mostly WHATWG's label table, which Thunderbird and webmail follow).
std::string normalise_label(std::string_view label) {
  auto junk = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"' || c == '\'';
  };
  while (!label.empty() && junk(label.front())) label.remove_prefix(1);
  while (!label.empty() && junk(label.back())) label.remove_suffix(1);
  std::string key = lower(label.substr(0, kMaxLabelBytes + 1));
  if (key == "utf8" || key == "unicode-1-1-utf-8") return "utf-8";
  if (in_list(key, {"x-sjis", "sjis", "shift-jis", "ms_kanji", "csshiftjis"})) return "shift_jis";
  if (in_list(key, {"ks_c_5601-1987", "ks_c_5601-1989", "ks_c_5601", "ksc5601", "ksc_5601",
                    "euc-kr", "cseuckr", "korean"}))
    return "windows-949";
  if (key == "iso-8859-8-i" || key == "iso_8859-8-i" || key == "csiso88598i") return "iso-8859-8";
  if (in_list(key, {"gb2312", "gb_2312-80", "gb_2312", "csgb2312", "x-gbk", "euc-cn", "chinese",
                    "cp936", "ms936"}))
    return "gbk";
  if (in_list(key, {"iso-8859-9", "iso8859-9", "latin5", "l5"})) return "windows-1254";
  if (in_list(key, {"tis-620", "iso-8859-11", "iso8859-11"})) return "windows-874";
  return key;
}

bool is_ascii_label(std::string_view k) {
  return in_list(k, {"us-ascii", "ascii", "us", "ansi_x3.4-1968", "iso646-us", "csascii",
                     "iso-ir-6", "cp367", "ibm367", "iso_646.irv:1991"});
}
bool is_utf8_label(std::string_view k) {
  return k == "utf-8";
}
// Latin-1 labels decode as windows-1252: what every mainstream client shows for 0x80..0x9F.
bool is_cp1252_label(std::string_view k) {
  return in_list(k, {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1",
                     "iso_8859-1:1987", "iso-ir-100", "csisolatin1", "cp819", "ibm819",
                     "windows-1252", "cp1252", "x-cp1252", "ms-ansi"});
}

// Only names made of these reach ICU: ucnv_open treats ',' as an option separator and a
// path separator as a file to load.
bool label_chars_ok(std::string_view k) {
  if (k.empty() || k.size() > kMaxLabelBytes) return false;
  for (const char c : k) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                    c == '.' || c == ':' || c == '+';
    if (!ok) return false;
  }
  return true;
}

// ICU's substitution writes U+001A for some converters; we always want U+FFFD, and a count.
void to_unicode_callback(const void* context, UConverterToUnicodeArgs* args, const char*, int32_t,
                         UConverterCallbackReason reason, UErrorCode* err) {
  if (reason != UCNV_UNASSIGNED && reason != UCNV_ILLEGAL && reason != UCNV_IRREGULAR) return;
  ++*static_cast<std::size_t*>(const_cast<void*>(context));
  *err = U_ZERO_ERROR;
  static const UChar kFffd = 0xFFFD;
  ucnv_cbToUWriteUChars(args, &kFffd, 1, 0, err);
}

struct Converter {
  std::string key;            // normalised label
  UConverter* cnv = nullptr;  // null: ICU does not know the label
  std::string name;           // canonical lower-case name
  bool ascii_compatible = false;
  bool single_byte = false;
  std::size_t replaced = 0;  // written by to_unicode_callback
};

// Converts with ICU, appending to `out`; returns the number of U+FFFD substitutions.
std::size_t icu_convert(Converter& c, std::string_view in, std::string& out) {
  c.replaced = 0;
  ucnv_reset(c.cnv);
  std::array<UChar, 2048> buf;
  const char* src = in.data();
  const char* const limit = in.data() + in.size();
  char16_t high = 0;  // a lead surrogate waiting for its trail across buffers
  for (;;) {
    UChar* target = buf.data();
    UErrorCode err = U_ZERO_ERROR;
    ucnv_toUnicode(c.cnv, &target, buf.data() + buf.size(), &src, limit, nullptr, true, &err);
    for (const UChar* u = buf.data(); u < target; ++u) {
      const char16_t cu = *u;
      if (high) {
        if (cu >= 0xDC00 && cu <= 0xDFFF) {
          bulwark::append_utf8(out,
                      0x10000 + ((static_cast<char32_t>(high) - 0xD800) << 10) + (cu - 0xDC00));
          high = 0;
          continue;
        }
        out.append(kReplacement);
        ++c.replaced;
        high = 0;
      }
      if (cu >= 0xD800 && cu <= 0xDBFF) {
        high = cu;
      } else if (cu >= 0xDC00 && cu <= 0xDFFF) {
        out.append(kReplacement);
        ++c.replaced;
      } else {
        bulwark::append_utf8(out, cu);
      }
    }
    if (err == U_BUFFER_OVERFLOW_ERROR) continue;
    if (U_FAILURE(err) && src < limit) {
      // Should not happen with our callback; never loop, never lose the rest silently.
      out.append(kReplacement);
      ++c.replaced;
    }
    break;
  }
  if (high) {
    out.append(kReplacement);
    ++c.replaced;
  }
  ucnv_reset(c.cnv);
  return c.replaced;
}

std::string canonical_name(UConverter* cnv, const std::string& key) {
  UErrorCode err = U_ZERO_ERROR;
  const char* icu = ucnv_getName(cnv, &err);
  if (U_FAILURE(err) || !icu) return key;
  const std::string_view icu_name(icu);
  // ICU reports these under names no mail client uses.
  if (icu_name == "windows-949-2000") return "windows-949";
  if (icu_name == "windows-874-2000") return "windows-874";
  for (const char* standard : {"MIME", "IANA"}) {
    UErrorCode e = U_ZERO_ERROR;
    const char* n = ucnv_getStandardName(icu, standard, &e);
    if (U_SUCCESS(e) && n && *n) return lower(n);
  }
  return key;
}

// Opened converters, per thread: ucnv_open costs far more than a conversion of a short
// header. A few slots, replaced round-robin, so a flood of distinct labels stays bounded.
class ConverterCache {
 public:
  ConverterCache() = default;
  ConverterCache(const ConverterCache&) = delete;
  ConverterCache& operator=(const ConverterCache&) = delete;
  ~ConverterCache() {
    for (auto& s : slots_)
      if (s.cnv) ucnv_close(s.cnv);
  }

  // The returned reference is valid until the next get().
  Converter& get(const std::string& key) {
    for (auto& s : slots_)
      if (s.key == key && !s.key.empty()) return s;
    Converter& s = slots_[next_];
    next_ = (next_ + 1) % slots_.size();
    if (s.cnv) ucnv_close(s.cnv);
    s = Converter{};
    s.key = key;
    open(s);
    return s;
  }

 private:
  static void open(Converter& s) {
    if (!label_chars_ok(s.key)) return;
    // The alias table is in memory; a name it lacks would make ICU look for a data file.
    UErrorCode err = U_ZERO_ERROR;
    if (ucnv_countAliases(s.key.c_str(), &err) == 0 || U_FAILURE(err)) return;
    err = U_ZERO_ERROR;
    UConverter* cnv = ucnv_open(s.key.c_str(), &err);
    if (U_FAILURE(err) || !cnv) return;
    err = U_ZERO_ERROR;
    ucnv_setToUCallBack(cnv, to_unicode_callback, &s.replaced, nullptr, nullptr, &err);
    if (U_FAILURE(err)) {
      ucnv_close(cnv);
      return;
    }
    s.cnv = cnv;
    s.name = canonical_name(cnv, s.key);
    s.single_byte = ucnv_getMaxCharSize(cnv) == 1;
    // ASCII-compatible when bytes 0..0x7F map to themselves (not UTF-16, UTF-7, ISO-2022,
    // HZ, EBCDIC): only then may 7-bit text skip the converter.
    std::string probe(128, '\0'), got;
    for (std::size_t i = 0; i < probe.size(); ++i) probe[i] = static_cast<char>(i);
    s.ascii_compatible = icu_convert(s, probe, got) == 0 && got == probe;
  }

  std::array<Converter, kCacheSlots> slots_;
  std::size_t next_ = 0;
};

ConverterCache& cache() {
  thread_local ConverterCache c;
  return c;
}

class Detector {
 public:
  Detector() = default;
  Detector(const Detector&) = delete;
  Detector& operator=(const Detector&) = delete;
  ~Detector() {
    if (d_) ucsdet_close(d_);
  }

  // The normalised label ICU guesses for `bytes`, or "" when it has no confident guess.
  std::string guess(std::string_view bytes) {
    if (!d_) {
      UErrorCode err = U_ZERO_ERROR;
      d_ = ucsdet_open(&err);
      if (U_FAILURE(err)) {
        d_ = nullptr;
        return {};
      }
    }
    const std::string_view sample = bytes.substr(0, kDetectBytes);
    UErrorCode err = U_ZERO_ERROR;
    ucsdet_setText(d_, sample.data(), static_cast<int32_t>(sample.size()), &err);
    int32_t count = 0;
    const UCharsetMatch** matches = ucsdet_detectAll(d_, &count, &err);
    if (U_FAILURE(err) || !matches) return {};
    const bool has_nul = sample.find('\0') != std::string_view::npos;
    for (int32_t i = 0; i < count; ++i) {
      UErrorCode e = U_ZERO_ERROR;
      const char* name = ucsdet_getName(matches[i], &e);
      const int32_t confidence = ucsdet_getConfidence(matches[i], &e);
      if (U_FAILURE(e) || !name || confidence < kMinDetectConfidence) break;
      const std::string n = normalise_label(name);
      // UTF-16/32 is ICU's fallback guess for anything; only believe it with NUL bytes.
      if (n.rfind("utf-16", 0) == 0 || n.rfind("utf-32", 0) == 0) {
        if (has_nul) return n;
        continue;
      }
      if (n.rfind("ibm42", 0) == 0) continue;  // visual Hebrew / Arabic EBCDIC guesses
      return n;
    }
    return {};
  }

 private:
  UCharsetDetector* d_ = nullptr;
};

Detector& detector() {
  thread_local Detector d;
  return d;
}

enum class Kind { kMissing, kAscii, kUtf8, kCp1252, kIcu, kUnknown };

Kind classify(const std::string& key) {
  if (key.empty()) return Kind::kMissing;
  if (is_ascii_label(key)) return Kind::kAscii;
  if (is_utf8_label(key)) return Kind::kUtf8;
  if (is_cp1252_label(key)) return Kind::kCp1252;
  return cache().get(key).cnv ? Kind::kIcu : Kind::kUnknown;
}

// Number of code points in valid UTF-8.
std::size_t count_chars(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// More than ~2% replacement characters: the label is probably wrong.
bool many_replaced(std::size_t replaced, std::string_view utf8) {
  return replaced > 0 && replaced * 50 > count_chars(utf8);
}

struct Attempt {
  std::string utf8;
  std::string charset;
  std::size_t replaced = 0;
};

// Converts with a normalised label known to be usable (never kMissing / kUnknown).
Attempt convert_known(std::string_view bytes, const std::string& key) {
  Attempt a;
  switch (classify(key)) {
    case Kind::kAscii:
    case Kind::kCp1252:
      cp1252_to_utf8(bytes, a.utf8);
      a.charset = is_cp1252_label(key) && key.find("1252") == std::string::npos && key != "ms-ansi"
                      ? "iso-8859-1"
                      : "windows-1252";
      return a;
    case Kind::kUtf8:
      a.replaced = repair_utf8(bytes, a.utf8);
      a.charset = "utf-8";
      return a;
    case Kind::kIcu: {
      Converter& c = cache().get(key);
      a.charset = c.name;
      if (c.ascii_compatible && first_8bit(bytes) == bytes.size()) {
        a.utf8.assign(bytes);
      } else {
        a.utf8.reserve(bytes.size() + bytes.size() / 2);
        a.replaced = icu_convert(c, bytes, a.utf8);
      }
      return a;
    }
    case Kind::kMissing:
    case Kind::kUnknown:
      break;
  }
  cp1252_to_utf8(bytes, a.utf8);
  a.charset = "windows-1252";
  return a;
}

// Detection for 8-bit (or escape-using) bytes that are not UTF-8: ICU's guess when it
// converts cleanly, else windows-1252.
Attempt detect_and_convert(std::string_view bytes) {
  const std::string guess = detector().guess(bytes);
  if (!guess.empty()) {
    const Kind k = classify(guess);
    if (k != Kind::kMissing && k != Kind::kUnknown) {
      Attempt a = convert_known(bytes, guess);
      if (!many_replaced(a.replaced, a.utf8)) return a;
    }
  }
  return convert_known(bytes, "windows-1252");
}

std::string label_detail(std::string_view label) {
  return "'" + escape_for_display(label.substr(0, kMaxLabelBytes)) + "'";
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  return valid_utf8_from(s, 0);
}

bool charset_to_utf8(std::string_view bytes, std::string_view label, std::string& out) {
  out.clear();
  const std::string key = normalise_label(label);
  const Kind kind = classify(key);
  const std::size_t ascii = first_8bit(bytes);
  const bool eight_bit = ascii != bytes.size();
  switch (kind) {
    case Kind::kMissing:
    case Kind::kAscii:
      // No usable label: UTF-8 when the bytes are, else windows-1252 (WHATWG's reading of
      // us-ascii).
      if (!eight_bit || valid_utf8_from(bytes, ascii))
        out.assign(bytes);
      else
        cp1252_to_utf8(bytes, out);
      return true;
    case Kind::kUnknown:
      cp1252_to_utf8(bytes, out);
      return false;
    case Kind::kUtf8:
    case Kind::kCp1252:
    case Kind::kIcu:
      break;
  }
  out = convert_known(bytes, key).utf8;
  return true;
}

TextResult to_utf8(std::string_view bytes, std::string_view label, bool detect,
                   const Report& report) {
  TextResult r;
  const std::string key = normalise_label(label);
  const Kind kind = classify(key);
  const std::size_t ascii = first_8bit(bytes);
  const bool eight_bit = ascii != bytes.size();
  if (kind == Kind::kUnknown) report.add("MIME_CHARSET_UNKNOWN", label_detail(label));

  auto take = [&r](Attempt&& a) {
    r.utf8 = std::move(a.utf8);
    r.charset = std::move(a.charset);
  };

  if (kind == Kind::kMissing || kind == Kind::kAscii || kind == Kind::kUnknown) {
    if (!eight_bit) {
      // 7-bit: ASCII, unless it carries ISO-2022 escapes a detector can recognise.
      if (detect && bytes.find(kEsc) != std::string_view::npos) {
        const std::string guess = detector().guess(bytes);
        if (guess.rfind("iso-2022", 0) == 0) {
          take(convert_known(bytes, guess));
          return r;
        }
      }
      r.utf8.assign(bytes);
      r.charset = "us-ascii";
      return r;
    }
    if (kind == Kind::kMissing) report.add("MIME_CHARSET_MISSING_8BIT");
    if (kind == Kind::kAscii) report.add("MIME_CHARSET_WRONG", "8-bit bytes labelled us-ascii");
    if (valid_utf8_from(bytes, ascii)) {
      r.utf8.assign(bytes);
      r.charset = "utf-8";
      return r;
    }
    take(detect ? detect_and_convert(bytes) : convert_known(bytes, "windows-1252"));
    return r;
  }

  if (kind == Kind::kUtf8 && (!eight_bit || valid_utf8_from(bytes, ascii))) {
    r.utf8.assign(bytes);
    r.charset = "utf-8";
    return r;
  }

  Attempt a = convert_known(bytes, key);
  if (kind != Kind::kUtf8 && eight_bit && valid_utf8_from(bytes, ascii)) {
    // Valid multi-byte UTF-8 is almost never the output of a single-byte charset; for
    // multi-byte charsets only a failed conversion says the label lies.
    const bool single_byte = kind == Kind::kCp1252 || cache().get(key).single_byte;
    if (single_byte || a.replaced > 0) {
      report.add("MIME_CHARSET_WRONG", label_detail(label) + " but the bytes are UTF-8");
      if (a.replaced > 0 && detect) {
        r.utf8.assign(bytes);
        r.charset = "utf-8";
        return r;
      }
    }
    take(std::move(a));
    return r;
  }
  if (many_replaced(a.replaced, a.utf8)) {
    std::string detail =
        label_detail(label) + ": " + std::to_string(a.replaced) + " undecodable sequences";
    if (detect) {
      Attempt d = detect_and_convert(bytes);
      if (d.replaced < a.replaced) {
        detail += ", read as " + d.charset;
        a = std::move(d);
      }
    }
    report.add("MIME_CHARSET_WRONG", detail);
  }
  take(std::move(a));
  return r;
}

}  // namespace bulwark::mime
