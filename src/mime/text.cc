#include "mime/text.h"

#include <chrono>
#include <unordered_set>

#include "mime/charset.h"
#include "mime/html.h"
#include "mime/report.h"
#include "mime/url.h"

namespace bulwark::mime {

namespace {

constexpr std::size_t kMaxUrls = 10000;
constexpr std::size_t kMaxUrlsPerPart = 1000;
constexpr std::size_t kMaxLinksPerPart = 10000;

}  // namespace

void extract_text(Message& m, const MimeLimits& limits, const MimeConfig& options) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(limits.max_time_ms);
  std::unordered_set<std::string> seen(m.urls.begin(), m.urls.end());
  auto add_url = [&](std::string u) {
    if (m.urls.size() < kMaxUrls && seen.insert(u).second) m.urls.push_back(std::move(u));
  };
  for (Part& p : m.parts) {
    if (!p.is_leaf() || !p.is_text()) continue;
    if (Clock::now() > deadline) {
      m.limit_hit = true;
      m.symbols.add("MIME_LIMIT_TIME", "text extraction exceeded limits.max_time_ms=" +
                                           std::to_string(limits.max_time_ms));
      return;
    }
    const Report r{m.symbols, p.path.empty() ? std::string_view("message") : std::string_view(p.path)};
    TextResult t = to_utf8(p.payload, p.charset, options.detect_charset, r);
    p.text_charset = std::move(t.charset);
    if (p.content_type == "text/html" && options.html_to_text) {
      HtmlResult h = html_to_text(t.utf8, limits.max_decoded_bytes, kMaxLinksPerPart);
      p.text = std::move(h.text);
      p.links = std::move(h.links);
      if (h.hidden_text_bytes > 0)
        r.add("HTML_HIDDEN_TEXT", std::to_string(h.hidden_text_bytes) + " bytes of hidden text");
      if (h.password_input) r.add("HTML_PASSWORD_FORM", "a form asks for a password");
      if (h.script_count > 0) r.add("HTML_SCRIPT", std::to_string(h.script_count) + " scripts");
      for (const Link& l : p.links) add_url(l.url);
    } else {
      p.text = std::move(t.utf8);
    }
    // URLs a reader could click: in the body text, not inside attached documents, except
    // plain text and calendar invitations, whose links the mail client shows as links.
    if (p.disposition != "attachment" || p.content_type == "text/plain" || p.content_type == "text/calendar")
      for (auto& u : find_urls(p.text, kMaxUrlsPerPart)) add_url(std::move(u));
  }
}

}  // namespace bulwark::mime
