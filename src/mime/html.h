// HTML parts to text and links, with a real HTML5 tokenizer (gumbo).
//   HtmlResult h = html_to_text(utf8_html, 1 << 20);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::mime {

struct Link {
  std::string url;   // the attribute value as written, entities decoded, whitespace trimmed
  std::string text;  // visible anchor text (for <a>), alt text (for <img>), empty otherwise
  std::string tag;   // "a", "area", "img", "form", "iframe", "script", "link", "meta-refresh", ...
};

struct HtmlResult {
  std::string text;         // visible text, block elements separated by newlines
  std::vector<Link> links;  // href, src, action, and <meta http-equiv=refresh> targets
  std::size_t script_count = 0;
  std::size_t form_count = 0;
  bool password_input = false;        // <input type=password>
  std::size_t hidden_text_bytes = 0;  // text in display:none / visibility:hidden / zero-size
                                      // font / font colour equal to white-on-white etc.
};

// `max_text` bounds the produced text; `max_links` the links. Never throws; gumbo's own
// limits (its max error count) are set so hostile markup stays linear.
HtmlResult html_to_text(std::string_view utf8_html, std::size_t max_text, std::size_t max_links);

// Installs the SIGABRT guard that turns an assertion failure inside gumbo into a failed
// parse (read in flat mode instead). Called by html_to_text on first use; a sandboxed
// worker calls it before lockdown, since installing a signal handler is forbidden after.
void prepare_html_engine();

}  // namespace bulwark::mime
