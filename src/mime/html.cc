// HTML to visible text and links.
//
// Two ways through a document, both linear:
//  * Tree mode (normal mail): gumbo builds the HTML5 tree, which we walk with an explicit
//    stack.
//  * Flat mode (hostile shapes): gumbo 0.10.1 is quadratic on deep nesting (scope walks
//    over the open-element stack), on many attributes in one tag (duplicate checks) and on
//    reconstructed formatting elements (tree size). A cheap pre-scan with our own
//    tokenizer estimates that work; past a budget, each tag is rewritten into a void
//    <br data-bw-t=NAME ...> marker carrying only the attributes we read, so gumbo still
//    decodes entities but builds no nesting, and a small open-element model of our own
//    (bounded look-back, amortised pops) restores the structure.
// gumbo allocates through a tracking arena: its memory and CPU time are capped (longjmp out
// of the parse when a cap is hit, then flat mode), and the tree is freed block by block,
// since gumbo_destroy_output recurses once per nesting level.
#include "mime/html.h"

#include <gumbo.h>

#include <algorithm>
#include <array>
#include <setjmp.h>
#include <signal.h>
#include <unistd.h>

#include <csetjmp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bulwark::mime {
namespace {

constexpr int kMaxGumboErrors = 100;
constexpr std::size_t kMaxAnchorText = 1024;   // anchor / alt text kept per link
constexpr std::size_t kMaxUrlBytes = 8192;     // a URL is cut here; the host comes first
constexpr std::size_t kLookback = 16;          // implied-end-tag search depth (flat model)
constexpr std::size_t kMaxTreeAttrs = 256;     // more attributes in one tag: flat mode
constexpr std::size_t kFlatChunk = 256 << 10;  // flat documents are parsed in pieces
constexpr std::size_t kDepthWorkPerByte = 16;  // tree mode allowed while sum(depth) fits
constexpr std::size_t kDepthWorkBase = 2u << 20;
constexpr std::size_t kTreeAllocPerByte = 48;  // cumulative gumbo allocation per input byte
constexpr std::size_t kTreeAllocBase = 32u << 20;
constexpr std::size_t kTreeAllocMax = 768u << 20;
constexpr std::size_t kFlatAllocMax = 256u << 20;  // per chunk; cannot be reached in practice
// gumbo runs at ~40 ns/byte on mail; ten times that (plus a base) means a slow path.
constexpr std::int64_t kTreeCpuBaseNs = 200'000'000;
constexpr std::int64_t kTreeCpuPerByteNs = 400;

// ---------------------------------------------------------------------------------------
// Small helpers

bool is_ascii_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && is_ascii_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ascii_ws(s.back())) s.remove_suffix(1);
  return s;
}

// Longest prefix of `s` of at most `n` bytes that ends on a UTF-8 character boundary.
std::size_t utf8_cut(std::string_view s, std::size_t n) {
  if (n >= s.size()) return s.size();
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

// Browsers drop leading/trailing C0 controls and spaces and every TAB/CR/LF in a URL.
std::string clean_url(std::string_view v) {
  while (!v.empty() && static_cast<unsigned char>(v.front()) <= 0x20) v.remove_prefix(1);
  while (!v.empty() && static_cast<unsigned char>(v.back()) <= 0x20) v.remove_suffix(1);
  std::string out;
  out.reserve(std::min(v.size(), kMaxUrlBytes));
  for (char c : v) {
    if (c == '\t' || c == '\n' || c == '\r') continue;
    out.push_back(c);
    if (out.size() >= kMaxUrlBytes) break;
  }
  out.resize(utf8_cut(out, out.size() >= kMaxUrlBytes ? kMaxUrlBytes : out.size()));
  return out;
}

// ---------------------------------------------------------------------------------------
// Colours and styles (no CSS engine: inline declarations, legacy attributes and the simple
// rules of <style> blocks, below)

constexpr std::int32_t kNoColor = -1;
constexpr std::int32_t kTransparent = -2;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = ascii_lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// A plain decimal number (no exponent) and whatever follows it.
bool parse_number(std::string_view s, double& value, std::string_view& rest) {
  std::size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  double v = 0;
  bool any = false;
  while (i < s.size() && is_digit(s[i])) {
    v = v * 10 + (s[i++] - '0');
    any = true;
    if (v > 1e9) v = 1e9;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    double scale = 0.1;
    while (i < s.size() && is_digit(s[i])) {
      v += (s[i++] - '0') * scale;
      scale /= 10;
      any = true;
    }
  }
  if (!any) return false;
  value = neg ? -v : v;
  rest = s.substr(i);
  return true;
}

struct NamedColor {
  std::string_view name;
  std::int32_t rgb;
};
constexpr std::array<NamedColor, 36> kNamedColors{{
    {"white", 0xFFFFFF},       {"black", 0x000000},     {"red", 0xFF0000},
    {"green", 0x008000},       {"blue", 0x0000FF},      {"yellow", 0xFFFF00},
    {"gray", 0x808080},        {"grey", 0x808080},      {"silver", 0xC0C0C0},
    {"maroon", 0x800000},      {"navy", 0x000080},      {"purple", 0x800080},
    {"teal", 0x008080},        {"olive", 0x808000},     {"lime", 0x00FF00},
    {"aqua", 0x00FFFF},        {"cyan", 0x00FFFF},      {"fuchsia", 0xFF00FF},
    {"magenta", 0xFF00FF},     {"orange", 0xFFA500},    {"whitesmoke", 0xF5F5F5},
    {"snow", 0xFFFAFA},        {"ivory", 0xFFFFF0},     {"ghostwhite", 0xF8F8FF},
    {"floralwhite", 0xFFFAF0}, {"linen", 0xFAF0E6},     {"seashell", 0xFFF5EE},
    {"mintcream", 0xF5FFFA},   {"azure", 0xF0FFFF},     {"aliceblue", 0xF0F8FF},
    {"honeydew", 0xF0FFF0},    {"beige", 0xF5F5DC},     {"lightgray", 0xD3D3D3},
    {"lightgrey", 0xD3D3D3},   {"gainsboro", 0xDCDCDC}, {"lavenderblush", 0xFFF0F5},
}};

// rgb()/rgba() channel list; percentages allowed; alpha near zero means transparent.
std::int32_t parse_rgb_function(std::string_view args) {
  std::array<double, 4> ch{0, 0, 0, 1};
  std::size_t n = 0;
  while (n < 4) {
    while (!args.empty() &&
           (is_ascii_ws(args.front()) || args.front() == ',' || args.front() == '/'))
      args.remove_prefix(1);
    double v = 0;
    std::string_view rest;
    if (!parse_number(args, v, rest)) break;
    if (!rest.empty() && rest.front() == '%') {
      v = n < 3 ? v * 255 / 100 : v / 100;
      rest.remove_prefix(1);
    }
    ch[n++] = v;
    args = rest;
  }
  if (n < 3) return kNoColor;
  if (n == 4 && ch[3] <= 0.05) return kTransparent;
  std::int32_t rgb = 0;
  for (std::size_t i = 0; i < 3; ++i)
    rgb = rgb * 256 + static_cast<std::int32_t>(std::clamp(ch[i], 0.0, 255.0));
  return rgb;
}

// A colour as found in style or in a legacy attribute (where "ffffff" without '#' is common).
std::int32_t parse_color(std::string_view v, bool legacy_attr) {
  v = trim_ws(v);
  if (v.empty()) return kNoColor;
  if (iequals(v, "transparent")) return kTransparent;
  const bool hash = v.front() == '#';
  std::string_view hex = hash ? v.substr(1) : v;
  if (hash || legacy_attr) {
    const bool all_hex =
        std::all_of(hex.begin(), hex.end(), [](char c) { return hex_value(c) >= 0; });
    if (all_hex && (hex.size() == 3 || hex.size() == 4)) {
      if (hex.size() == 4 && hex_value(hex[3]) == 0) return kTransparent;
      return (hex_value(hex[0]) * 17) << 16 | (hex_value(hex[1]) * 17) << 8 |
             hex_value(hex[2]) * 17;
    }
    if (all_hex && (hex.size() == 6 || hex.size() == 8)) {
      if (hex.size() == 8 && hex_value(hex[6]) == 0 && hex_value(hex[7]) == 0) return kTransparent;
      std::int32_t rgb = 0;
      for (std::size_t i = 0; i < 6; ++i) rgb = rgb * 16 + hex_value(hex[i]);
      return rgb;
    }
    if (hash) return kNoColor;
  }
  if (istarts_with(v, "rgb")) {
    const std::size_t open = v.find('(');
    const std::size_t close = v.rfind(')');
    if (open == std::string_view::npos) return kNoColor;
    return parse_rgb_function(v.substr(
        open + 1, close == std::string_view::npos ? std::string_view::npos : close - open - 1));
  }
  for (const NamedColor& c : kNamedColors)
    if (iequals(v, c.name)) return c.rgb;
  return kNoColor;
}

bool colors_close(std::int32_t a, std::int32_t b) {
  int diff = 0;
  for (int shift = 0; shift <= 16; shift += 8)
    diff += std::abs(((a >> shift) & 0xFF) - ((b >> shift) & 0xFF));
  return diff <= 24;
}

enum class FontSize { kUnset, kTiny, kVisible, kRelativeVisible };

FontSize classify_font_size(std::string_view v) {
  double n = 0;
  std::string_view unit;
  if (!parse_number(v, n, unit)) {
    // Keywords (small, x-small, medium...) are absolute and visible; larger/smaller relative.
    if (iequals(v, "larger") || iequals(v, "smaller") || iequals(v, "inherit"))
      return FontSize::kRelativeVisible;
    return v.empty() ? FontSize::kUnset : FontSize::kVisible;
  }
  unit = trim_ws(unit);
  if (unit.empty() || iequals(unit, "px") || iequals(unit, "pt"))
    return n <= 1 ? FontSize::kTiny : FontSize::kVisible;
  if (unit == "%") return n <= 10 ? FontSize::kTiny : FontSize::kRelativeVisible;
  if (iequals(unit, "em") || iequals(unit, "ex") || iequals(unit, "ch"))
    return n <= 0.1 ? FontSize::kTiny : FontSize::kRelativeVisible;
  return n <= 0.1 ? FontSize::kTiny : FontSize::kVisible;  // rem, cm, mm, in, pc, vw...
}

bool is_zero_length(std::string_view v) {
  double n = 0;
  std::string_view unit;
  return parse_number(v, n, unit) && n <= 0;
}

// A length in CSS pixels, for telling "off the screen" from layout: em and rem as 16px, pt
// as 4/3 px, vh and vw as 10px (a 1000-pixel window); percentages and other units are not
// lengths here. Only the first number of the value counts ("-9999px 0" is -9999).
bool css_pixels(std::string_view v, double& px) {
  std::string_view unit;
  if (!parse_number(v, px, unit)) return false;
  const std::size_t end = unit.find_first_of(" \t,)");
  unit = unit.substr(0, end);
  if (unit.empty() || iequals(unit, "px")) return true;
  if (iequals(unit, "em") || iequals(unit, "rem")) px *= 16;
  else if (iequals(unit, "pt")) px *= 4.0 / 3;
  else if (iequals(unit, "vh") || iequals(unit, "vw")) px *= 10;
  else return false;
  return true;
}

// Text moved where no window shows it: indented or shifted thousands of pixels to a side
// ("text-indent:-9999px", "left:-5000px", "margin-left:-3000px"), or pushed down by a margin
// or padding taller than any screen ("margin-top:470500px": the salad after a visible
// lure, as spam hides it from the reader but not from filters).
constexpr double kOffscreenPx = 2000;
bool offscreen(std::string_view prop, std::string_view value) {
  double px = 0;
  if (iequals(prop, "text-indent"))
    return css_pixels(value, px) && (px <= -kOffscreenPx || px >= kOffscreenPx);
  if (iequals(prop, "left") || iequals(prop, "top") || iequals(prop, "right") || iequals(prop, "margin-left") ||
      iequals(prop, "margin-right"))
    return css_pixels(value, px) && px <= -kOffscreenPx;
  if (iequals(prop, "margin-top") || iequals(prop, "padding-top"))
    return css_pixels(value, px) && (px <= -kOffscreenPx || px >= 5 * kOffscreenPx);
  if (iequals(prop, "margin") || iequals(prop, "padding"))  // the first value is the top
    return css_pixels(value, px) && (px <= -kOffscreenPx || px >= 5 * kOffscreenPx);
  return false;
}

struct StyleInfo {
  std::optional<bool> display_none;  // set when a display property was given
  bool sticky_hidden = false;  // opacity 0, mso-hide:all, zero height with overflow hidden, off screen
  bool transparent_text = false;
  std::optional<bool> visibility_hidden;
  FontSize font = FontSize::kUnset;
  std::int32_t fg = kNoColor;
  std::int32_t bg = kNoColor;
  bool bg_image = false;
};

std::int32_t first_color_in(std::string_view v) {
  // Tokens of a `background` shorthand; parentheses keep rgb(...) in one token.
  std::size_t i = 0;
  while (i < v.size()) {
    while (i < v.size() && is_ascii_ws(v[i])) ++i;
    const std::size_t start = i;
    int depth = 0;
    while (i < v.size() && (depth > 0 || !is_ascii_ws(v[i]))) {
      if (v[i] == '(') ++depth;
      if (v[i] == ')' && depth > 0) --depth;
      ++i;
    }
    if (i > start) {
      const std::int32_t c = parse_color(v.substr(start, i - start), false);
      if (c != kNoColor) return c;
    }
  }
  return kNoColor;
}

StyleInfo parse_style(std::string_view style) {
  StyleInfo s;
  bool zero_height = false;
  bool overflow_hidden = false;
  while (!style.empty()) {
    const std::size_t semi = style.find(';');
    std::string_view decl = style.substr(0, semi);
    style = semi == std::string_view::npos ? std::string_view{} : style.substr(semi + 1);
    const std::size_t colon = decl.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view prop = trim_ws(decl.substr(0, colon));
    std::string_view value = trim_ws(decl.substr(colon + 1));
    if (const std::size_t bang = value.find('!'); bang != std::string_view::npos)
      value = trim_ws(value.substr(0, bang));
    if (iequals(prop, "display")) {
      s.display_none = iequals(value, "none");
    } else if (iequals(prop, "visibility")) {
      s.visibility_hidden = iequals(value, "hidden") || iequals(value, "collapse");
    } else if (iequals(prop, "font-size")) {
      s.font = classify_font_size(value);
    } else if (iequals(prop, "font")) {
      // Shorthand: "0/0 a" or "bold 0px Arial"; a zero size anywhere is what matters.
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (is_digit(value[i]) && (i == 0 || is_ascii_ws(value[i - 1]))) {
          std::size_t j = i;
          while (j < value.size() && !is_ascii_ws(value[j]) && value[j] != '/') ++j;
          s.font = classify_font_size(value.substr(i, j - i));
          break;
        }
      }
    } else if (iequals(prop, "opacity")) {
      double n = 1;
      std::string_view unit;
      if (parse_number(value, n, unit) && (unit == "%" ? n <= 5 : n <= 0.05))
        s.sticky_hidden = true;
    } else if (iequals(prop, "color")) {
      s.fg = parse_color(value, false);
      if (s.fg == kTransparent) s.transparent_text = true;
    } else if (iequals(prop, "background-color")) {
      s.bg = parse_color(value, false);
    } else if (iequals(prop, "background")) {
      if (value.find("url(") != std::string_view::npos ||
          value.find("URL(") != std::string_view::npos)
        s.bg_image = true;
      s.bg = first_color_in(value);
    } else if (iequals(prop, "background-image")) {
      if (!iequals(value, "none")) s.bg_image = true;
    } else if (iequals(prop, "height") || iequals(prop, "max-height") || iequals(prop, "width") ||
               iequals(prop, "max-width")) {
      if (is_zero_length(value)) zero_height = true;
    } else if (iequals(prop, "overflow") || iequals(prop, "overflow-y") ||
               iequals(prop, "overflow-x")) {
      if (iequals(value, "hidden") || iequals(value, "clip")) overflow_hidden = true;
    } else if (iequals(prop, "mso-hide")) {
      if (iequals(value, "all")) s.sticky_hidden = true;
    } else if (offscreen(prop, value)) {
      s.sticky_hidden = true;
    }
  }
  if (zero_height && overflow_hidden) s.sticky_hidden = true;
  return s;
}

// Later declarations override earlier ones, as in the cascade (specificity is not modelled:
// sheet rules in document order, then the inline style).
void merge_style(StyleInfo& into, const StyleInfo& s) {
  if (s.display_none) into.display_none = s.display_none;
  if (s.visibility_hidden) into.visibility_hidden = s.visibility_hidden;
  into.sticky_hidden |= s.sticky_hidden;
  if (s.font != FontSize::kUnset) into.font = s.font;
  if (s.fg != kNoColor) {
    into.fg = s.fg;
    into.transparent_text = s.transparent_text;
  }
  if (s.bg != kNoColor) into.bg = s.bg;
  into.bg_image |= s.bg_image;
}

bool style_matters(const StyleInfo& s) {
  return s.display_none || s.visibility_hidden || s.sticky_hidden || s.font != FontSize::kUnset ||
         s.fg != kNoColor || s.bg != kNoColor || s.bg_image;
}

// ---------------------------------------------------------------------------------------
// Style sheets: the simple rules of the document's <style> blocks (tag, .class, #id and
// their compounds such as p.note or .a.b), so that text hidden through a class is hidden
// here too, as it is for the reader ("hidden text salting"). Rules inside @media,
// @supports and other at-rules are skipped: responsive mail shows its mobile copy there,
// and the default is what a desktop reader sees. Selectors with combinators, attributes
// or pseudo-classes are not applied. Class and id names match case-sensitively.

constexpr std::size_t kMaxCssBytes = 256u << 10;  // style text read per document
constexpr std::size_t kMaxCssRules = 4096;        // simple selectors kept
constexpr std::size_t kMaxClassesPerElement = 32;
constexpr std::size_t kMaxRulesPerKey = 64;         // rules indexed under one class/id/tag
constexpr std::size_t kMaxCandidatesPerElement = 256;  // so elements x rules stays linear

class StyleSheet {
 public:
  void add(std::string_view css) {
    if (bytes_ >= kMaxCssBytes) return;
    css = css.substr(0, kMaxCssBytes - bytes_);
    bytes_ += css.size();
    const std::string text = strip_comments(css);
    const std::string_view t = text;
    std::size_t i = 0;
    while (i < t.size()) {
      while (i < t.size() && (is_ascii_ws(t[i]) || t[i] == '}' || t[i] == ';')) ++i;
      if (i >= t.size()) break;
      if (t[i] == '@') {  // at-rule: up to its ';' or past its balanced block
        const std::size_t stop = t.find_first_of(";{", i);
        if (stop == std::string_view::npos) break;
        i = t[stop] == ';' ? stop + 1 : skip_block(t, stop);
        continue;
      }
      const std::size_t open = t.find('{', i);
      if (open == std::string_view::npos) break;
      std::size_t close = t.find('}', open + 1);
      if (close == std::string_view::npos) close = t.size();
      const StyleInfo style = parse_style(t.substr(open + 1, close - open - 1));
      if (style_matters(style)) add_rules(t.substr(i, open - i), style);
      i = close + 1;
    }
  }

  bool empty() const { return rules_.empty(); }

  // Merges the rules that apply to an element into `own`, in sheet order.
  void apply(std::string_view tag, std::string_view classes, std::string_view id, StyleInfo& own) const {
    std::vector<std::uint32_t> candidates;
    auto collect = [&](const std::string& key) {
      const auto it = index_.find(key);
      if (it == index_.end()) return;
      const std::size_t room = kMaxCandidatesPerElement - std::min(kMaxCandidatesPerElement, candidates.size());
      const std::size_t n = std::min(room, it->second.size());
      candidates.insert(candidates.end(), it->second.begin(), it->second.begin() + static_cast<std::ptrdiff_t>(n));
    };
    std::vector<std::string_view> names;
    for (std::size_t i = 0; i < classes.size() && names.size() < kMaxClassesPerElement;) {
      while (i < classes.size() && is_ascii_ws(classes[i])) ++i;
      const std::size_t start = i;
      while (i < classes.size() && !is_ascii_ws(classes[i])) ++i;
      if (i > start) names.push_back(classes.substr(start, i - start));
    }
    for (std::string_view c : names) collect("." + std::string(c));
    if (!id.empty()) collect("#" + std::string(id));
    collect(std::string(tag));
    if (candidates.empty()) return;
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    for (std::uint32_t k : candidates) {
      const Rule& r = rules_[k];
      if (!r.tag.empty() && r.tag != tag) continue;
      if (!r.id.empty() && r.id != id) continue;
      const bool all_classes = std::all_of(r.classes.begin(), r.classes.end(), [&](const std::string& c) {
        return std::find(names.begin(), names.end(), c) != names.end();
      });
      if (all_classes) merge_style(own, r.style);
    }
  }

 private:
  struct Rule {
    std::string tag;  // lowercase; empty: any
    std::vector<std::string> classes;
    std::string id;
    StyleInfo style;
  };

  static std::string strip_comments(std::string_view css) {
    std::string out;
    out.reserve(css.size());
    for (std::size_t i = 0; i < css.size();) {
      if (css.compare(i, 2, "/*") == 0) {
        const std::size_t end = css.find("*/", i + 2);
        i = end == std::string_view::npos ? css.size() : end + 2;
        out.push_back(' ');
      } else if (css.compare(i, 4, "<!--") == 0) {  // old mail hides CSS from old clients
        i += 4;
        out.push_back(' ');
      } else if (css.compare(i, 3, "-->") == 0) {
        i += 3;
        out.push_back(' ');
      } else {
        out.push_back(css[i++]);
      }
    }
    return out;
  }

  static std::size_t skip_block(std::string_view t, std::size_t open) {
    int depth = 0;
    for (std::size_t i = open; i < t.size(); ++i) {
      if (t[i] == '{') ++depth;
      if (t[i] == '}' && --depth == 0) return i + 1;
    }
    return t.size();
  }

  static bool name_char(char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '_'; }

  void add_rules(std::string_view selectors, const StyleInfo& style) {
    while (!selectors.empty() && rules_.size() < kMaxCssRules) {
      const std::size_t comma = selectors.find(',');
      const std::string_view one = trim_ws(selectors.substr(0, comma));
      selectors = comma == std::string_view::npos ? std::string_view{} : selectors.substr(comma + 1);
      Rule r;
      if (!parse_simple(one, r)) continue;
      // The same selector again (common in generated CSS): one rule, later values win.
      std::string canonical = r.tag + "#" + r.id;
      for (const std::string& c : r.classes) canonical += "." + c;
      if (const auto same = selectors_.find(canonical); same != selectors_.end()) {
        merge_style(rules_[same->second].style, style);
        continue;
      }
      const std::string key = !r.id.empty() ? "#" + r.id : !r.classes.empty() ? "." + r.classes.front() : r.tag;
      std::vector<std::uint32_t>& list = index_[key];
      if (list.size() >= kMaxRulesPerKey) continue;
      r.style = style;
      list.push_back(static_cast<std::uint32_t>(rules_.size()));
      selectors_.emplace(std::move(canonical), rules_.size());
      rules_.push_back(std::move(r));
    }
  }

  // tag, .class, #id and compounds of them; anything else is not applied.
  static bool parse_simple(std::string_view sel, Rule& r) {
    std::size_t i = 0;
    while (i < sel.size() && name_char(sel[i])) r.tag.push_back(ascii_lower(sel[i++]));
    while (i < sel.size()) {
      const char kind = sel[i++];
      if (kind != '.' && kind != '#') return false;
      const std::size_t start = i;
      while (i < sel.size() && name_char(sel[i])) ++i;
      if (i == start) return false;
      const std::string name(sel.substr(start, i - start));
      if (kind == '.') r.classes.push_back(name);
      else if (r.id.empty()) r.id = name;
      else return false;
    }
    return !r.tag.empty() || !r.classes.empty() || !r.id.empty();
  }

  std::vector<Rule> rules_;
  std::unordered_map<std::string, std::vector<std::uint32_t>> index_;
  std::unordered_map<std::string, std::size_t> selectors_;  // canonical selector -> rule
  std::size_t bytes_ = 0;
};

// ---------------------------------------------------------------------------------------
// Text with browser-like whitespace collapsing, bounded in bytes.

class TextBuilder {
 public:
  explicit TextBuilder(std::size_t max) : max_(max) {}

  void space() { space_ = true; }
  // A block boundary: at most one newline however many blocks meet.
  void block_break() {
    if (!out_.empty()) newlines_ = std::max(newlines_, 1);
  }
  // <br>: two in a row make an empty line, more collapse to that.
  void line_break() {
    if (!out_.empty()) newlines_ = std::min(newlines_ + 1, 2);
  }

  // Appends decoded text.
  void append(std::string_view text, bool preformatted) {
    std::size_t i = 0;
    while (i < text.size()) {
      const unsigned char c = static_cast<unsigned char>(text[i]);
      if (c < 0x80) {
        if (is_ascii_ws(text[i])) {
          if (preformatted && text[i] == '\n') {
            line_break();
          } else {
            space();
          }
          ++i;
          continue;
        }
        std::size_t j = i + 1;
        while (j < text.size() && static_cast<unsigned char>(text[j]) < 0x80 &&
               !is_ascii_ws(text[j]))
          ++j;
        put(text.substr(i, j - i));
        i = j;
        continue;
      }
      std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      len = std::min(len, text.size() - i);
      const std::string_view ch = text.substr(i, len);
      i += len;
      switch (classify(ch)) {
        case Kind::kSpace:
          space();
          break;
        case Kind::kInvisible:
          break;
        case Kind::kVisible:
          put(ch);
          break;
      }
    }
  }

  std::string take() { return std::move(out_); }

 private:
  enum class Kind { kSpace, kInvisible, kVisible };

  // U+00A0 and the Unicode spaces read as spaces; zero-width characters and the soft
  // hyphen show nothing (phishers use them to split words: "Pay&#8203;Pal").
  static Kind classify(std::string_view ch) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(ch[k]); };
    if (ch.size() == 2 && b(0) == 0xC2) {
      if (b(1) == 0xA0) return Kind::kSpace;
      if (b(1) == 0xAD) return Kind::kInvisible;
    }
    if (ch.size() == 3 && b(0) == 0xE2 && b(1) == 0x80) {
      if (b(2) <= 0x8A || b(2) == 0xA8 || b(2) == 0xA9 || b(2) == 0xAF) return Kind::kSpace;
      if (b(2) >= 0x8B && b(2) <= 0x8F) return Kind::kInvisible;
    }
    if (ch.size() == 3 && b(0) == 0xE2 && b(1) == 0x81) {
      if (b(2) == 0x9F) return Kind::kSpace;
      if (b(2) == 0xA0) return Kind::kInvisible;
    }
    if (ch.size() == 3 && b(0) == 0xE3 && b(1) == 0x80 && b(2) == 0x80) return Kind::kSpace;
    if (ch.size() == 3 && b(0) == 0xEF && b(1) == 0xBB && b(2) == 0xBF) return Kind::kInvisible;
    return Kind::kVisible;
  }

  void put(std::string_view run) {
    if (full_) return;
    if (!out_.empty()) {
      if (newlines_ > 0) {
        raw(std::string_view("\n\n", static_cast<std::size_t>(newlines_)));
      } else if (space_) {
        raw(" ");
      }
    }
    newlines_ = 0;
    space_ = false;
    raw(run);
  }

  void raw(std::string_view s) {
    if (full_) return;
    const std::size_t room = max_ - out_.size();
    if (s.size() > room) {
      out_.append(s.substr(0, utf8_cut(s, room)));
      full_ = true;
      return;
    }
    out_.append(s);
  }

  std::string out_;
  std::size_t max_;
  bool space_ = false;
  int newlines_ = 0;
  bool full_ = false;
};

// ---------------------------------------------------------------------------------------
// The extractor: consumes properly nested enter/text/leave events from either mode.

// A set of gumbo tags, built at compile time.
class TagSet {
 public:
  constexpr TagSet(std::initializer_list<GumboTag> tags) {
    for (GumboTag t : tags) bits_[static_cast<std::size_t>(t)] = true;
  }
  constexpr bool has(GumboTag t) const { return bits_[static_cast<std::size_t>(t)]; }

 private:
  std::array<bool, static_cast<std::size_t>(GUMBO_TAG_LAST) + 1> bits_{};
};

// The attributes the extractor reads (and the only ones flat mode keeps).
enum AttrSlot : std::size_t {
  kHref,
  kSrc,
  kAction,
  kFormaction,
  kData,
  kStyle,
  kAlt,
  kType,
  kHttpEquiv,
  kContent,
  kColor,
  kBgcolor,
  kSize,
  kBackground,
  kValue,
  kText,
  kHidden,
  kClass,
  kId,
  kAttrCount
};
constexpr std::array<std::string_view, kAttrCount> kAttrNames{
    "href", "src",        "action",     "formaction", "data",  "style",
    "alt",  "type",       "http-equiv", "content",    "color", "bgcolor",
    "size", "background", "value",      "text",       "hidden", "class", "id"};
static_assert(kAttrCount <= 32, "the tokenizer tracks seen attributes in 32 bits");

struct ElementView {
  GumboTag tag = GUMBO_TAG_UNKNOWN;
  std::string_view name;  // lowercase tag name, as reported in Link::tag
  const GumboVector* attrs = nullptr;
};

bool is_block(GumboTag t) {
  static constexpr TagSet kSet{
      GUMBO_TAG_ADDRESS,  GUMBO_TAG_ARTICLE,   GUMBO_TAG_ASIDE,      GUMBO_TAG_BLOCKQUOTE,
      GUMBO_TAG_BODY,     GUMBO_TAG_CAPTION,   GUMBO_TAG_CENTER,     GUMBO_TAG_DD,
      GUMBO_TAG_DETAILS,  GUMBO_TAG_DIR,       GUMBO_TAG_DIV,        GUMBO_TAG_DL,
      GUMBO_TAG_DT,       GUMBO_TAG_FIELDSET,  GUMBO_TAG_FIGCAPTION, GUMBO_TAG_FIGURE,
      GUMBO_TAG_FOOTER,   GUMBO_TAG_FORM,      GUMBO_TAG_H1,         GUMBO_TAG_H2,
      GUMBO_TAG_H3,       GUMBO_TAG_H4,        GUMBO_TAG_H5,         GUMBO_TAG_H6,
      GUMBO_TAG_HEADER,   GUMBO_TAG_HGROUP,    GUMBO_TAG_HR,         GUMBO_TAG_HTML,
      GUMBO_TAG_LEGEND,   GUMBO_TAG_LI,        GUMBO_TAG_LISTING,    GUMBO_TAG_MAIN,
      GUMBO_TAG_MENU,     GUMBO_TAG_NAV,       GUMBO_TAG_OL,         GUMBO_TAG_OPTION,
      GUMBO_TAG_P,        GUMBO_TAG_PLAINTEXT, GUMBO_TAG_PRE,        GUMBO_TAG_SECTION,
      GUMBO_TAG_SUMMARY,  GUMBO_TAG_TABLE,     GUMBO_TAG_TBODY,      GUMBO_TAG_TFOOT,
      GUMBO_TAG_THEAD,    GUMBO_TAG_TR,        GUMBO_TAG_UL,         GUMBO_TAG_XMP,
      GUMBO_TAG_TEXTAREA, GUMBO_TAG_SELECT,    GUMBO_TAG_NOSCRIPT,   GUMBO_TAG_FRAMESET};
  return kSet.has(t);
}

// Content a reader never sees as text.
bool is_textless(GumboTag t) {
  static constexpr TagSet kSet{GUMBO_TAG_HEAD,    GUMBO_TAG_TITLE,    GUMBO_TAG_SCRIPT,
                               GUMBO_TAG_STYLE,   GUMBO_TAG_TEMPLATE, GUMBO_TAG_IFRAME,
                               GUMBO_TAG_NOEMBED, GUMBO_TAG_NOFRAMES, GUMBO_TAG_DATALIST};
  return kSet.has(t);
}

bool is_preformatted(GumboTag t) {
  return t == GUMBO_TAG_PRE || t == GUMBO_TAG_TEXTAREA || t == GUMBO_TAG_LISTING ||
         t == GUMBO_TAG_XMP || t == GUMBO_TAG_PLAINTEXT;
}

// Parses <meta http-equiv=refresh content="5; url='...'"> as browsers do.
std::optional<std::string_view> refresh_url(std::string_view c) {
  std::size_t i = 0;
  while (i < c.size() && is_ascii_ws(c[i])) ++i;
  while (i < c.size() && (is_digit(c[i]) || c[i] == '.')) ++i;
  while (i < c.size() && is_ascii_ws(c[i])) ++i;
  if (i < c.size() && (c[i] == ';' || c[i] == ',')) ++i;
  while (i < c.size() && is_ascii_ws(c[i])) ++i;
  if (i >= c.size()) return std::nullopt;
  if (istarts_with(c.substr(i), "url")) {
    std::size_t j = i + 3;
    while (j < c.size() && is_ascii_ws(c[j])) ++j;
    if (j < c.size() && c[j] == '=') {
      ++j;
      while (j < c.size() && is_ascii_ws(c[j])) ++j;
      i = j;
    }
  }
  std::string_view url = c.substr(i);
  if (!url.empty() && (url.front() == '"' || url.front() == '\'')) {
    const std::size_t end = url.find(url.front(), 1);
    url = url.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1);
  }
  if (trim_ws(url).empty()) return std::nullopt;
  return url;
}

class Extractor {
 public:
  Extractor(std::size_t max_text, std::size_t max_links, std::size_t link_budget, const StyleSheet* sheet)
      : text_(max_text), sheet_(sheet), max_links_(max_links), link_budget_(link_budget) {
    Frame root;
    frames_.push_back(root);
  }

  void enter(const ElementView& e) {
    const Frame& parent = frames_.back();
    Frame f = parent;
    f.tag = e.tag;
    f.anchor_owner = false;
    f.no_text = parent.no_text || is_textless(e.tag);
    f.pre = parent.pre || is_preformatted(e.tag);

    // The attributes we read, found in one pass; the first of duplicates wins.
    std::array<const GumboAttribute*, kAttrCount> at{};
    const unsigned n = e.attrs != nullptr ? e.attrs->length : 0;
    for (unsigned i = 0; i < n; ++i) {
      const GumboAttribute* a = static_cast<const GumboAttribute*>(e.attrs->data[i]);
      const std::string_view name = a->name;
      for (std::size_t k = 0; k < kAttrCount; ++k) {
        if (name == kAttrNames[k]) {
          if (at[k] == nullptr) at[k] = a;
          break;
        }
      }
    }
    const GumboAttribute* href = at[kHref];
    const GumboAttribute* src = at[kSrc];
    const GumboAttribute* alt = at[kAlt];
    const GumboAttribute* type = at[kType];

    // Visibility.
    if (at[kHidden] != nullptr) f.sticky_hidden = true;
    if (e.tag == GUMBO_TAG_A && href != nullptr) f.fg = kLinkBlue;  // UA style, not inherited
    if (e.tag == GUMBO_TAG_BODY && at[kText] != nullptr)
      set_fg(f, parse_color(at[kText]->value, true));
    if (e.tag == GUMBO_TAG_FONT && at[kColor] != nullptr)
      set_fg(f, parse_color(at[kColor]->value, true));
    if (e.tag == GUMBO_TAG_FONT && at[kSize] != nullptr) {
      double v = 1;
      std::string_view rest;
      const std::string_view sv = trim_ws(at[kSize]->value);
      const bool relative = !sv.empty() && (sv.front() == '+' || sv.front() == '-');
      if (parse_number(sv, v, rest)) f.tiny_font = relative ? f.tiny_font : v <= 0;
    }
    if (at[kBgcolor] != nullptr) set_bg(f, parse_color(at[kBgcolor]->value, true));
    if (at[kBackground] != nullptr && !trim_ws(at[kBackground]->value).empty()) f.bg = kNoColor;
    StyleInfo own;
    if (sheet_ != nullptr && !sheet_->empty())
      sheet_->apply(e.name, at[kClass] ? std::string_view(at[kClass]->value) : std::string_view{},
                    at[kId] ? trim_ws(at[kId]->value) : std::string_view{}, own);
    if (at[kStyle] != nullptr) merge_style(own, parse_style(at[kStyle]->value));
    if (own.display_none.value_or(false) || own.sticky_hidden || own.transparent_text) f.sticky_hidden = true;
    if (own.visibility_hidden) f.visibility_hidden = *own.visibility_hidden;
    switch (own.font) {
      case FontSize::kUnset:
        break;
      case FontSize::kTiny:
        f.tiny_font = true;
        break;
      case FontSize::kVisible:
        f.tiny_font = false;
        break;
      case FontSize::kRelativeVisible:
        break;  // relative to a tiny parent stays tiny
    }
    if (own.fg >= 0) f.fg = own.fg;
    if (own.bg >= 0) f.bg = own.bg;
    if (own.bg_image) f.bg = kNoColor;
    f.hidden = f.sticky_hidden || f.visibility_hidden || f.tiny_font ||
               (f.fg >= 0 && f.bg >= 0 && colors_close(f.fg, f.bg));

    // Counters.
    if (e.tag == GUMBO_TAG_SCRIPT) ++result_.script_count;
    if (e.tag == GUMBO_TAG_FORM) ++result_.form_count;
    if (e.tag == GUMBO_TAG_INPUT && type != nullptr && iequals(trim_ws(type->value), "password"))
      result_.password_input = true;

    // Links, in document order of their elements.
    if ((e.tag == GUMBO_TAG_A || e.tag == GUMBO_TAG_AREA) && href != nullptr) {
      const std::string_view shown = e.tag == GUMBO_TAG_AREA && alt ? alt->value : "";
      if (add_link(href->value, shown, e.name) && e.tag == GUMBO_TAG_A) {
        anchors_.push_back(Anchor{result_.links.size() - 1, TextBuilder(kMaxAnchorText), {}});
        f.anchor = anchors_.size() - 1;
        f.anchor_owner = true;
      }
      href = nullptr;
    }
    if (e.tag == GUMBO_TAG_IMG || e.tag == GUMBO_TAG_IMAGE) {
      if (src != nullptr) add_link(src->value, alt ? alt->value : "", "img");
      if (alt != nullptr && f.anchor != kNoAnchor && !f.hidden) {
        std::string& a = anchors_[f.anchor].alt;
        if (!a.empty()) a.push_back(' ');
        a.append(trim_ws(alt->value).substr(0, kMaxAnchorText));
        a.resize(utf8_cut(a, kMaxAnchorText));
      }
      src = nullptr;
    }
    if (e.tag == GUMBO_TAG_META && at[kHttpEquiv] != nullptr && at[kContent] != nullptr &&
        iequals(trim_ws(at[kHttpEquiv]->value), "refresh")) {
      if (const auto url = refresh_url(at[kContent]->value)) add_link(*url, "", "meta-refresh");
    }
    if (e.tag == GUMBO_TAG_OBJECT && at[kData] != nullptr) add_link(at[kData]->value, "", e.name);
    for (const GumboAttribute* a : {href, src, at[kAction], at[kFormaction]})
      if (a != nullptr) add_link(a->value, "", e.name);

    // Layout.
    if (is_block(e.tag)) text_.block_break();
    if (e.tag == GUMBO_TAG_BR) line_break(f);
    if (e.tag == GUMBO_TAG_TD || e.tag == GUMBO_TAG_TH) text_.space();
    // A button's caption is text the reader sees.
    if (e.tag == GUMBO_TAG_INPUT && at[kValue] != nullptr && type != nullptr) {
      const std::string_view t = trim_ws(type->value);
      if (iequals(t, "submit") || iequals(t, "button") || iequals(t, "reset")) {
        text_.space();
        emit_text(f, at[kValue]->value);
        text_.space();
      }
    }
    frames_.push_back(f);
  }

  void leave() {
    if (frames_.size() <= 1) return;  // the root frame stays
    const Frame f = frames_.back();
    frames_.pop_back();
    if (f.anchor_owner) {
      Anchor& a = anchors_.back();
      Link& link = result_.links[a.link];
      link.text = a.text.take();
      if (link.text.empty()) link.text = std::move(a.alt);
      anchors_.pop_back();
    }
    if (is_block(f.tag)) text_.block_break();
    if (f.tag == GUMBO_TAG_TD || f.tag == GUMBO_TAG_TH) text_.space();
  }

  void text(std::string_view s) { emit_text(frames_.back(), s); }

  HtmlResult finish() {
    while (frames_.size() > 1) leave();
    result_.text = text_.take();  // separators still pending at the end are dropped
    return std::move(result_);
  }

 private:
  static constexpr std::int32_t kLinkBlue = 0x0000EE;
  static constexpr std::size_t kNoAnchor = static_cast<std::size_t>(-1);

  struct Frame {
    GumboTag tag = GUMBO_TAG_HTML;
    bool no_text = false;
    bool pre = false;
    bool sticky_hidden = false;  // display:none, hidden, opacity:0: no descendant undoes it
    bool visibility_hidden = false;
    bool tiny_font = false;
    bool hidden = false;
    bool anchor_owner = false;
    std::int32_t fg = 0x000000;
    std::int32_t bg = 0xFFFFFF;  // the background that shows through, inherited
    std::size_t anchor = kNoAnchor;
  };
  struct Anchor {
    std::size_t link;
    TextBuilder text;
    std::string alt;
  };

  static void set_fg(Frame& f, std::int32_t c) {
    if (c >= 0) f.fg = c;
    if (c == kTransparent) f.sticky_hidden = true;
  }
  static void set_bg(Frame& f, std::int32_t c) {
    if (c >= 0) f.bg = c;
  }

  void line_break(const Frame& f) {
    if (f.no_text || f.hidden) return;
    text_.line_break();
    if (f.anchor != kNoAnchor) anchors_[f.anchor].text.space();
  }

  void emit_text(const Frame& f, std::string_view s) {
    if (f.no_text) return;
    if (f.hidden) {
      for (char c : s)
        if (!is_ascii_ws(c)) ++result_.hidden_text_bytes;
      return;
    }
    text_.append(s, f.pre);
    if (f.anchor != kNoAnchor) anchors_[f.anchor].text.append(s, false);
  }

  bool add_link(std::string_view raw, std::string_view shown, std::string_view tag) {
    if (result_.links.size() >= max_links_) return false;
    std::string url = clean_url(raw);
    if (url.empty()) return false;
    shown = trim_ws(shown);
    shown = shown.substr(0, utf8_cut(shown, kMaxAnchorText));
    const std::size_t cost = url.size() + shown.size() + tag.size();
    if (cost > link_budget_) return false;
    link_budget_ -= cost;
    result_.links.push_back(Link{std::move(url), std::string(shown), std::string(tag)});
    return true;
  }

  HtmlResult result_;
  TextBuilder text_;
  const StyleSheet* sheet_;
  std::vector<Frame> frames_;
  std::vector<Anchor> anchors_;
  std::size_t max_links_;
  std::size_t link_budget_;
};

// ---------------------------------------------------------------------------------------
// gumbo's allocator: every block is on a list, so a parse can be abandoned or freed without
// gumbo's recursive destructor, and the cumulative allocation is capped.

std::int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// gumbo 0.10 as packaged keeps its assertions, and some hostile markup trips them. An
// abort() inside gumbo_parse is turned back into "this parse failed" (the caller then
// reads the document in flat mode, as when the budget runs out), so markup can neither
// kill the scan nor make a message unscannable. The handler is installed on first use,
// which in a worker is the warm-up, before the sandbox forbids sigaction.
thread_local sigjmp_buf* t_active_parse = nullptr;

void on_abort_in_gumbo(int) {
  if (sigjmp_buf* j = t_active_parse) {
    t_active_parse = nullptr;
    siglongjmp(*j, 2);
  }
  ::_exit(128 + SIGABRT);  // an abort anywhere else ends the process, as abort() would
}

void install_abort_guard() {
  static const bool installed = [] {
    struct sigaction sa {};
    sa.sa_handler = on_abort_in_gumbo;
    sigemptyset(&sa.sa_mask);
    return ::sigaction(SIGABRT, &sa, nullptr) == 0;
  }();
  (void)installed;
}

class Arena {
 public:
  // `cpu_limit_ns` (0: none) is a last resort against gumbo slow paths the pre-scan does not
  // foresee: this thread's CPU time is checked every 256 allocations.
  Arena(std::size_t budget, std::int64_t cpu_limit_ns)
      : budget_(budget), deadline_(cpu_limit_ns > 0 ? thread_cpu_ns() + cpu_limit_ns : 0) {
    head_.prev = head_.next = &head_;
  }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() { release(); }

  void release() {
    Block* b = head_.next;
    while (b != &head_) {
      Block* next = b->next;
      std::free(b);
      b = next;
    }
    head_.prev = head_.next = &head_;
  }

  static void* allocate(void* userdata, std::size_t size) {
    Arena* arena = static_cast<Arena*>(userdata);
    arena->used_ += size + sizeof(Block);
    if (arena->used_ > arena->budget_) siglongjmp(arena->jump_, 1);
    if (arena->deadline_ != 0 && (++arena->calls_ & 255) == 0 && thread_cpu_ns() > arena->deadline_)
      siglongjmp(arena->jump_, 1);
    Block* b = static_cast<Block*>(std::malloc(sizeof(Block) + size));
    if (b == nullptr) siglongjmp(arena->jump_, 1);
    b->next = arena->head_.next;
    b->prev = &arena->head_;
    arena->head_.next->prev = b;
    arena->head_.next = b;
    return b + 1;
  }

  static void deallocate(void* /*userdata*/, void* p) {
    if (p == nullptr) return;
    Block* b = static_cast<Block*>(p) - 1;
    b->prev->next = b->next;
    b->next->prev = b->prev;
    std::free(b);
  }

  // Parses; nullptr when the budget ran out. Nothing here has a destructor, which is what
  // makes the longjmp from allocate() back to this frame well defined.
  GumboOutput* parse(std::string_view html) {
    GumboOptions options = kGumboDefaultOptions;
    options.allocator = &Arena::allocate;
    options.deallocator = &Arena::deallocate;
    options.userdata = this;
    options.max_errors = kMaxGumboErrors;
    install_abort_guard();
    if (sigsetjmp(jump_, 1) != 0) {
      t_active_parse = nullptr;
      return nullptr;
    }
    t_active_parse = &jump_;
    GumboOutput* out = gumbo_parse_with_options(&options, html.data(), html.size());
    t_active_parse = nullptr;
    return out;
  }

 private:
  struct Block {
    Block* prev;
    Block* next;
    std::size_t pad[2];  // keeps the payload 16-byte aligned
  };
  Block head_{};
  std::size_t used_ = 0;
  std::size_t budget_;
  std::int64_t deadline_;
  std::uint32_t calls_ = 0;
  sigjmp_buf jump_;
};

// ---------------------------------------------------------------------------------------
// Tree mode

std::string lower_copy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

// The name reported for an element: gumbo's for known tags, the source's for others.
std::string_view element_name(const GumboElement& el, std::string& scratch) {
  if (el.tag != GUMBO_TAG_UNKNOWN) return gumbo_normalized_tagname(el.tag);
  GumboStringPiece piece = el.original_tag;
  gumbo_tag_from_original_text(&piece);
  scratch = lower_copy(std::string_view(piece.data, piece.length).substr(0, 64));
  return scratch;
}

const GumboVector* children_of(const GumboNode* n) {
  switch (n->type) {
    case GUMBO_NODE_DOCUMENT:
      return &n->v.document.children;
    case GUMBO_NODE_ELEMENT:
    case GUMBO_NODE_TEMPLATE:
      return &n->v.element.children;
    default:
      return nullptr;
  }
}

void walk_tree(const GumboNode* root, Extractor& ex) {
  struct Item {
    const GumboNode* node;
    unsigned next;
  };
  std::vector<Item> stack;
  stack.push_back(Item{root, 0});
  std::string scratch;
  while (!stack.empty()) {
    Item& top = stack.back();
    const GumboVector* kids = children_of(top.node);
    if (kids == nullptr || top.next >= kids->length) {
      const bool element = top.node->type != GUMBO_NODE_DOCUMENT;
      stack.pop_back();
      if (element) ex.leave();
      continue;
    }
    const GumboNode* child = static_cast<const GumboNode*>(kids->data[top.next++]);
    switch (child->type) {
      case GUMBO_NODE_ELEMENT:
      case GUMBO_NODE_TEMPLATE: {
        const GumboElement& el = child->v.element;
        ex.enter(ElementView{el.tag, element_name(el, scratch), &el.attributes});
        stack.push_back(Item{child, 0});
        break;
      }
      case GUMBO_NODE_TEXT:
      case GUMBO_NODE_WHITESPACE:
      case GUMBO_NODE_CDATA:
        ex.text(child->v.text.text);
        break;
      default:
        break;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Our tokenizer: the HTML5 tokenizer's states for tags, attributes, comments and raw text,
// without character references (gumbo decodes those). Used to estimate gumbo's work and to
// write the flat document.

struct RawAttr {
  std::size_t slot;        // index into kAttrNames
  std::string_view value;  // undecoded
};

enum class TokenKind { kText, kRawText, kStart, kEnd, kEof };

struct Token {
  TokenKind kind = TokenKind::kEof;
  std::string_view text;       // kText / kRawText
  std::string name;            // kStart / kEnd, lowercase
  std::vector<RawAttr> attrs;  // kStart: first occurrence of each attribute in kAttrNames
  std::size_t attr_count = 0;
};

enum class RawKind { kNone, kRawText, kRcData, kPlainText };

RawKind raw_kind(std::string_view name) {
  if (name == "script" || name == "style" || name == "xmp" || name == "iframe" ||
      name == "noembed" || name == "noframes")
    return RawKind::kRawText;
  if (name == "title" || name == "textarea") return RawKind::kRcData;
  if (name == "plaintext") return RawKind::kPlainText;
  return RawKind::kNone;
}

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  // Fills `t` with the next token. Comments, doctypes and processing instructions are
  // skipped; a tag cut off by the end of input is dropped, as the HTML5 tokenizer does.
  void next(Token& t) {
    t.attrs.clear();
    t.attr_count = 0;
    if (raw_ != RawKind::kNone) {
      raw_text(t);
      return;
    }
    while (pos_ < s_.size()) {
      const std::size_t start = pos_;
      // Text runs to the next '<' that opens markup.
      std::size_t lt = start;
      while (true) {
        const void* hit = std::memchr(s_.data() + lt, '<', s_.size() - lt);
        if (hit == nullptr) {
          lt = s_.size();
          break;
        }
        lt = static_cast<std::size_t>(static_cast<const char*>(hit) - s_.data());
        if (lt + 1 < s_.size()) {
          const char c = s_[lt + 1];
          if (is_alpha(c) || c == '!' || c == '?') break;
          if (c == '/' && lt + 2 < s_.size()) break;  // "</" at EOF is text
        }
        ++lt;
      }
      if (lt > start) {
        pos_ = lt;
        t.kind = TokenKind::kText;
        t.text = s_.substr(start, lt - start);
        return;
      }
      if (markup(t)) return;
    }
    t.kind = TokenKind::kEof;
  }

 private:
  static bool ws(char c) { return is_ascii_ws(c); }

  // Just past the "-->" or "--!>" that ends a comment (the end of input if none does). One
  // forward search, so many comments stay linear.
  std::size_t comment_end(std::size_t from) const {
    std::size_t p = from;
    while ((p = s_.find("--", p)) != std::string_view::npos) {
      if (p + 2 < s_.size() && s_[p + 2] == '>') return p + 3;
      if (p + 3 < s_.size() && s_[p + 2] == '!' && s_[p + 3] == '>') return p + 4;
      ++p;
    }
    return s_.size();
  }

  // Skips a bogus comment "<?...>" or "<!...>": to the next '>'.
  void skip_to_gt(std::size_t from) {
    const std::size_t gt = s_.find('>', from);
    pos_ = gt == std::string_view::npos ? s_.size() : gt + 1;
  }

  // At a '<' that opens markup. Returns true when `t` holds a token.
  bool markup(Token& t) {
    const std::size_t lt = pos_;
    const char c = s_[lt + 1];
    if (c == '!') {
      if (s_.compare(lt + 2, 2, "--") == 0) {
        const std::size_t body = lt + 4;
        if (s_.compare(body, 1, ">") == 0) {
          pos_ = body + 1;
        } else if (s_.compare(body, 2, "->") == 0) {
          pos_ = body + 2;
        } else {
          pos_ = comment_end(body);
        }
        return false;
      }
      skip_to_gt(lt + 2);
      return false;
    }
    if (c == '?') {
      skip_to_gt(lt + 2);
      return false;
    }
    if (c == '/') {
      const char d = s_[lt + 2];
      if (d == '>') {
        pos_ = lt + 3;
        return false;
      }
      if (!is_alpha(d)) {
        skip_to_gt(lt + 2);
        return false;
      }
      pos_ = lt + 2;
      return tag(t, TokenKind::kEnd);
    }
    pos_ = lt + 1;
    return tag(t, TokenKind::kStart);
  }

  bool tag(Token& t, TokenKind kind) {
    const std::size_t name_start = pos_;
    while (pos_ < s_.size() && !ws(s_[pos_]) && s_[pos_] != '/' && s_[pos_] != '>') ++pos_;
    t.name.assign(s_.substr(name_start, std::min<std::size_t>(pos_ - name_start, 64)));
    for (char& ch : t.name) ch = ascii_lower(ch);
    t.kind = kind;
    std::uint32_t seen = 0;
    while (true) {
      while (pos_ < s_.size() && ws(s_[pos_])) ++pos_;
      if (pos_ >= s_.size()) return false;  // EOF in a tag: no token
      if (s_[pos_] == '/') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '>') {
        ++pos_;
        break;
      }
      const std::size_t an = pos_;
      ++pos_;  // the first character may be '='
      while (pos_ < s_.size() && !ws(s_[pos_]) && s_[pos_] != '/' && s_[pos_] != '>' &&
             s_[pos_] != '=')
        ++pos_;
      const std::string_view attr = s_.substr(an, pos_ - an);
      std::string_view value;
      while (pos_ < s_.size() && ws(s_[pos_])) ++pos_;
      if (pos_ < s_.size() && s_[pos_] == '=') {
        ++pos_;
        while (pos_ < s_.size() && ws(s_[pos_])) ++pos_;
        if (pos_ >= s_.size()) return false;
        const char q = s_[pos_];
        if (q == '"' || q == '\'') {
          const std::size_t close = s_.find(q, pos_ + 1);
          if (close == std::string_view::npos) {
            pos_ = s_.size();
            return false;
          }
          value = s_.substr(pos_ + 1, close - pos_ - 1);
          pos_ = close + 1;
        } else if (q != '>') {
          const std::size_t vs = pos_;
          while (pos_ < s_.size() && !ws(s_[pos_]) && s_[pos_] != '>') ++pos_;
          value = s_.substr(vs, pos_ - vs);
        }
      }
      ++t.attr_count;
      // Wherever it stands: padding must not push an href out of reach.
      for (std::size_t k = 0; k < kAttrCount; ++k) {
        if (iequals(attr, kAttrNames[k])) {
          if ((seen & (1u << k)) == 0) t.attrs.push_back(RawAttr{k, value});
          seen |= 1u << k;
          break;
        }
      }
    }
    if (kind == TokenKind::kStart) {
      raw_ = raw_kind(t.name);
      raw_name_ = t.name;
    }
    return true;
  }

  // Content of script/style/title/textarea...: up to "</name" + a delimiter.
  void raw_text(Token& t) {
    const std::size_t start = pos_;
    std::size_t end = s_.size();
    if (raw_ != RawKind::kPlainText) {
      std::size_t p = start;
      while (true) {
        p = s_.find("</", p);
        if (p == std::string_view::npos) break;
        const std::size_t n = p + 2 + raw_name_.size();
        if (n < s_.size() && iequals(s_.substr(p + 2, raw_name_.size()), raw_name_) &&
            (ws(s_[n]) || s_[n] == '/' || s_[n] == '>')) {
          end = p;
          break;
        }
        p += 2;
      }
    }
    t.kind = TokenKind::kRawText;
    t.text = s_.substr(start, end - start);
    t.name = raw_name_;
    pos_ = end;
    raw_ = RawKind::kNone;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  RawKind raw_ = RawKind::kNone;
  std::string raw_name_;
};

// ---------------------------------------------------------------------------------------
// A small open-element model: the implied end tags that matter for structure, each found
// within kLookback of the top, and explicit end tags that pop to their match. Every element
// is pushed and popped once, so the model is linear whatever the nesting.

class FlatModel {
 public:
  FlatModel() : counts_(static_cast<std::size_t>(GUMBO_TAG_LAST) + 1, 0) {}

  struct Entry {
    GumboTag tag;
    bool closed;       // ended by a misnested end tag: goes once it is on top again
    std::string name;  // only for unknown tags
  };

  std::size_t depth() const { return stack_.size(); }

  // Elements a start tag closes first; `pop` is called once per element closed.
  template <typename Pop>
  void before_start(GumboTag tag, Pop&& pop) {
    if (counts_[GUMBO_TAG_HEAD] > 0 && !allowed_in_head(tag)) pop_through(GUMBO_TAG_HEAD, pop);
    switch (tag) {
      case GUMBO_TAG_LI:
        close_p(pop);
        close_near({GUMBO_TAG_LI}, {GUMBO_TAG_UL, GUMBO_TAG_OL, GUMBO_TAG_TABLE}, pop);
        break;
      case GUMBO_TAG_DT:
      case GUMBO_TAG_DD:
        close_p(pop);
        close_near({GUMBO_TAG_DT, GUMBO_TAG_DD}, {GUMBO_TAG_DL, GUMBO_TAG_TABLE}, pop);
        break;
      case GUMBO_TAG_TD:
      case GUMBO_TAG_TH:
        close_near({GUMBO_TAG_TD, GUMBO_TAG_TH}, {GUMBO_TAG_TR, GUMBO_TAG_TABLE}, pop);
        break;
      case GUMBO_TAG_TR:
        close_near({GUMBO_TAG_TR},
                   {GUMBO_TAG_TABLE, GUMBO_TAG_TBODY, GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT}, pop);
        break;
      case GUMBO_TAG_TBODY:
      case GUMBO_TAG_THEAD:
      case GUMBO_TAG_TFOOT:
        close_near({GUMBO_TAG_TBODY, GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT}, {GUMBO_TAG_TABLE}, pop);
        break;
      case GUMBO_TAG_OPTION:
      case GUMBO_TAG_OPTGROUP:
        if (!stack_.empty() && stack_.back().tag == GUMBO_TAG_OPTION) pop_one(pop);
        if (tag == GUMBO_TAG_OPTGROUP && !stack_.empty() && stack_.back().tag == GUMBO_TAG_OPTGROUP)
          pop_one(pop);
        break;
      case GUMBO_TAG_A:
        if (counts_[GUMBO_TAG_A] > 0) end_formatting(GUMBO_TAG_A, pop);  // as gumbo does
        break;
      case GUMBO_TAG_H1:
      case GUMBO_TAG_H2:
      case GUMBO_TAG_H3:
      case GUMBO_TAG_H4:
      case GUMBO_TAG_H5:
      case GUMBO_TAG_H6:
        close_p(pop);
        if (!stack_.empty() && is_heading(stack_.back().tag)) pop_one(pop);
        break;
      default:
        if (closes_p(tag)) close_p(pop);
        break;
    }
  }

  // Whether a start tag opens an element (void elements and repeats of html/body do not).
  bool opens(GumboTag tag) const {
    if (is_void(tag)) return false;
    if ((tag == GUMBO_TAG_HTML || tag == GUMBO_TAG_BODY || tag == GUMBO_TAG_HEAD) &&
        counts_[tag] > 0)
      return false;
    return true;
  }

  void push(GumboTag tag, std::string_view name) {
    stack_.push_back(
        Entry{tag, false, tag == GUMBO_TAG_UNKNOWN ? std::string(name) : std::string()});
    ++counts_[tag];
  }

  // An end tag: pops to its element if one is open; html and body stay open, as in gumbo.
  template <typename Pop>
  void end(GumboTag tag, std::string_view name, Pop&& pop) {
    if (tag == GUMBO_TAG_HTML || tag == GUMBO_TAG_BODY) return;
    if (is_formatting(tag)) {
      end_formatting(tag, pop);
      return;
    }
    if (tag != GUMBO_TAG_UNKNOWN) {
      if (counts_[tag] > 0) pop_through(tag, pop);
      return;
    }
    const std::size_t n = std::min(stack_.size(), kLookback);
    for (std::size_t i = 1; i <= n; ++i) {
      const Entry& e = stack_[stack_.size() - i];
      if (e.tag == GUMBO_TAG_UNKNOWN && !e.closed && e.name == name) {
        truncate(stack_.size() - i, pop);
        return;
      }
    }
  }

  // Text that is not whitespace ends the head.
  template <typename Pop>
  void before_text(Pop&& pop) {
    if (counts_[GUMBO_TAG_HEAD] > 0) pop_through(GUMBO_TAG_HEAD, pop);
  }

  template <typename Pop>
  void close_all(Pop&& pop) {
    while (!stack_.empty()) pop_one(pop);
  }

 private:
  static bool is_heading(GumboTag t) { return t >= GUMBO_TAG_H1 && t <= GUMBO_TAG_H6; }

  static bool is_void(GumboTag t) {
    static constexpr TagSet kSet{
        GUMBO_TAG_AREA, GUMBO_TAG_BASE,     GUMBO_TAG_BR,      GUMBO_TAG_COL,    GUMBO_TAG_EMBED,
        GUMBO_TAG_HR,   GUMBO_TAG_IMG,      GUMBO_TAG_IMAGE,   GUMBO_TAG_INPUT,  GUMBO_TAG_KEYGEN,
        GUMBO_TAG_LINK, GUMBO_TAG_META,     GUMBO_TAG_PARAM,   GUMBO_TAG_SOURCE, GUMBO_TAG_TRACK,
        GUMBO_TAG_WBR,  GUMBO_TAG_BASEFONT, GUMBO_TAG_BGSOUND, GUMBO_TAG_FRAME};
    return kSet.has(t);
  }

  static bool allowed_in_head(GumboTag t) {
    static constexpr TagSet kSet{GUMBO_TAG_TITLE,    GUMBO_TAG_META,     GUMBO_TAG_LINK,
                                 GUMBO_TAG_BASE,     GUMBO_TAG_STYLE,    GUMBO_TAG_SCRIPT,
                                 GUMBO_TAG_NOSCRIPT, GUMBO_TAG_TEMPLATE, GUMBO_TAG_BASEFONT,
                                 GUMBO_TAG_BGSOUND,  GUMBO_TAG_NOFRAMES, GUMBO_TAG_HEAD,
                                 GUMBO_TAG_HTML};
    return kSet.has(t);
  }

  static bool closes_p(GumboTag t) {
    static constexpr TagSet kSet{
        GUMBO_TAG_ADDRESS, GUMBO_TAG_ARTICLE,  GUMBO_TAG_ASIDE,      GUMBO_TAG_BLOCKQUOTE,
        GUMBO_TAG_CENTER,  GUMBO_TAG_DETAILS,  GUMBO_TAG_DIR,        GUMBO_TAG_DIV,
        GUMBO_TAG_DL,      GUMBO_TAG_FIELDSET, GUMBO_TAG_FIGCAPTION, GUMBO_TAG_FIGURE,
        GUMBO_TAG_FOOTER,  GUMBO_TAG_HEADER,   GUMBO_TAG_HGROUP,     GUMBO_TAG_MAIN,
        GUMBO_TAG_MENU,    GUMBO_TAG_NAV,      GUMBO_TAG_OL,         GUMBO_TAG_P,
        GUMBO_TAG_SECTION, GUMBO_TAG_SUMMARY,  GUMBO_TAG_UL,         GUMBO_TAG_PRE,
        GUMBO_TAG_LISTING, GUMBO_TAG_FORM,     GUMBO_TAG_TABLE,      GUMBO_TAG_HR,
        GUMBO_TAG_XMP,     GUMBO_TAG_PLAINTEXT};
    return kSet.has(t);
  }

  static bool is_scope_boundary(GumboTag t) {
    static constexpr TagSet kSet{
        GUMBO_TAG_TABLE,  GUMBO_TAG_TD,      GUMBO_TAG_TH,     GUMBO_TAG_CAPTION,  GUMBO_TAG_BUTTON,
        GUMBO_TAG_OBJECT, GUMBO_TAG_MARQUEE, GUMBO_TAG_APPLET, GUMBO_TAG_TEMPLATE, GUMBO_TAG_HTML};
    return kSet.has(t);
  }

  static bool is_formatting(GumboTag t) {
    static constexpr TagSet kSet{GUMBO_TAG_A,  GUMBO_TAG_B,     GUMBO_TAG_BIG,    GUMBO_TAG_CODE,
                                 GUMBO_TAG_EM, GUMBO_TAG_FONT,  GUMBO_TAG_I,      GUMBO_TAG_NOBR,
                                 GUMBO_TAG_S,  GUMBO_TAG_SMALL, GUMBO_TAG_STRIKE, GUMBO_TAG_STRONG,
                                 GUMBO_TAG_TT, GUMBO_TAG_U};
    return kSet.has(t);
  }

  // Roughly gumbo's "special" elements: the blocks the adoption agency cannot close.
  static bool is_special(GumboTag t) { return is_block(t) || closes_p(t) || is_scope_boundary(t); }

  // The adoption agency, simplified: with only inline elements above it a formatting
  // element closes them and itself; with a block above, gumbo keeps that block open (moved
  // under a clone of the element), so here the element just ends when it is on top again.
  // Beyond kLookback the end tag is ignored, which only overestimates the depth.
  template <typename Pop>
  void end_formatting(GumboTag tag, Pop&& pop) {
    const std::size_t n = std::min(stack_.size(), kLookback);
    bool block_above = false;
    for (std::size_t i = 1; i <= n; ++i) {
      Entry& e = stack_[stack_.size() - i];
      if (e.tag == tag && !e.closed) {
        if (block_above) {
          e.closed = true;
          --counts_[tag];
        } else {
          truncate(stack_.size() - i, pop);
        }
        return;
      }
      if (is_special(e.tag)) block_above = true;
    }
  }

  // Pops down to `size` entries, then any closed entries that come to the top.
  template <typename Pop>
  void truncate(std::size_t size, Pop&& pop) {
    while (stack_.size() > size) pop_raw(pop);
    while (!stack_.empty() && stack_.back().closed) pop_raw(pop);
  }

  template <typename Pop>
  void pop_raw(Pop&& pop) {
    if (!stack_.back().closed) --counts_[stack_.back().tag];
    stack_.pop_back();
    pop();
  }

  template <typename Pop>
  void pop_one(Pop&& pop) {
    truncate(stack_.size() - 1, pop);
  }

  template <typename Pop>
  void pop_through(GumboTag tag, Pop&& pop) {
    while (!stack_.empty()) {
      const bool last = stack_.back().tag == tag && !stack_.back().closed;
      pop_raw(pop);
      if (last) break;
    }
    truncate(stack_.size(), pop);
  }

  template <typename Pop>
  void close_p(Pop&& pop) {
    if (counts_[GUMBO_TAG_P] == 0) return;
    close_near({GUMBO_TAG_P}, {}, pop);
  }

  // Pops through the nearest of `targets` if it lies within kLookback of the top, not
  // behind a scope boundary or one of `stops`.
  template <typename Pop>
  void close_near(std::initializer_list<GumboTag> targets, std::initializer_list<GumboTag> stops,
                  Pop&& pop) {
    const std::size_t n = std::min(stack_.size(), kLookback);
    for (std::size_t i = 1; i <= n; ++i) {
      const Entry& e = stack_[stack_.size() - i];
      const GumboTag t = e.tag;
      if (!e.closed && std::find(targets.begin(), targets.end(), t) != targets.end()) {
        truncate(stack_.size() - i, pop);
        return;
      }
      if (is_scope_boundary(t) || std::find(stops.begin(), stops.end(), t) != stops.end()) return;
    }
  }

  std::vector<Entry> stack_;
  std::vector<std::size_t> counts_;
};

GumboTag tag_of(std::string_view name) {
  if (name.empty()) return GUMBO_TAG_UNKNOWN;
  const GumboTag t = gumbo_tagn_enum(name.data(), static_cast<unsigned>(name.size()));
  return t == GUMBO_TAG_IMAGE ? GUMBO_TAG_IMG : t;
}

struct PreScan {
  std::size_t depth_work = 0;  // sum over tags of the modelled open-element depth
  std::size_t max_attrs = 0;
  StyleSheet sheet;            // from every <style> block, wherever it stands
};

PreScan prescan(std::string_view html) {
  PreScan r;
  Scanner scanner(html);
  FlatModel model;
  Token t;
  const auto nothing = [] {};
  for (scanner.next(t); t.kind != TokenKind::kEof; scanner.next(t)) {
    if (t.kind == TokenKind::kStart) {
      const GumboTag tag = tag_of(t.name);
      model.before_start(tag, nothing);
      if (model.opens(tag)) model.push(tag, t.name);
      r.max_attrs = std::max(r.max_attrs, t.attr_count);
    } else if (t.kind == TokenKind::kRawText && t.name == "style") {
      r.sheet.add(t.text);
      continue;
    } else if (t.kind == TokenKind::kEnd) {
      model.end(tag_of(t.name), t.name, nothing);
    } else {
      continue;
    }
    r.depth_work += model.depth();
  }
  return r;
}

// ---------------------------------------------------------------------------------------
// Flat mode

bool safe_name(std::string_view n) {
  return !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_' || c == ':' || c == '.';
  });
}

void append_escaped(std::string& out, std::string_view s, bool escape_amp) {
  for (char c : s) {
    if (c == '<') {
      out += "&lt;";
    } else if (c == '&' && escape_amp) {
      out += "&amp;";
    } else {
      out.push_back(c);
    }
  }
}

// Writes one token as flat markup: tags become <br> markers, raw text is escaped or dropped.
void write_flat(const Token& t, std::string& out) {
  switch (t.kind) {
    case TokenKind::kText:
      out.append(t.text);
      break;
    case TokenKind::kRawText:
      // Script, style, title and iframe contents are not shown; the rest is literal text
      // (textarea keeps its character references, the raw-text elements do not have any).
      if (t.name == "textarea") {
        append_escaped(out, t.text, false);
      } else if (t.name == "xmp" || t.name == "plaintext") {
        append_escaped(out, t.text, true);
      }
      break;
    case TokenKind::kStart: {
      out += "<br data-bw-t=\"";
      out += safe_name(t.name) ? std::string_view(t.name) : std::string_view("x-bw");
      out += '"';
      for (const RawAttr& a : t.attrs) {
        out += ' ';
        out += kAttrNames[a.slot];
        out += "=\"";
        for (char c : a.value) {
          if (c == '"') {
            out += "&quot;";
          } else {
            out.push_back(c);
          }
        }
        out += '"';
      }
      out += '>';
      break;
    }
    case TokenKind::kEnd:
      out += "<br data-bw-e=\"";
      out += safe_name(t.name) ? std::string_view(t.name) : std::string_view("x-bw");
      out += "\">";
      break;
    case TokenKind::kEof:
      break;
  }
}

const GumboAttribute* find_attr(const GumboVector& attrs, std::string_view name) {
  for (unsigned i = 0; i < attrs.length; ++i) {
    const GumboAttribute* a = static_cast<const GumboAttribute*>(attrs.data[i]);
    if (name == a->name) return a;
  }
  return nullptr;
}

bool has_visible_char(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return !is_ascii_ws(c); });
}

// Walks one parsed chunk of flat markup, replaying its markers through the model.
void walk_flat(const GumboNode* root, FlatModel& model, Extractor& ex) {
  const auto pop = [&ex] { ex.leave(); };
  struct Item {
    const GumboNode* node;
    unsigned next;
  };
  std::vector<Item> stack;
  stack.push_back(Item{root, 0});
  while (!stack.empty()) {
    Item& top = stack.back();
    const GumboVector* kids = children_of(top.node);
    if (kids == nullptr || top.next >= kids->length) {
      stack.pop_back();
      continue;
    }
    const GumboNode* child = static_cast<const GumboNode*>(kids->data[top.next++]);
    if (child->type == GUMBO_NODE_TEXT || child->type == GUMBO_NODE_WHITESPACE ||
        child->type == GUMBO_NODE_CDATA) {
      const std::string_view s = child->v.text.text;
      if (has_visible_char(s)) model.before_text(pop);
      ex.text(s);
      continue;
    }
    if (child->type != GUMBO_NODE_ELEMENT && child->type != GUMBO_NODE_TEMPLATE) continue;
    const GumboElement& el = child->v.element;
    if (el.tag != GUMBO_TAG_BR) {
      stack.push_back(Item{child, 0});  // html/head/body gumbo added around the markers
      continue;
    }
    if (const GumboAttribute* start = find_attr(el.attributes, "data-bw-t")) {
      const std::string_view name = start->value;
      const GumboTag tag = tag_of(name);
      model.before_start(tag, pop);
      ex.enter(ElementView{tag, name, &el.attributes});
      if (model.opens(tag)) {
        model.push(tag, name);
      } else {
        ex.leave();
      }
    } else if (const GumboAttribute* end = find_attr(el.attributes, "data-bw-e")) {
      const std::string_view name = end->value;
      const GumboTag tag = tag_of(name);
      if (tag == GUMBO_TAG_BR) {  // "</br>" is a line break
        ex.enter(ElementView{GUMBO_TAG_BR, "br", nullptr});
        ex.leave();
      } else {
        model.end(tag, name, pop);
      }
    }
  }
}

HtmlResult run_flat(std::string_view html, Extractor& ex) {
  Scanner scanner(html);
  FlatModel model;
  Token t;
  // Each chunk starts in <body> so its leading whitespace is kept.
  static constexpr std::string_view kPrefix = "<body>";
  std::string chunk(kPrefix);
  const auto flush = [&] {
    Arena arena(kFlatAllocMax, 0);
    if (const GumboOutput* out = arena.parse(chunk)) walk_flat(out->document, model, ex);
    chunk.assign(kPrefix);
  };
  for (scanner.next(t); t.kind != TokenKind::kEof; scanner.next(t)) {
    write_flat(t, chunk);
    if (chunk.size() >= kFlatChunk) flush();
  }
  if (chunk.size() > kPrefix.size()) flush();
  model.close_all([&ex] { ex.leave(); });
  return ex.finish();
}

}  // namespace

HtmlResult html_to_text(std::string_view utf8_html, std::size_t max_text, std::size_t max_links) {
  const std::size_t n = utf8_html.size();
  const std::size_t link_budget = n + (64u << 10);
  const PreScan scan = prescan(utf8_html);
  if (scan.depth_work <= kDepthWorkPerByte * n + kDepthWorkBase &&
      scan.max_attrs <= kMaxTreeAttrs) {
    const std::size_t budget = std::min(kTreeAllocMax, kTreeAllocPerByte * n + kTreeAllocBase);
    Arena arena(budget, kTreeCpuBaseNs + kTreeCpuPerByteNs * static_cast<std::int64_t>(n));
    if (const GumboOutput* out = arena.parse(utf8_html)) {
      Extractor ex(max_text, max_links, link_budget, &scan.sheet);
      walk_tree(out->document, ex);
      return ex.finish();
    }
  }
  Extractor ex(max_text, max_links, link_budget, &scan.sheet);
  return run_flat(utf8_html, ex);
}

void prepare_html_engine() { install_abort_guard(); }

}  // namespace bulwark::mime
