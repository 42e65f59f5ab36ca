// A stable text rendering of the parse tree, for golden tests and `scan --explain`.
#include <algorithm>

#include "core/escape.h"
#include "core/hash.h"
#include "mime/parser.h"

namespace bulwark::mime {

namespace {

std::string_view origin_name(Origin o) {
  switch (o) {
    case Origin::kMime: return "";
    case Origin::kEmbedded: return "embedded";
    case Origin::kView: return "view";
    case Origin::kPreamble: return "preamble";
    case Origin::kEpilogue: return "epilogue";
  }
  return "";
}

void dump_part(const Message& m, int idx, int indent, std::string& out) {
  const Part& p = m.parts[static_cast<std::size_t>(idx)];
  out.append(static_cast<std::size_t>(indent) * 2, ' ');
  out += p.path.empty() ? "message" : p.path;
  out += " ";
  out += p.content_type;
  if (p.origin != Origin::kMime) {
    out += " [";
    out += origin_name(p.origin);
    if (!p.view_reason.empty()) out += ": " + p.view_reason;
    out += "]";
  }
  if (p.is_leaf()) {
    if (p.encoding != Encoding::kNone) out += " enc=" + std::string(encoding_name(p.encoding));
    if (!p.charset.empty()) out += " charset=" + escape_for_display(p.charset);
    if (!p.disposition.empty()) out += " disp=" + escape_for_display(p.disposition);
    for (const auto& n : p.names) out += " name=\"" + escape_for_display(n) + "\"";
    out += " size=" + std::to_string(p.payload.size());
    out += " sha256=" + sha256_hex(p.payload).substr(0, 16);
  }
  out += "\n";
  if (p.is_leaf() && p.is_text() && !p.text.empty()) {
    out.append(static_cast<std::size_t>(indent) * 2 + 2, ' ');
    std::string t = p.text.substr(0, 120);
    // Cut on a UTF-8 boundary so the dump stays valid text.
    while (!t.empty() && (static_cast<unsigned char>(t.back()) & 0xC0) == 0x80) t.pop_back();
    if (!t.empty() && static_cast<unsigned char>(t.back()) >= 0xC0) t.pop_back();
    out += "text: " + escape_for_display(t) + (p.text.size() > 120 ? "..." : "") + "\n";
  }
  for (const Link& l : p.links) {
    out.append(static_cast<std::size_t>(indent) * 2 + 2, ' ');
    out += "link: <" + l.tag + "> " + escape_for_display(l.url);
    if (!l.text.empty()) out += " \"" + escape_for_display(l.text) + "\"";
    out += "\n";
  }
  for (int c : p.children) dump_part(m, c, indent + 1, out);
  for (int v : p.views) dump_part(m, v, indent + 1, out);
}

}  // namespace

std::string dump_tree(const Message& m) {
  std::string out;
  if (!m.parts.empty()) dump_part(m, 0, 0, out);
  std::vector<const Symbol*> syms;
  for (const auto& s : m.symbols.all()) syms.push_back(&s);
  std::sort(syms.begin(), syms.end(), [](auto* a, auto* b) { return a->name < b->name; });
  for (const Symbol* s : syms) out += "symbol " + s->name + ": " + escape_for_display(s->detail) + "\n";
  return out;
}

}  // namespace bulwark::mime
