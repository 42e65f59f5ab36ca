// OOXML parts (members of .docx/.xlsm/.pptx zips, by their path): external relationships
// (remote templates, OLE links, frames), DDE field codes and links, macro-enabled content
// types. XML is read with a tolerant linear scanner, not a parser: what Office accepts
// (prefixes, any case, whitespace and entities inside values, unterminated markup) must
// not hide anything from it.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/ascii.h"
#include "core/utf8.h"
#include "core/escape.h"
#include "inspect/documents.h"

namespace bulwark::inspect {

namespace {

using ascii::lower;
using ascii::to_lower;
using ascii::iequals;
using ascii::istarts;

constexpr std::size_t kMaxInstr = 64u << 10;  // field-code text kept per field
constexpr std::size_t kMaxValue = 8u << 10;   // attribute value kept
constexpr std::size_t kMaxPartText = 64u << 10;  // text read per part for the rules





bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}


// XML character and entity references decoded (unknown entities stay as written).
std::string decode_entities(std::string_view s, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && out.size() < max; ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const std::size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) {
      out += '&';
      continue;
    }
    const std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp") {
      out += '&';
    } else if (ent == "lt") {
      out += '<';
    } else if (ent == "gt") {
      out += '>';
    } else if (ent == "quot") {
      out += '"';
    } else if (ent == "apos") {
      out += '\'';
    } else if (ent.size() >= 2 && ent[0] == '#') {
      const bool hex = ent[1] == 'x' || ent[1] == 'X';
      std::uint32_t cp = 0;
      bool ok = ent.size() > (hex ? 2u : 1u);
      for (std::size_t k = hex ? 2 : 1; k < ent.size() && ok; ++k) {
        const char c = ent[k];
        unsigned d = 0;
        if (c >= '0' && c <= '9') {
          d = static_cast<unsigned>(c - '0');
        } else if (hex && lower(c) >= 'a' && lower(c) <= 'f') {
          d = static_cast<unsigned>(lower(c) - 'a' + 10);
        } else {
          ok = false;
          break;
        }
        cp = cp * (hex ? 16u : 10u) + d;
        if (cp > 0x10FFFF) ok = false;
      }
      if (!ok) {
        out += '&';
        continue;
      }
      bulwark::append_utf8(out, cp == 0 ? 0xFFFD : cp);  // &#0; is U+FFFD in HTML and XML
    } else {
      out += '&';
      continue;
    }
    i = semi;
  }
  return out;
}

std::string strip_spaces(std::string_view s) {
  std::string out;
  for (char c : s)
    if (!is_space(c)) out += c;
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view local_name(std::string_view qname) {
  const std::size_t colon = qname.rfind(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

struct Tag {
  std::string_view name;   // qualified name as written
  std::string_view attrs;  // raw attribute text
  bool end = false;        // </name>
  bool self_closing = false;
};

// Walks markup: calls on_tag(Tag) for each element tag and on_text(text) for character
// data between tags (CDATA included). Comments, PIs and declarations are skipped. Linear.
template <typename OnTag, typename OnText>
void scan_xml(std::string_view x, OnTag&& on_tag, OnText&& on_text) {
  std::size_t i = 0;
  while (i < x.size()) {
    const std::size_t lt = x.find('<', i);
    if (lt == std::string_view::npos) {
      on_text(x.substr(i));
      return;
    }
    if (lt > i) on_text(x.substr(i, lt - i));
    const std::string_view rest = x.substr(lt);
    if (rest.starts_with("<!--")) {
      const std::size_t e = x.find("-->", lt + 4);
      i = e == std::string_view::npos ? x.size() : e + 3;
      continue;
    }
    if (rest.starts_with("<![CDATA[")) {
      const std::size_t e = x.find("]]>", lt + 9);
      const std::size_t stop = e == std::string_view::npos ? x.size() : e;
      on_text(x.substr(lt + 9, stop - lt - 9));
      i = e == std::string_view::npos ? x.size() : e + 3;
      continue;
    }
    if (rest.starts_with("<?") || rest.starts_with("<!")) {
      const std::size_t e = x.find('>', lt + 2);
      i = e == std::string_view::npos ? x.size() : e + 1;
      continue;
    }
    // An element tag: find its '>' outside quotes.
    std::size_t p = lt + 1;
    Tag t;
    if (p < x.size() && x[p] == '/') {
      t.end = true;
      ++p;
    }
    while (p < x.size() && is_space(x[p])) ++p;
    const std::size_t name_start = p;
    while (p < x.size() && !is_space(x[p]) && x[p] != '>' && x[p] != '/') ++p;
    t.name = x.substr(name_start, p - name_start);
    const std::size_t attr_start = p;
    char quote = 0;
    while (p < x.size()) {
      const char c = x[p];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        break;
      }
      ++p;
    }
    std::size_t attr_end = p;
    if (attr_end > attr_start && x[attr_end - 1] == '/') {
      t.self_closing = true;
      --attr_end;
    }
    t.attrs = x.substr(attr_start, attr_end - attr_start);
    if (!t.name.empty()) on_tag(t);
    i = p < x.size() ? p + 1 : x.size();
  }
}

// The value of attribute `want` (local name, any case, any prefix), entities decoded.
bool attr(std::string_view attrs, std::string_view want, std::string& value) {
  std::size_t p = 0;
  while (p < attrs.size()) {
    while (p < attrs.size() && (is_space(attrs[p]) || attrs[p] == '/')) ++p;
    const std::size_t ns = p;
    while (p < attrs.size() && !is_space(attrs[p]) && attrs[p] != '=') ++p;
    const std::string_view name = attrs.substr(ns, p - ns);
    while (p < attrs.size() && is_space(attrs[p])) ++p;
    if (p >= attrs.size() || attrs[p] != '=') {
      if (p == ns) ++p;
      continue;
    }
    ++p;
    while (p < attrs.size() && is_space(attrs[p])) ++p;
    std::string_view raw;
    if (p < attrs.size() && (attrs[p] == '"' || attrs[p] == '\'')) {
      const char q = attrs[p++];
      const std::size_t e = attrs.find(q, p);
      const std::size_t stop = e == std::string_view::npos ? attrs.size() : e;
      raw = attrs.substr(p, stop - p);
      p = stop == attrs.size() ? stop : stop + 1;
    } else {
      const std::size_t vs = p;
      while (p < attrs.size() && !is_space(attrs[p])) ++p;
      raw = attrs.substr(vs, p - vs);
    }
    if (iequals(local_name(name), want)) {
      value = decode_entities(raw, kMaxValue);
      return true;
    }
  }
  return false;
}

std::string short_detail(std::string_view s) {
  s = trim(s);
  std::string v(s.substr(0, 300));
  if (s.size() > 300) v += "...";
  return escape_for_display(v);
}

bool remote_target(std::string_view t) {
  t = trim(t);
  return istarts(t, "http://") || istarts(t, "https://") || istarts(t, "file:") ||
         istarts(t, "\\\\") || istarts(t, "//") || istarts(t, "ftp://") || istarts(t, "mhtml:") ||
         istarts(t, "\\\\?\\") || (t.find("://") != std::string_view::npos);
}

bool unc_or_file(std::string_view t) {
  t = trim(t);
  return istarts(t, "file:") || istarts(t, "\\\\") || istarts(t, "//");
}

void check_rels(const Blob& blob, Inspector& insp, std::string_view x) {
  scan_xml(
      x,
      [&](const Tag& t) {
        if (t.end || !iequals(local_name(t.name), "Relationship")) return;
        std::string type, target, mode;
        attr(t.attrs, "Type", type);
        attr(t.attrs, "Target", target);
        attr(t.attrs, "TargetMode", mode);
        type = strip_spaces(type);
        const bool external = iequals(strip_spaces(mode), "External") || remote_target(target);
        if (!external) return;
        const std::size_t slash = type.rfind('/');
        const std::string tail =
            to_lower(slash == std::string::npos ? type : type.substr(slash + 1));
        const std::string detail = short_detail(target);
        if (tail == "attachedtemplate") {
          insp.symbol(blob, "DOC_EXTERNAL_TEMPLATE", detail);
        } else if (tail == "oleobject") {
          insp.symbol(blob, "DOC_EXTERNAL_OLE_LINK", detail);
        } else if (tail == "frame" || tail == "subdocument") {
          insp.symbol(blob, "DOC_EXTERNAL_REFERENCE", short_detail(tail) + ": " + detail);
        } else if (tail != "hyperlink" && unc_or_file(target)) {
          // A UNC or file: target the application fetches by itself (an image, a font,
          // an external workbook): NTLM credentials leak to it.
          insp.symbol(blob, "DOC_EXTERNAL_REFERENCE", short_detail(tail) + ": " + detail);
        }
      },
      [](std::string_view) {});
}

bool word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// QUOTE fields with character codes ("QUOTE 68 68 69 ...") spell their text: decode them.
std::string decode_quote_codes(std::string_view lowered) {
  std::string out;
  std::size_t at = lowered.find("quote");
  if (at == std::string_view::npos) return out;
  std::size_t p = at + 5;
  while (p < lowered.size() && out.size() < 4096) {
    while (p < lowered.size() && is_space(lowered[p])) ++p;
    std::uint32_t v = 0;
    std::size_t digits = 0;
    while (p < lowered.size() && lowered[p] >= '0' && lowered[p] <= '9' && digits < 6) {
      v = v * 10 + static_cast<std::uint32_t>(lowered[p] - '0');
      ++p;
      ++digits;
    }
    if (digits == 0) {
      if (p < lowered.size()) ++p;
      continue;
    }
    if (v > 0 && v < 128) out += lower(static_cast<char>(v));
  }
  return out;
}

// The field type at `at`: the first word after whitespace (and stray quotes).
bool dde_word_at(std::string_view lowered, std::size_t at) {
  // A little leading space only: many nested fields over one long run of spaces must not
  // rescan it for each field.
  const std::size_t limit = std::min(lowered.size(), at + 64);
  while (at < limit && (is_space(lowered[at]) || lowered[at] == '"')) ++at;
  if (lowered.substr(at, 3) != "dde") return false;
  std::size_t end = at + 3;
  if (lowered.substr(end, 4) == "auto") end += 4;
  return end >= lowered.size() || !word_char(lowered[end]);
}

// A field instruction whose type is DDE or DDEAUTO (any case), directly or spelled with
// QUOTE character codes. `starts` are where nested fields begin in `instr`.
bool is_dde_instr(std::string_view instr, const std::vector<std::size_t>& starts) {
  const std::string l = to_lower(instr);
  if (dde_word_at(l, 0)) return true;
  for (std::size_t at : starts)
    if (at < l.size() && dde_word_at(l, at)) return true;
  if (l.find("quote") == std::string::npos) return false;
  const std::string q = decode_quote_codes(l);
  return !q.empty() && dde_word_at(q, 0);
}

void check_word_fields(const Blob& blob, Inspector& insp, std::string_view x) {
  std::string instr;
  std::vector<std::size_t> starts;  // where nested fields begin in `instr`
  bool in_instr = false;
  int field_depth = 0;
  std::size_t reported = 0;
  auto flush = [&]() {
    if (!instr.empty() && is_dde_instr(instr, starts) && reported < 16) {
      ++reported;
      insp.symbol(blob, "DOC_DDE", short_detail(instr));
    }
    instr.clear();
    starts.clear();
  };
  scan_xml(
      x,
      [&](const Tag& t) {
        const std::string_view name = local_name(t.name);
        if (iequals(name, "instrText")) {
          in_instr = !t.end && !t.self_closing;
          return;
        }
        in_instr = false;
        if (iequals(name, "fldSimple") && !t.end) {
          std::string v;
          if (attr(t.attrs, "instr", v) && is_dde_instr(v, {}) && reported < 16) {
            ++reported;
            insp.symbol(blob, "DOC_DDE", short_detail(v));
          }
        } else if (iequals(name, "fldChar") && !t.end) {
          std::string type;
          attr(t.attrs, "fldCharType", type);
          type = to_lower(strip_spaces(type));
          if (type == "begin") {
            if (field_depth == 0) flush();
            if (field_depth < 1000) ++field_depth;
            if (starts.size() < 1024) starts.push_back(instr.size());
          } else if (type == "end") {
            if (field_depth > 0) --field_depth;
            if (field_depth == 0) flush();
          }
        } else if (iequals(name, "p") && t.end && field_depth == 0) {
          flush();
        }
      },
      [&](std::string_view text) {
        if (in_instr && instr.size() < kMaxInstr)
          instr += decode_entities(text, kMaxInstr - instr.size());
      });
  flush();
}

// A DDE call in a formula: service|'topic'!item, outside string literals.
bool is_dde_formula(std::string_view f) {
  bool in_string = false;
  for (std::size_t i = 0; i < f.size(); ++i) {
    const char c = f[i];
    if (c == '"') in_string = !in_string;
    if (c != '|' || in_string || i == 0 || !word_char(f[i - 1])) continue;
    std::size_t p = i + 1;
    while (p < f.size() && is_space(f[p])) ++p;
    if (p < f.size() && f[p] == '\'' && f.find('!', p) != std::string_view::npos) return true;
  }
  return false;
}

// Excel: <ddeLink ddeService=.. ddeTopic=..> in external links; cell formulas that call a
// DDE server ("=cmd|' /c calc'!A0") in sheets.
void check_excel(const Blob& blob, Inspector& insp, std::string_view x) {
  bool in_formula = false;
  std::string formula;
  std::size_t reported = 0;
  scan_xml(
      x,
      [&](const Tag& t) {
        const std::string_view name = local_name(t.name);
        if (iequals(name, "ddeLink") && !t.end) {
          std::string service, topic;
          attr(t.attrs, "ddeService", service);
          attr(t.attrs, "ddeTopic", topic);
          insp.symbol(blob, "DOC_DDE",
                      "ddeLink " + short_detail(service) + "|" + short_detail(topic));
        } else if (iequals(name, "f")) {
          if (!t.end && !t.self_closing) {
            in_formula = true;
            formula.clear();
          } else if (t.end && in_formula) {
            in_formula = false;
            if (is_dde_formula(formula) && reported < 16) {
              ++reported;
              insp.symbol(blob, "DOC_DDE", "formula " + short_detail(formula));
            }
          }
        }
      },
      [&](std::string_view text) {
        if (in_formula && formula.size() < kMaxInstr) formula += decode_entities(text, kMaxInstr);
      });
}

void check_content_types(const Blob& blob, Inspector& insp, std::string_view x) {
  const std::string l = to_lower(decode_entities(x, x.size()));
  for (std::string_view key : {"macroenabled", "vbaproject"})
    if (l.find(key) != std::string::npos) {
      insp.symbol(blob, "DOC_MACRO_ENABLED",
                  std::string("content type mentions ") + std::string(key));
      break;
    }
  if (l.find("macrosheet") != std::string::npos)
    insp.symbol(blob, "DOC_XLM_MACRO", "content types declare an Excel 4.0 macro sheet");
}

// The text a reader sees in a part: character data of text elements (w:t in Word, a:t in
// PowerPoint, t in Excel's shared strings), paragraphs (p, si) and breaks as newlines,
// tabs as spaces; field codes and markup are not text. At most kMaxPartText bytes.
std::string document_text(std::string_view x) {
  std::string out;
  bool in_text = false;
  scan_xml(
      x,
      [&](const Tag& t) {
        const std::string_view name = local_name(t.name);
        if (iequals(name, "t")) {
          in_text = !t.end && !t.self_closing;
        } else if ((t.end && (iequals(name, "p") || iequals(name, "si"))) || iequals(name, "br") ||
                   iequals(name, "cr")) {
          if (!out.empty() && out.back() != '\n') out += '\n';
        } else if (iequals(name, "tab") && !out.empty() && out.back() != ' ') {
          out += ' ';
        }
      },
      [&](std::string_view text) {
        if (in_text && out.size() < kMaxPartText) out += decode_entities(text, kMaxPartText - out.size());
      });
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// OpenDocument's content.xml: character data inside paragraphs and headings (text:p,
// text:h, with their spans and links), text:s and text:tab as spaces, line breaks and
// paragraph ends as newlines. At most kMaxPartText bytes.
std::string odf_text(std::string_view x) {
  std::string out;
  int depth = 0;  // open text:p / text:h elements
  const auto brk = [&](char c) {
    if (!out.empty() && out.back() != c && out.back() != '\n') out += c;
  };
  scan_xml(
      x,
      [&](const Tag& t) {
        const std::string_view name = local_name(t.name);
        if (iequals(name, "p") || iequals(name, "h")) {
          if (t.end) {
            if (depth > 0) --depth;
            brk('\n');
          } else if (!t.self_closing) {
            ++depth;
          }
        } else if (depth > 0 && (iequals(name, "s") || iequals(name, "tab"))) {
          brk(' ');
        } else if (depth > 0 && iequals(name, "line-break")) {
          brk('\n');
        }
      },
      [&](std::string_view text) {
        if (depth > 0 && out.size() < kMaxPartText) out += decode_entities(text, kMaxPartText - out.size());
      });
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string normalise_path(std::string_view p) {
  std::string out;
  for (char c : p) out += c == '\\' ? '/' : lower(c);
  while (!out.empty() && out.front() == '/') out.erase(0, 1);
  return out;
}

enum class Part { kNone, kContentTypes, kRels, kWord, kExcel, kMacroSheet, kText, kOdfContent, kOther };

Part classify(std::string_view member_path) {
  const std::string p = normalise_path(member_path);
  if (p == "[content_types].xml") return Part::kContentTypes;
  if (p == "content.xml") return Part::kOdfContent;  // OpenDocument text, sheets, slides
  if (p.ends_with(".rels")) return Part::kRels;
  if (!p.ends_with(".xml")) return Part::kNone;
  if (p.starts_with("word/")) {
    const std::string_view f = std::string_view(p).substr(5);
    if (f == "document.xml" || f == "settings.xml" || f == "footnotes.xml" || f == "endnotes.xml" ||
        f == "comments.xml" || f.starts_with("header") || f.starts_with("footer") ||
        f == "glossary/document.xml")
      return Part::kWord;
    return Part::kNone;
  }
  if (p.starts_with("xl/macrosheets/")) return Part::kMacroSheet;
  if (p == "xl/workbook.xml" || p.starts_with("xl/externallinks/") ||
      p.starts_with("xl/worksheets/"))
    return Part::kExcel;
  if (p == "xl/sharedstrings.xml" || (p.starts_with("ppt/slides/slide") && p.find('/', 11) == std::string::npos))
    return Part::kText;
  if (p.starts_with("customxml/")) return Part::kOther;
  return Part::kNone;
}

}  // namespace

bool is_ooxml_part(std::string_view member_path) {
  return classify(member_path) != Part::kNone;
}

void inspect_ooxml_part(const Blob& blob, Inspector& insp) {
  try {
    Part part = Part::kNone;
    for (const std::string& n : blob.names) {
      part = classify(n);
      if (part != Part::kNone) break;
    }
    // Without a matching name, the member path is the tail of the location.
    const std::string_view loc = blob.location;
    for (std::size_t at = loc.find('/'); part == Part::kNone && at != std::string_view::npos;
         at = loc.find('/', at + 1))
      part = classify(loc.substr(at + 1));
    const std::string_view x = blob.bytes;
    switch (part) {
      case Part::kContentTypes:
        check_content_types(blob, insp, x);
        break;
      case Part::kRels:
        check_rels(blob, insp, x);
        break;
      case Part::kWord:
        check_word_fields(blob, insp, x);
        insp.add_text(blob, document_text(x));
        break;
      case Part::kText:
        insp.add_text(blob, document_text(x));
        break;
      case Part::kOdfContent:
        insp.add_text(blob, odf_text(x));
        break;
      case Part::kExcel:
        check_excel(blob, insp, x);
        break;
      case Part::kMacroSheet:
        insp.symbol(blob, "DOC_XLM_MACRO", "Excel 4.0 macro sheet part");
        check_excel(blob, insp, x);
        break;
      case Part::kOther:
      case Part::kNone:
        break;
    }
  } catch (const std::exception&) {
  }
}

}  // namespace bulwark::inspect
