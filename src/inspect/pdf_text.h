// The text a PDF reader shows, rebuilt from the objects the PDF scanner meets in the file
// (pdf.cc), in whatever order they come: content streams (page and form XObject), font
// dictionaries, their /ToUnicode CMaps and /Differences encodings, and the resource names
// (/F1 5 0 R) that content streams select fonts by.
//
// Why: a phishing PDF needs no link or script. "Your subscription renewed for $499, call
// +1 888 ..." in a PDF is the whole attack (callback phishing), and the message body
// around it says "see attached". The text goes to the body rules (docs/inspection.md).
//
// Word and line breaks come from positions, as a reader lays them out: a move along the
// line wider than the text just shown (glyph widths from /Widths or /W) is a space; a
// step down of about one line is a space too (a wrapped line of the same paragraph, so a
// phone number broken over two lines stays one); a larger jump is a new line.
//
// Decoding, by what the font offers: its ToUnicode CMap (bfchar, bfrange with strings and
// arrays, code lengths by codespace range), else for simple fonts /Differences glyph
// names (a, A, one, uni0041, ...) over WinAnsi; composite (Type0) fonts without a CMap
// show nothing (glyph ids, no text). When one resource name is bound to several fonts
// (each page has its own /F1), each string is read with the candidate that maps it best.
//
// Bounds: content kept per file (kMaxContent), CMap entries and /Differences per file,
// fonts, references and candidates per name are capped; interpretation is one linear pass
// over each content stream; the output is cut at the caller's maximum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bulwark::inspect::pdf {

// What a font dictionary says about its text and glyph widths, as the scanner read it.
struct FontDict {
  std::string subtype, encoding;
  long long encoding_ref = -1, to_unicode = -1;
  long long descendant = -1;           // a Type0 font's CIDFont (/DescendantFonts [n 0 R])
  long long first_char = 0;            // simple fonts: /FirstChar and /Widths
  std::string widths;                  // the array as written, when inline
  long long widths_ref = -1;
  std::string w;                       // CIDFonts: /W as written, or where it is stored
  long long w_ref = -1;
  double dw = -1;                      // CIDFonts: /DW
};

class TextExtractor {
 public:
  static constexpr std::size_t kMaxContent = 16u << 20;  // content-stream bytes kept per file
  static constexpr std::size_t kMaxMapEntries = 1u << 18;  // CMap codes + ranges per file
  static constexpr std::size_t kMaxFonts = 4096;
  static constexpr std::size_t kMaxRefs = 1u << 16;        // name -> object pairs kept
  static constexpr std::size_t kMaxCandidates = 8;          // fonts tried per resource name
  static constexpr std::size_t kMaxArrays = 16u << 20;      // bytes of width arrays kept
  static constexpr std::size_t kMaxRefsPerName = 64;        // objects one resource name may name
  static constexpr std::size_t kMaxWidthWork = 1u << 22;    // width entries read per file

  // A font dictionary in object `obj`.
  void add_font(long long obj, FontDict d);
  // An array stored as an object of its own, as written (a font's /Widths or /W).
  void add_array(long long obj, std::string_view written);
  // One entry of a /Differences array in object `obj` (a font's inline encoding or an
  // /Encoding object): `code` shows the glyph named `glyph`.
  void add_difference(long long obj, long long code, std::string_view glyph);
  // A dictionary key naming an indirect object (/F1 5 0 R); those naming fonts are the
  // resource names content streams use.
  void add_reference(std::string_view key, long long obj);
  // A decoded stream of object `obj`: kept when it is a ToUnicode CMap or holds text
  // operators. Returns whether it was kept.
  bool add_stream(long long obj, std::string_view decoded);

  // The text of every content stream, in file order, as UTF-8: words separated by
  // spaces, lines by newlines. At most `max` bytes.
  std::string text(std::size_t max) const;

  std::size_t content_streams() const { return contents_.size(); }

 private:
  struct CMap {
    struct Space {
      std::size_t len;
      std::uint32_t lo, hi;
    };
    struct Range {
      std::uint32_t lo, hi;
      std::u16string base;              // destination of lo (UTF-16); the last unit counts up
      std::vector<std::string> list;    // or one UTF-8 destination per code
    };
    std::vector<Space> spaces;
    std::size_t default_len = 0;  // source length seen in the mappings, when no codespace
    std::unordered_map<std::uint32_t, std::string> chars;
    std::vector<Range> ranges;
  };
  struct Font {
    bool composite = false;  // Type0: multi-byte codes, glyph ids without a CMap
    FontDict dict;
  };
  // Glyph widths of one font, in thousandths of the font size.
  struct Widths {
    std::unordered_map<std::uint32_t, double> by_code;
    double fallback = 500;
  };
  const Widths& widths(long long font_obj) const;

  void parse_cmap(long long obj, std::string_view s);
  const std::string* lookup(const CMap& cm, std::uint32_t code, std::string& scratch) const;
  // Appends the text of string `s` shown in font `font` (null: unknown, read as WinAnsi);
  // returns how many codes had no text.
  // How far shown text moves the pen: glyph widths in thousandths of the font size, and
  // the codes and one-byte spaces shown (for character and word spacing, Tc and Tw).
  struct Advance {
    double width = 0;
    std::size_t codes = 0, spaces = 0;
  };
  std::size_t decode(std::string_view s, const Font* font, long long font_obj, std::string& out,
                     Advance* advance = nullptr) const;
  void interpret(std::string_view content, std::string& out, std::size_t max) const;

  std::map<long long, Font> fonts_;
  std::map<long long, std::map<std::uint32_t, std::string>> differences_;
  std::size_t difference_count_ = 0;
  std::map<std::string, std::vector<long long>> refs_;  // resource name -> objects
  std::size_t ref_count_ = 0;
  mutable std::size_t width_work_ = 0;
  std::map<long long, CMap> cmaps_;
  std::map<long long, std::string> arrays_;
  std::size_t array_bytes_ = 0;
  mutable std::map<long long, Widths> widths_;  // parsed on first use
  std::size_t map_entries_ = 0;
  std::vector<std::string> contents_;
  std::size_t content_bytes_ = 0;
};

// A glyph name as text (Adobe glyph list basics: letters, digits, punctuation names,
// uniXXXX, uXXXX[XX]; a suffix after '.' or '_' ignored). Empty when unknown.
std::string glyph_text(std::string_view glyph);

}  // namespace bulwark::inspect::pdf
