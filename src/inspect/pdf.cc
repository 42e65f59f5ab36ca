// PDF: active content (JavaScript, open and additional actions, launch, forms, XFA, rich
// media, URIs) and embedded files, found by a linear tokenizer rather than the xref table
// (malformed PDFs are normal and readers repair them; the attacker's objects are in the
// bytes either way). FlateDecode object streams are inflated and scanned too, since they
// hide dictionaries; embedded file streams (plain or FlateDecode) go back to the chain.
//
// Bounds: each byte is lexed once per level (the file, then inflated object streams, which
// are not searched for further streams); container nesting is stored up to kMaxFrames;
// inflation is capped per stream and charged to the message budget.
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/escape.h"
#include "inspect/documents.h"
#include "inspect/image.h"
#include "inspect/engines.h"
#include "inspect/ocr.h"
#include "inspect/pdf_crypt.h"
#include "inspect/pdf_lex.h"
#include "inspect/pdf_text.h"
#include "mime/url.h"

namespace bulwark::inspect {

namespace {

using namespace pdf;  // NOLINT: the tokenizer is this file's vocabulary

// Document bytes quoted in a detail: escaped, and cut so one detail stays short.
std::string shown(std::string_view s, std::size_t max = 200) {
  std::string out = escape_for_display(s.substr(0, max));
  if (s.size() > max) out += "...";
  return out;
}

constexpr std::size_t kMaxFrames = 64;
constexpr std::size_t kMaxStreamOut = 64u << 20;
constexpr std::size_t kMaxInflated = 4096;  // streams inflated per file
constexpr std::size_t kMaxEmbedded = 64;
constexpr std::size_t kMaxImages = 32;  // image XObjects read for QR codes per file
constexpr std::size_t kMaxUris = 5;    // URIs shown in the detail
constexpr std::size_t kMaxLinks = 64;  // URIs handed to the URL checks (Results::urls)
constexpr std::size_t kMaxFileText = 64u << 10;  // text kept per file for the rules
constexpr std::size_t kMaxWidthArray = 1u << 20;     // bytes of one /W or /Widths array

struct Frame {
  bool dict = true;
  bool expect_key = true;
  std::string key;
  std::string parent_key;
  std::string type;
  std::vector<std::string> filters;
  long long length = -1;
  long long last_num = -1;
  bool has_n = false, has_first = false;
  std::string fname, ufname;
  long long ef_ref = -1;
  // Image XObjects (QR codes in PDFs): /Subtype /Image, size, bits per component.
  std::string subtype;
  long long width = -1, height = -1, bpc = -1;
  bool decode_parms = false;  // a predictor or other parameters: pixels are not read
  // Fonts and text (pdf_text.h): /ToUnicode and /Encoding, /Differences codes, font
  // programs (not text), an object stream's /N and /First.
  FontDict font;
  long long diff_code = -1;
  bool font_program = false;
  std::size_t captured_from = std::string_view::npos;  // a /W or /Widths array: where it starts
  long long n = -1, first = -1;
};

// Text strings are PDFDocEncoding or UTF-16BE with a BOM; file names are shown as UTF-8.
std::string text_string(std::string_view s) {
  if (s.size() >= 2 && static_cast<unsigned char>(s[0]) == 0xFE &&
      static_cast<unsigned char>(s[1]) == 0xFF) {
    std::string out;
    for (std::size_t i = 2; i + 1 < s.size(); i += 2) {
      const unsigned cp =
          (static_cast<unsigned char>(s[i]) << 8) | static_cast<unsigned char>(s[i + 1]);
      if (cp == 0) break;
      if (cp < 0x80) {
        out += static_cast<char>(cp);
      } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0xD800 || cp > 0xDFFF) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        out += '?';
      }
    }
    return out;
  }
  std::string out(s);
  const std::size_t nul = out.find('\0');
  if (nul != std::string::npos) out.resize(nul);
  return out;
}

std::string base_name(std::string_view path) {
  const std::size_t slash = path.find_last_of("/\\:");
  if (slash != std::string_view::npos) path.remove_prefix(slash + 1);
  return std::string(path);
}

struct Embedded {
  long long obj = -1;
  std::string data;
};

class PdfScanner {
 public:
  PdfScanner(const Blob& blob, Inspector& insp) : blob_(blob), insp_(insp) {}

  void run() {
    open_encryption();
    scan(blob_.bytes, 0);
    report();
    text();
    extract();
  }

 private:
  // `objs`: for an object stream, its objects' numbers and offsets (sorted), so that the
  // dictionaries in it are known by number like top-level ones.
  void scan(std::string_view data, int level,
            const std::vector<std::pair<std::size_t, long long>>* objs = nullptr) {
    Lexer lx(data);
    std::size_t next_obj = 0;
    std::vector<Frame> frames;
    std::size_t overflow = 0;  // containers opened beyond kMaxFrames
    Frame last_dict;
    bool last_was_dict_close = false;
    long long num1 = -1, num2 = -1;  // the last two integers seen at top level
    long long cur_obj = -1, cur_gen = 0;
    std::size_t count = 0;
    for (;;) {
      if ((++count & 0x3FFFu) == 0 && insp_.out_of_time(blob_)) return;
      Token t = lx.next();
      if (t.kind == Tok::kEnd) break;
      while (objs && next_obj < objs->size() && t.start >= (*objs)[next_obj].first) {
        cur_obj = (*objs)[next_obj++].second;
        frames.clear();
        overflow = 0;
      }
      const bool was_dict_close = last_was_dict_close;
      last_was_dict_close = false;
      switch (t.kind) {
        case Tok::kName: {
          check_name(t);
          if (frames.empty() || overflow) break;
          Frame& f = frames.back();
          if (f.dict && f.expect_key) {
            f.key = t.text;
            f.expect_key = false;
          } else if (f.dict) {
            if (f.key == "Type") f.type = t.text;
            if (f.key == "Subtype") f.subtype = t.text;
            if (f.key == "Encoding") f.font.encoding = t.text;
            if (f.key == "Filter" && f.filters.size() < 8) f.filters.push_back(t.text);
            f.expect_key = true;
          } else {
            if (f.parent_key == "Differences" && f.diff_code >= 0) text_.add_difference(cur_obj, f.diff_code++, t.text);
            if (f.filters.size() < 8) f.filters.push_back(t.text);  // Filter arrays are merged on close
          }
          break;
        }
        case Tok::kNumber: {
          long long v = -1;
          if (!t.text.empty() && t.text.find_first_not_of("0123456789") == std::string::npos &&
              t.text.size() < 18)
            v = std::stoll(t.text);
          num2 = num1;
          num1 = v;
          if (frames.empty() || overflow) break;
          Frame& f = frames.back();
          if (!f.dict && f.parent_key == "Differences") f.diff_code = v;
          if (f.dict && !f.expect_key) {
            f.last_num = v;
            if (f.key == "Length1" || f.key == "Length2" || f.key == "Length3") f.font_program = true;
            if (f.key == "N") f.n = v;
            if (f.key == "First") f.first = v;
            if (f.key == "FirstChar") f.font.first_char = v;
            if (f.key == "DW") f.font.dw = static_cast<double>(v);
            if (f.key == "Length") f.length = v;
            if (f.key == "Width") f.width = v;
            if (f.key == "Height") f.height = v;
            if (f.key == "BitsPerComponent") f.bpc = v;
            if (f.key == "N") f.has_n = true;
            if (f.key == "First") f.has_first = true;
            f.expect_key = true;
          }
          break;
        }
        case Tok::kString: {
          // Strings of top-level objects are encrypted (those inside object streams are
          // not: the stream was decrypted as a whole).
          if (crypt_ && level == 0 && cur_obj >= 0 && cur_obj != crypt_obj_)
            t.text = crypt_->string(t.text, cur_obj, cur_gen);
          if (frames.empty() || overflow) break;
          Frame& f = frames.back();
          if (f.dict && !f.expect_key) {
            if (f.key == "F" && f.fname.empty()) f.fname = text_string(t.text);
            if (f.key == "UF" && f.ufname.empty()) f.ufname = text_string(t.text);
            if (f.key == "URI") {
              ++uri_count_;
              if (uris_.size() < kMaxUris) uris_.push_back(t.text.substr(0, 200));
              if (links_.size() < kMaxLinks) links_.push_back(t.text);
            }
            f.expect_key = true;
          }
          break;
        }
        case Tok::kDictOpen:
        case Tok::kArrayOpen: {
          if (frames.size() >= kMaxFrames || overflow) {
            ++overflow;
            break;
          }
          Frame nf;
          nf.dict = t.kind == Tok::kDictOpen;
          // Width arrays are kept as written: inline in a font, or an object of their own.
          if (!nf.dict && (frames.empty() || (frames.back().dict && (frames.back().key == "W" ||
                                                                     frames.back().key == "Widths"))))
            nf.captured_from = t.start;
          if (!frames.empty()) {
            Frame& p = frames.back();
            nf.parent_key = p.dict ? p.key : p.parent_key;
            if (p.dict && (p.key == "DecodeParms" || p.key == "DP")) p.decode_parms = true;
          }
          frames.push_back(std::move(nf));
          break;
        }
        case Tok::kDictClose:
        case Tok::kArrayClose: {
          if (overflow) {
            --overflow;
            break;
          }
          if (frames.empty()) break;
          Frame done = std::move(frames.back());
          frames.pop_back();
          if (done.captured_from != std::string_view::npos && t.end - done.captured_from <= kMaxWidthArray) {
            const std::string_view written = data.substr(done.captured_from, t.end - done.captured_from);
            if (frames.empty()) text_.add_array(cur_obj, written);
            else if (frames.back().key == "W") frames.back().font.w = written;
            else frames.back().font.widths = written;
          }
          if (!frames.empty()) {
            Frame& p = frames.back();
            if (!done.dict && p.dict && p.key == "Filter") p.filters = done.filters;
            if (done.dict && done.parent_key == "EF" && done.ef_ref >= 0 && p.ef_ref < 0)
              p.ef_ref = done.ef_ref;
            if (p.dict) p.expect_key = true;
          }
          if (done.dict) {
            note_filespec(done);
            if (frames.empty() && done.type == "Font")
            {
              done.font.subtype = done.subtype;
              text_.add_font(cur_obj, std::move(done.font));
            }
            if (frames.empty()) {
              last_dict = std::move(done);
              last_was_dict_close = true;
            }
          }
          break;
        }
        case Tok::kKeyword: {
          if (t.text == "R") {
            if (frames.size() >= 2 && !overflow && !frames.back().dict &&
                frames.back().parent_key == "DescendantFonts" && frames[frames.size() - 2].font.descendant < 0)
              frames[frames.size() - 2].font.descendant = num2;
            if (!frames.empty() && !overflow) {
              Frame& f = frames.back();
              if (f.dict && f.expect_key) {
                if (f.key == "Length") f.length = -1;
                if (f.key == "ToUnicode") f.font.to_unicode = f.last_num;
                if (f.key == "Encoding") f.font.encoding_ref = f.last_num;
                if (f.key == "Widths") f.font.widths_ref = f.last_num;
                if (f.key == "W") f.font.w_ref = f.last_num;
                // Resource names (/F1 5 0 R): in a /Font dictionary, or one stored apart.
                if (f.parent_key == "Font" || frames.size() == 1) text_.add_reference(f.key, f.last_num);
                if ((f.key == "F" || f.key == "UF") && f.parent_key == "EF") f.ef_ref = f.last_num;
              }
            }
          } else if (t.text == "true" || t.text == "false" || t.text == "null") {
            if (!frames.empty() && !overflow && frames.back().dict) frames.back().expect_key = true;
          } else if (t.text == "obj") {
            cur_obj = num2;
            cur_gen = num1;
            frames.clear();
            overflow = 0;
          } else if (t.text == "trailer") {
            cur_obj = -1;
          } else if (t.text == "endobj") {
            frames.clear();
            overflow = 0;
          } else if (t.text == "stream" && level == 0 && was_dict_close) {
            lx.seek(stream(data, t.end, last_dict, cur_obj, cur_gen));
          }
          break;
        }
        case Tok::kEnd:
          break;
      }
    }
  }

  // A stream body after the "stream" keyword at `after`; returns where scanning resumes.
  std::size_t stream(std::string_view data, std::size_t after, const Frame& dict, long long obj, long long gen) {
    std::size_t start = after;
    if (start < data.size() && data[start] == '\r') ++start;
    if (start < data.size() && data[start] == '\n') ++start;
    std::size_t end = std::string_view::npos;
    if (dict.length >= 0 && static_cast<unsigned long long>(dict.length) <= data.size() - start) {
      std::size_t e = start + static_cast<std::size_t>(dict.length);
      std::size_t k = e;
      while (k < data.size() && is_space(data[k]) && k - e < 4) ++k;
      if (data.substr(k, 9) == "endstream") end = e;
    }
    std::size_t resume;
    if (end == std::string_view::npos) {
      // Once a search has failed, no later stream of this buffer has an end either (the
      // search is not repeated: many unterminated streams stay linear).
      const std::size_t es =
          data.data() == no_end_buf_ ? std::string_view::npos : data.find("endstream", start);
      // No end: readers recover objects after it by the xref, so keep scanning them.
      if (es == std::string_view::npos) {
        no_end_buf_ = data.data();
        return start;
      }
      end = es;
      resume = end;
      if (end > start && data[end - 1] == '\n') --end;
      if (end > start && data[end - 1] == '\r') --end;
    } else {
      resume = end;
    }
    std::string_view body = data.substr(start, end - start);
    std::string plain;
    if (crypt_ && dict.type != "XRef" && obj != crypt_obj_ && !(dict.type == "Metadata" && !encrypt_metadata_)) {
      if (!insp_.charge(blob_, body.size())) return resume;
      plain = crypt_->stream(body, obj, gen);
      body = plain;
    }
    if (dict.subtype == "Image") {
      image(body, dict);
      return resume;
    }
    const bool objstm = dict.type == "ObjStm" || (dict.has_n && dict.has_first);
    const bool embedded = dict.type == "EmbeddedFile";
    // Page and form content, and ToUnicode CMaps, for the document's text. Font programs,
    // metadata and cross-reference streams hold none.
    const bool maybe_text = !objstm && !embedded && !dict.font_program && dict.type != "XRef" &&
                            dict.type != "Metadata" && dict.subtype != "XML" && dict.subtype != "Type1C" &&
                            dict.subtype != "CIDFontType0C" && dict.subtype != "OpenType";
    if (!objstm && !embedded) {
      // An unfiltered stream that is text may hold objects a reader finds through the
      // xref (a /Length that swallows them): its names are scanned too.
      if (dict.filters.empty() && looks_textual(body)) scan(body, 1);
      if (!maybe_text) return resume;
      if (unreadable_) return resume;  // ciphertext: no text in it
      if (dict.filters.empty()) {
        text_.add_stream(obj, body);
        return resume;
      }
    }
    // The filter chain, in order: FlateDecode, ASCIIHexDecode and ASCII85Decode (stacked
    // filters are an old way to hide object streams); anything else is left alone.
    std::string decoded;
    std::string_view cur = body;
    if (dict.filters.size() > 4) return resume;
    for (const std::string& f : dict.filters) {
      std::string out;
      if (f == "FlateDecode" || f == "Fl") {
        if (inflated_ >= kMaxInflated) return resume;
        ++inflated_;
        if (!inflate_bounded(cur, out)) return resume;
      } else if (f == "ASCIIHexDecode" || f == "AHx") {
        ascii_hex(cur, out);
        if (!insp_.charge(blob_, out.size())) return resume;
      } else if (f == "ASCII85Decode" || f == "A85") {
        ascii85(cur, out);
        if (!insp_.charge(blob_, out.size())) return resume;
      } else {
        return resume;
      }
      decoded = std::move(out);
      cur = decoded;
    }
    if (objstm) {
      const auto objs = object_offsets(cur, dict);
      scan(cur, 1, &objs);
    } else if (!embedded) {
      text_.add_stream(obj, cur);
    } else if (embedded_.size() < kMaxEmbedded) {
      embedded_.push_back(
          Embedded{obj, dict.filters.empty() ? std::string(body) : std::move(decoded)});
    }
    return resume;
  }

  // An encrypted PDF is decrypted with the empty password (it opens without a prompt), else
  // with a password found in the message; otherwise its strings and streams are not read.
  void open_encryption() {
    const Encryption e = find_encryption(blob_.bytes);
    if (!e.found) return;
    crypt_obj_ = e.obj;
    encrypt_metadata_ = e.encrypt_metadata;
    if (e.filter != "Standard") {
      unreadable_ = true;
      insp_.symbol(blob_, "DOC_ENCRYPTED",
                   "PDF for the " + (e.filter.empty() ? std::string("unknown") : shown(e.filter, 40)) +
                       " security handler: its content is not read");
      return;
    }
    if ((crypt_ = Decryptor::open(e, ""))) {
      insp_.symbol(blob_, "PDF_ENCRYPTED_NO_PASSWORD", crypt_->method() + ", opened without a password and read");
      return;
    }
    for (const std::string& pw : insp_.passwords()) {
      if ((crypt_ = Decryptor::open(e, pw))) {
        insp_.symbol(blob_, "DOC_PASSWORD_FOUND", "PDF (" + crypt_->method() + ") opened with \"" + shown(pw, 64) +
                                                      "\" from the message");
        return;
      }
    }
    unreadable_ = true;
    insp_.symbol(blob_, "DOC_ENCRYPTED", "PDF (revision " + std::to_string(e.r) + ") needs a password: its content is not read");
  }

  // An object stream's header: /N pairs of object number and offset (from /First).
  static std::vector<std::pair<std::size_t, long long>> object_offsets(std::string_view data, const Frame& d) {
    std::vector<std::pair<std::size_t, long long>> objs;
    if (d.first < 0 || d.n <= 0 || static_cast<unsigned long long>(d.first) > data.size()) return objs;
    Lexer hl(data);
    for (long long i = 0; i < d.n && i < 65536; ++i) {
      const Token num = hl.next(), off = hl.next();
      if (num.kind != Tok::kNumber || off.kind != Tok::kNumber || off.end > static_cast<std::size_t>(d.first))
        break;
      const long long o = std::strtoll(off.text.c_str(), nullptr, 10), n = std::strtoll(num.text.c_str(), nullptr, 10);
      if (o < 0 || n < 0 || static_cast<unsigned long long>(o) > data.size() - d.first) break;
      objs.emplace_back(static_cast<std::size_t>(d.first + o), n);
    }
    std::sort(objs.begin(), objs.end());
    return objs;
  }

  static void ascii_hex(std::string_view in, std::string& out) {
    int hi = -1;
    for (char c : in) {
      if (c == '>') break;
      const int v = hex_value(c);
      if (v < 0) continue;
      if (hi < 0) {
        hi = v;
      } else {
        out += static_cast<char>(hi * 16 + v);
        hi = -1;
      }
    }
    if (hi >= 0) out += static_cast<char>(hi * 16);
  }

  static void ascii85(std::string_view in, std::string& out) {
    std::uint32_t group = 0;
    int n = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
      const char c = in[i];
      if (c == '~') break;
      if (is_space(c)) continue;
      if (c == 'z' && n == 0) {
        out.append(4, '\0');
        continue;
      }
      if (c < '!' || c > 'u') continue;
      group = group * 85 + static_cast<std::uint32_t>(c - '!');
      if (++n == 5) {
        for (int k = 3; k >= 0; --k) out += static_cast<char>((group >> (8 * k)) & 0xFF);
        group = 0;
        n = 0;
      }
    }
    if (n > 1) {
      for (int k = n; k < 5; ++k) group = group * 85 + 84;
      for (int k = 3; k >= 5 - n; --k) out += static_cast<char>((group >> (8 * k)) & 0xFF);
    }
  }

  static bool looks_textual(std::string_view b) {
    const std::string_view head = b.substr(0, 4096);
    if (head.empty()) return false;
    std::size_t text = 0;
    for (char c : head) {
      const unsigned char u = static_cast<unsigned char>(c);
      if ((u >= 0x20 && u < 0x7F) || c == '\r' || c == '\n' || c == '\t') ++text;
    }
    return text * 100 >= head.size() * 95;
  }

  // zlib (or raw deflate) with a per-stream cap, charged to the message budget as it goes.
  // An image XObject: a JPEG (DCTDecode) as it is, or 8-bit grey, RGB or CMYK and 1-bit
  // pixels (FlateDecode without predictor), read for QR codes like an attached picture.
  void image(std::string_view body, const Frame& d) {
    if (images_ >= kMaxImages) return;
    ++images_;
    const std::size_t max_pixels = insp_.limits().max_image_pixels;
    GreyImage g;
    const std::string f = d.filters.size() == 1 ? d.filters[0] : std::string();
    if (f == "DCTDecode" || f == "DCT" || f == "JPXDecode") {
      if (read_grey(body, max_pixels, g) != ImageRead::kOk) return;
    } else if ((f == "FlateDecode" || f == "Fl") && !d.decode_parms && d.width > 0 && d.height > 0 &&
               d.width <= 65535 && d.height <= 65535 && (d.bpc == 8 || d.bpc == 1)) {
      const std::size_t w = static_cast<std::size_t>(d.width), h = static_cast<std::size_t>(d.height);
      if (w * h > max_pixels || inflated_ >= kMaxInflated) return;
      ++inflated_;
      std::string raw;
      if (!inflate_bounded(body, raw, w * h * 4) || !pixels_to_grey(raw, w, h, static_cast<int>(d.bpc), g)) return;
    } else {
      return;
    }
    if (!insp_.charge(blob_, g.pixels.size())) return;
    read_image_links(Blob{{}, blob_.location + "#image-" + std::to_string(images_), {}, "", blob_.depth + 1}, g, insp_);
    // A page that is only a picture (a scanned or rendered lure): the largest is kept to
    // be read as text if the file shows no text of its own.
    if (insp_.engines().ocr() && insp_.ocr_allowed() && g.pixels.size() > page_picture_.pixels.size()) {
      page_picture_ = std::move(g);
      page_picture_at_ = images_;
    }
  }

  // Raw samples to grey. The colour space may be an indirect object, so the number of
  // components is read from the size: 1 grey, 3 RGB, 4 CMYK; 1-bit rows are byte-aligned,
  // 0 is black (DeviceGray and the default image-mask decoding alike).
  static bool pixels_to_grey(std::string_view raw, std::size_t w, std::size_t h, int bpc, GreyImage& g) {
    g.width = static_cast<int>(w);
    g.height = static_cast<int>(h);
    g.pixels.assign(w * h, 255);
    const auto px = [&](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(raw[i])); };
    if (bpc == 1) {
      const std::size_t row = (w + 7) / 8;
      if (raw.size() < row * h) return false;
      for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x)
          g.pixels[y * w + x] = (px(y * row + x / 8) >> (7 - x % 8)) & 1 ? 255 : 0;
      return true;
    }
    const std::size_t comps = raw.size() / (w * h);
    for (std::size_t i = 0; i < w * h; ++i) {
      if (comps == 1) {
        g.pixels[i] = static_cast<std::uint8_t>(px(i));
      } else if (comps == 3) {
        g.pixels[i] = static_cast<std::uint8_t>((299 * px(3 * i) + 587 * px(3 * i + 1) + 114 * px(3 * i + 2)) / 1000);
      } else if (comps == 4) {
        const unsigned ink = (30 * px(4 * i) + 59 * px(4 * i + 1) + 11 * px(4 * i + 2)) / 100 + px(4 * i + 3);
        g.pixels[i] = static_cast<std::uint8_t>(255 - std::min(255u, ink));
      } else {
        return false;
      }
    }
    return true;
  }

  bool inflate_bounded(std::string_view in, std::string& out, std::size_t max_out = 0) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      out.clear();
      z_stream zs{};
      if (inflateInit2(&zs, attempt == 0 ? 15 + 32 : -15) != Z_OK) return false;
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      zs.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), 0xFFFFFFFFu));
      std::size_t cap = std::min(kMaxStreamOut, insp_.limits().max_member_bytes);
      if (max_out) cap = std::min(cap, max_out);
      char buf[16384];
      int rc = Z_OK;
      bool budget_ok = true;
      while (rc == Z_OK && out.size() < cap) {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof(buf);
        rc = inflate(&zs, Z_NO_FLUSH);
        const std::size_t got = sizeof(buf) - zs.avail_out;
        if (got == 0 && rc == Z_BUF_ERROR) break;
        if (!insp_.charge(blob_, got)) {
          budget_ok = false;
          break;
        }
        out.append(buf, std::min(got, cap - out.size()));
      }
      inflateEnd(&zs);
      if (!budget_ok) return false;
      // A damaged or truncated stream still yields what it had (readers show it too).
      if (!out.empty() || rc == Z_STREAM_END) return true;
      if (rc != Z_DATA_ERROR) return false;
    }
    return false;
  }

  void note_filespec(const Frame& d) {
    std::string name = !d.ufname.empty() ? d.ufname : d.fname;
    if (name.empty()) return;
    name = base_name(name);
    if (name.empty()) return;
    if (d.ef_ref >= 0 && names_by_obj_.size() < 1024) names_by_obj_.emplace(d.ef_ref, name);
    if (all_names_.size() < 64 && (d.ef_ref >= 0 || d.type == "Filespec"))
      all_names_.push_back(name);
  }

  void check_name(const Token& t) {
    if (t.escaped_alnum && obfuscated_.size() < 4) obfuscated_.push_back(std::string(t.raw));
    const std::string& n = t.text;
    if (n == "JavaScript" || n == "JS") {
      javascript_ = true;
    } else if (n == "OpenAction") {
      open_action_ = true;
    } else if (n == "AA") {
      auto_action_ = true;
    } else if (n == "Launch") {
      launch_ = true;
    } else if (n == "EmbeddedFile" || n == "EmbeddedFiles") {
      embedded_file_ = true;
    } else if (n == "SubmitForm") {
      submit_form_ = true;
    } else if (n == "RichMedia") {
      rich_media_ = true;
    } else if (n == "XFA") {
      xfa_ = true;
    }
  }

  // The document's text (pdf_text.h) for the body rules; links typed in it are links.
  void text() {
    const std::string t = text_.content_streams() ? text_.text(kMaxFileText) : std::string();
    if (t.size() < 16 && !page_picture_.pixels.empty())
      read_image_text(Blob{{}, blob_.location + "#image-" + std::to_string(page_picture_at_), {}, "", blob_.depth + 1},
                      page_picture_, insp_);
    if (t.empty()) return;
    for (std::string& u : mime::find_urls(t, kMaxLinks)) insp_.results().urls.push_back(std::move(u));
    insp_.add_text(blob_, t);
  }

  void report() {
    if (!obfuscated_.empty()) {
      std::string d;
      for (const std::string& o : obfuscated_) d += (d.empty() ? "" : ", ") + shown(o);
      insp_.symbol(blob_, "PDF_OBFUSCATED_NAME", d);
    }
    if (javascript_) insp_.symbol(blob_, "PDF_JAVASCRIPT", "/JavaScript or /JS");
    if (open_action_) insp_.symbol(blob_, "PDF_OPEN_ACTION", "/OpenAction");
    if (auto_action_) insp_.symbol(blob_, "PDF_AUTO_ACTION", "/AA");
    if (launch_) insp_.symbol(blob_, "PDF_LAUNCH", "/Launch");
    if (submit_form_) insp_.symbol(blob_, "PDF_SUBMIT_FORM", "/SubmitForm");
    if (xfa_) insp_.symbol(blob_, "PDF_XFA", "/XFA");
    if (rich_media_) insp_.symbol(blob_, "PDF_RICHMEDIA", "/RichMedia");
    if (uri_count_) {
      std::string d = std::to_string(uri_count_) + " URI action(s): ";
      for (std::size_t i = 0; i < uris_.size(); ++i) d += (i ? ", " : "") + shown(uris_[i]);
      insp_.symbol(blob_, "PDF_URI", d);
      // The link a reader clicks in the PDF ("View the document"): checked like any link.
      for (const std::string& l : links_)
        for (std::string& u : mime::find_urls(l, 1)) insp_.results().urls.push_back(std::move(u));
    }
    if (embedded_file_ || !embedded_.empty()) {
      std::string d = std::to_string(embedded_.size()) + " embedded file stream(s)";
      for (std::size_t i = 0; i < all_names_.size() && i < 5; ++i)
        d += (i ? ", " : ": ") + shown(all_names_[i]);
      insp_.symbol(blob_, "PDF_EMBEDDED_FILE", d);
    }
  }

  void extract() {
    std::size_t n = 0;
    for (Embedded& e : embedded_) {
      ++n;
      std::string name;
      const auto it = names_by_obj_.find(e.obj);
      if (it != names_by_obj_.end()) {
        name = it->second;
      } else if (all_names_.size() == 1 && embedded_.size() == 1) {
        name = all_names_.front();
      }
      std::vector<std::string> names;
      if (!name.empty()) names.push_back(name);
      const std::string loc = name.empty() ? "embedded" + std::to_string(n) + ".bin" : name;
      if (!insp_.count_member(blob_) || !insp_.charge(blob_, e.data.size())) return;
      const std::string& kept = insp_.keep(std::move(e.data));
      insp_.inspect_blob(
          Blob{kept, child_location(blob_.location, loc), std::move(names), "", blob_.depth + 1});
    }
  }

  const Blob& blob_;
  Inspector& insp_;
  bool javascript_ = false, open_action_ = false, auto_action_ = false, launch_ = false;
  bool embedded_file_ = false, submit_form_ = false, rich_media_ = false, xfa_ = false;
  std::size_t uri_count_ = 0;
  std::vector<std::string> uris_;
  std::vector<std::string> links_;
  std::size_t images_ = 0;
  std::vector<std::string> obfuscated_;
  std::map<long long, std::string> names_by_obj_;
  std::vector<std::string> all_names_;
  std::vector<Embedded> embedded_;
  std::size_t inflated_ = 0;
  TextExtractor text_;
  GreyImage page_picture_;  // the largest picture, for OCR
  std::size_t page_picture_at_ = 0;
  std::optional<Decryptor> crypt_;
  long long crypt_obj_ = -1;
  bool encrypt_metadata_ = true;
  bool unreadable_ = false;  // encrypted, and no password opened it
  const char* no_end_buf_ = nullptr;  // the buffer with no "endstream" after some stream
};

}  // namespace

bool looks_like_pdf(std::string_view bytes) {
  return bytes.substr(0, std::min<std::size_t>(bytes.size(), 1024)).find("%PDF-") !=
         std::string_view::npos;
}

void inspect_pdf(const Blob& blob, Inspector& insp) {
  try {
    PdfScanner(blob, insp).run();
  } catch (const std::exception&) {
  }
}

}  // namespace bulwark::inspect
