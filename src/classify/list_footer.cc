#include "classify/list_footer.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace bulwark::classify {

namespace {

constexpr std::size_t kTailLines = 20;   // a footer (with a sponsor blurb) fits in this
constexpr std::size_t kMaxBlockLines = 8;  // one separated block of a footer, at most

bool is_separator(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  if (line == "--") return true;  // "-- " (the signature marker), trailing space trimmed
  std::size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  line.remove_prefix(i);
  if (line.size() < 8) return false;
  const char c = line[0];
  if (c != '-' && c != '_' && c != '=' && c != '*' && c != '~') return false;
  return std::all_of(line.begin(), line.end(), [c](char x) { return x == c; });
}

bool names_a_list(std::string_view text) {
  static constexpr std::array<std::string_view, 9> kMarkers = {
      "mailing list", "listinfo", "unsubscri", "mailman", "list maintainer", "yahoogroups",
      "groups.yahoo", "list archive", "-request@"};
  std::string lower(text);
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return std::any_of(kMarkers.begin(), kMarkers.end(),
                     [&](std::string_view m) { return lower.find(m) != std::string::npos; });
}

}  // namespace

bool is_list_message(const mime::Part& root) {
  for (const char* name : {"List-Id", "List-Post", "List-Help", "Mailing-List", "X-Mailing-List"})
    if (root.header(name)) return true;
  return false;
}

std::string_view strip_list_footer(std::string_view text) {
  // Line starts of the last kTailLines lines (ignoring trailing blank lines).
  std::string_view body = text;
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' ')) body.remove_suffix(1);
  std::vector<std::size_t> starts;  // ascending
  std::size_t end = body.size();
  while (starts.size() < kTailLines) {
    const std::size_t nl = end == 0 ? std::string_view::npos : body.rfind('\n', end - 1);
    const std::size_t start = nl == std::string_view::npos ? 0 : nl + 1;
    starts.push_back(start);
    if (start == 0) break;
    end = nl;
  }
  std::reverse(starts.begin(), starts.end());
  auto line_at = [&](std::size_t k) {
    const std::size_t s = starts[k];
    const std::size_t e = k + 1 < starts.size() ? starts[k + 1] : body.size();
    std::string_view l = body.substr(s, e - s);
    if (!l.empty() && l.back() == '\n') l.remove_suffix(1);
    return l;
  };
  // The earliest separator after which the rest names a list and is made of short blocks.
  for (std::size_t k = 0; k < starts.size(); ++k) {
    if (!is_separator(line_at(k))) continue;
    if (!names_a_list(body.substr(starts[k]))) continue;
    std::size_t block = 0;
    bool short_blocks = true;
    for (std::size_t j = k + 1; j < starts.size() && short_blocks; ++j) {
      if (is_separator(line_at(j))) block = 0;
      else if (++block > kMaxBlockLines) short_blocks = false;
    }
    if (short_blocks) return text.substr(0, starts[k]);
  }
  return text;
}

}  // namespace bulwark::classify
