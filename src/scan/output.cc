#include "scan/output.h"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/escape.h"
#include "mime/parser.h"
#include "scan/scoring.h"

namespace bulwark::scan {

namespace {

std::string fmt_score(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", d);
  return buf;
}

}  // namespace

std::string to_json(const Verdict& v) {
  using nlohmann::json;
  json j;
  j["file"] = v.file;
  j["message_id"] = v.message_id;
  j["subject"] = v.subject;
  j["action"] = std::string(action_name(v.action));
  j["score"] = v.score;
  json syms = json::array();
  for (const auto& s : v.symbols)
    syms.push_back({{"name", s.name}, {"score", s.score}, {"detail", s.detail}});
  j["symbols"] = std::move(syms);
  json threats = json::array();
  for (const auto& t : v.threats)
    threats.push_back({{"kind", t.kind}, {"name", t.name}, {"location", t.location}});
  j["threats"] = std::move(threats);
  json parts = json::array();
  for (const auto& p : v.parts) {
    json pj = {{"path", p.path},     {"content_type", p.content_type}, {"filename", p.filename},
               {"size", p.size},     {"sha256", p.sha256}};
    if (!p.origin.empty()) pj["origin"] = p.origin;
    parts.push_back(std::move(pj));
  }
  j["parts"] = std::move(parts);
  j["elapsed_ms"] = v.elapsed_ms;
  // Hostile bytes must not break the line: invalid UTF-8 becomes U+FFFD.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string to_text(const Verdict& v) {
  std::string out = escape_for_display(v.file) + ": " + std::string(action_name(v.action)) +
                    " score=" + fmt_score(v.score);
  std::string names;
  for (const auto& s : v.symbols) {
    if (!names.empty()) names += ",";
    names += s.name;
  }
  if (!names.empty()) out += " " + names;
  for (const auto& t : v.threats)
    out += " threat=" + t.kind + ":" + escape_for_display(t.name) + "@" + escape_for_display(t.location);
  return out;
}

std::string to_explain(const ScanResult& r) {
  const Verdict& v = r.verdict;
  std::string out = "file:       " + escape_for_display(v.file) + "\n";
  out += "message-id: " + escape_for_display(v.message_id) + "\n";
  out += "subject:    " + escape_for_display(v.subject) + "\n";
  out += "action:     " + std::string(action_name(v.action)) + " (score " + fmt_score(v.score) + ")\n";
  out += "\nMIME tree:\n";
  std::string tree = mime::dump_tree(r.message);
  // dump_tree ends with its own symbol lines; the explanation lists symbols with scores.
  std::string parts_only;
  for (std::size_t pos = 0; pos < tree.size();) {
    std::size_t nl = tree.find('\n', pos);
    if (nl == std::string::npos) nl = tree.size();
    std::string_view line(tree.data() + pos, nl - pos);
    if (!line.starts_with("symbol ")) parts_only.append("  ").append(line).append("\n");
    pos = nl + 1;
  }
  out += parts_only;
  out += "\nsymbols:\n";
  if (v.symbols.empty()) out += "  (none)\n";
  for (const auto& s : v.symbols) {
    const SymbolInfo* info = find_symbol(s.name);
    out += "  " + fmt_score(s.score) + "  " + s.name;
    if (info) out += " - " + std::string(info->description);
    out += "\n";
    if (!s.detail.empty()) out += "          " + escape_for_display(s.detail) + "\n";
  }
  if (!r.message.attachment_text.empty()) {
    // What the rules read in documents and pictures ("attachment text" in the details).
    const std::string& t = r.message.attachment_text;
    constexpr std::size_t kShown = 800;
    out += "\ntext read from attachments (" + std::to_string(t.size()) + " bytes" +
           (t.size() > kShown ? ", first " + std::to_string(kShown) : std::string()) + "):\n";
    std::size_t end = std::min(t.size(), kShown);
    while (end < t.size() && end > 0 && (static_cast<unsigned char>(t[end]) & 0xC0) == 0x80) --end;
    for (std::size_t pos = 0; pos < end;) {
      std::size_t nl = t.find('\n', pos);
      if (nl == std::string::npos || nl > end) nl = end;
      out += "  " + escape_for_display(std::string_view(t).substr(pos, nl - pos)) + "\n";
      pos = nl + 1;
    }
  }
  if (!v.threats.empty()) {
    out += "\nthreats:\n";
    for (const auto& t : v.threats)
      out += "  " + t.kind + " " + escape_for_display(t.name) + " at " + escape_for_display(t.location) + "\n";
  }
  return out;
}

}  // namespace bulwark::scan
