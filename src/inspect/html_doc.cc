// HTML attachments: a file the browser runs, not a mail body. Scripts and event handlers,
// forms that collect credentials, pages that redirect the browser as they open (the
// attachment as a link in disguise; SVG files too), and HTML smuggling: script that assembles a download
// from a large base64 literal (often split into concatenated pieces) or an <a download>
// with a data: URI. The payload is decoded (bounded) and inspected as a child, so the
// chain sees what the browser would save.
//
// One linear pass over the markup (tags, attributes, raw text of script/style), then one
// linear pass over the collected script text.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/ascii.h"
#include "core/utf8.h"
#include "core/escape.h"
#include "inspect/documents.h"
#include "mime/html.h"
#include "mime/url.h"

namespace bulwark::inspect {

namespace {

constexpr std::size_t kMaxPageText = 64u << 10;  // text read per HTML file for the rules


using ascii::lower;
using ascii::to_lower;
using ascii::iequals;
using ascii::istarts;

// Document bytes quoted in a detail: escaped, and cut so one detail stays short.
std::string shown(std::string_view s, std::size_t max = 200) {
  std::string out = escape_for_display(s.substr(0, max));
  if (s.size() > max) out += "...";
  return out;
}

constexpr std::size_t kMaxScript = 16u << 20;  // script text collected
constexpr std::size_t kMaxTextRun = 16u << 20;
constexpr std::size_t kMinBase64 = 1024;  // a literal this long is a payload
constexpr std::size_t kMaxPayloads = 4;
constexpr std::size_t kMaxLinks = 16;  // redirect and form targets handed to the URL checks
constexpr std::size_t kMaxAttr = 64u << 20;  // data: URIs can be large





bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_ident(char c) {
  return is_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '$' || c == '.' || c == '[' ||
         c == ']';
}

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

bool is_b64(char c) {
  return b64_value(c) >= 0 || c == '=';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}


// The character references attackers use in attribute values (&#104;ttp, &colon;, &amp;).
std::string decode_entities(std::string_view s, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && out.size() < max; ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    std::size_t j = i + 1;
    while (j < s.size() && j - i <= 10 &&
           (is_alpha(s[j]) || (s[j] >= '0' && s[j] <= '9') || s[j] == '#'))
      ++j;
    const std::string_view ent = s.substr(i + 1, j - i - 1);
    const bool semi = j < s.size() && s[j] == ';';
    bool ok = true;
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
    } else if (ent == "colon") {
      out += ':';
    } else if (ent == "sol") {
      out += '/';
    } else if (ent == "Tab") {
      out += '\t';
    } else if (ent == "NewLine") {
      out += '\n';
    } else if (ent.size() >= 2 && ent[0] == '#') {
      const bool hex = ent[1] == 'x' || ent[1] == 'X';
      std::uint32_t cp = 0;
      std::size_t digits = 0;
      for (std::size_t k = hex ? 2 : 1; k < ent.size(); ++k) {
        const char c = lower(ent[k]);
        unsigned d;
        if (c >= '0' && c <= '9') {
          d = static_cast<unsigned>(c - '0');
        } else if (hex && c >= 'a' && c <= 'f') {
          d = static_cast<unsigned>(c - 'a' + 10);
        } else {
          break;
        }
        if (cp < 0x110000) cp = cp * (hex ? 16u : 10u) + d;
        ++digits;
      }
      if (digits == 0) {
        ok = false;
      } else {
        bulwark::append_utf8(out, cp == 0 ? 0xFFFD : cp);  // &#0; is U+FFFD in HTML and XML
      }
    } else {
      ok = false;
    }
    if (!ok) {
      out += '&';
      continue;
    }
    i = semi ? j : j - 1;
  }
  return out;
}

// Decodes base64 (standard or URL-safe), skipping anything outside the alphabet.
std::string decode_base64(std::string_view in, std::size_t max_out) {
  std::string out;
  out.reserve(std::min(max_out, in.size() / 4 * 3 + 3));
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const int v = b64_value(c);
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (out.size() >= max_out) break;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

struct Attr {
  std::string name;   // lowered
  std::string value;  // entities decoded
};

struct Payload {
  std::string b64;   // the base64 text
  std::string name;  // download name when known
  std::string why;
};

class HtmlScanner {
 public:
  HtmlScanner(const Blob& blob, Inspector& insp) : blob_(blob), insp_(insp), in_(blob.bytes) {}

  void run() {
    markup();
    if (in_form_) end_form();
    analyse_script();
    analyse_redirect();
    report();
  }

 private:
  void markup() {
    std::size_t i = 0;
    std::size_t count = 0;
    while (i < in_.size()) {
      if ((++count & 0x3FFFu) == 0 && insp_.out_of_time(blob_)) return;
      const std::size_t lt = in_.find('<', i);
      if (lt == std::string_view::npos) {
        text(in_.substr(i));
        return;
      }
      if (lt > i) text(in_.substr(i, lt - i));
      const std::string_view rest = in_.substr(lt);
      if (rest.starts_with("<!--")) {
        const std::size_t e = in_.find("-->", lt + 4);
        i = e == std::string_view::npos ? in_.size() : e + 3;
        continue;
      }
      if (rest.starts_with("<!") || rest.starts_with("<?")) {
        const std::size_t e = in_.find('>', lt + 2);
        i = e == std::string_view::npos ? in_.size() : e + 1;
        continue;
      }
      std::size_t p = lt + 1;
      bool end = false;
      if (p < in_.size() && in_[p] == '/') {
        end = true;
        ++p;
      }
      if (p >= in_.size() || !is_alpha(in_[p])) {
        text(in_.substr(lt, 1));
        i = lt + 1;
        continue;
      }
      const std::size_t ns = p;
      while (p < in_.size() && !is_space(in_[p]) && in_[p] != '/' && in_[p] != '>') ++p;
      const std::string name = to_lower(in_.substr(ns, std::min<std::size_t>(p - ns, 32)));
      std::vector<Attr> attrs;
      p = attributes(p, attrs);
      i = p;
      if (end) {
        if (name == "form" && in_form_) end_form();
        continue;
      }
      tag(name, attrs);
      if (name == "script" || name == "style" || name == "textarea" || name == "title" ||
          name == "xmp" || name == "noscript") {
        // Raw text up to the matching end tag.
        const std::string close = "</" + name;
        std::size_t e = i;
        for (;;) {
          e = in_.find("</", e);
          if (e == std::string_view::npos || istarts(in_.substr(e), close)) break;
          e += 2;
        }
        const std::size_t stop = e == std::string_view::npos ? in_.size() : e;
        if (name == "script") add_script(in_.substr(i, stop - i));
        i = stop;
      }
    }
  }

  // Attributes after the tag name at `p`; returns the index after '>'.
  std::size_t attributes(std::size_t p, std::vector<Attr>& attrs) {
    while (p < in_.size()) {
      while (p < in_.size() && (is_space(in_[p]) || in_[p] == '/')) ++p;
      if (p >= in_.size()) break;
      if (in_[p] == '>') return p + 1;
      const std::size_t ns = p;
      while (p < in_.size() && !is_space(in_[p]) && in_[p] != '/' && in_[p] != '>' &&
             (in_[p] != '=' || p == ns))
        ++p;
      Attr a;
      a.name = to_lower(in_.substr(ns, std::min<std::size_t>(p - ns, 64)));
      std::size_t q = p;
      while (q < in_.size() && is_space(in_[q])) ++q;
      if (q < in_.size() && in_[q] == '=') {
        ++q;
        while (q < in_.size() && is_space(in_[q])) ++q;
        std::string_view raw;
        if (q < in_.size() && (in_[q] == '"' || in_[q] == '\'')) {
          const char quote = in_[q++];
          const std::size_t e = in_.find(quote, q);
          const std::size_t stop = e == std::string_view::npos ? in_.size() : e;
          raw = in_.substr(q, stop - q);
          p = stop == in_.size() ? stop : stop + 1;
        } else {
          const std::size_t vs = q;
          while (q < in_.size() && !is_space(in_[q]) && in_[q] != '>') ++q;
          raw = in_.substr(vs, q - vs);
          p = q;
        }
        a.value = decode_entities(raw, kMaxAttr);
      }
      if (attrs.size() < 256) attrs.push_back(std::move(a));
    }
    return p;
  }

  static const std::string* find(const std::vector<Attr>& attrs, std::string_view name) {
    for (const Attr& a : attrs)
      if (a.name == name) return &a.value;
    return nullptr;
  }

  void tag(const std::string& name, const std::vector<Attr>& attrs) {
    if (name == "script") {
      ++scripts_;
      if (find(attrs, "src")) ++external_scripts_;
    }
    for (const Attr& a : attrs) {
      if (a.name.size() > 2 && a.name.starts_with("on") && is_alpha(a.name[2])) {
        if (handlers_.size() < 8 &&
            std::find(handlers_.begin(), handlers_.end(), a.name) == handlers_.end())
          handlers_.push_back(a.name);
        add_script(a.value);
      }
      if ((a.name == "href" || a.name == "src" || a.name == "action" || a.name == "formaction") &&
          istarts(trim(a.value), "javascript:")) {
        js_urls_ = true;
        add_script(trim(a.value).substr(11));
      }
    }
    if (name == "form") {
      if (in_form_) end_form();
      in_form_ = true;
      form_password_ = false;
      const std::string* action = find(attrs, "action");
      form_action_ = action ? std::string(trim(*action)) : std::string();
    } else if (name == "input") {
      const std::string* type = find(attrs, "type");
      if (type && iequals(trim(*type), "password")) {
        if (in_form_) {
          form_password_ = true;
        } else {
          loose_password_ = true;
        }
      }
    }
    if (name == "meta") {
      const std::string* equiv = find(attrs, "http-equiv");
      const std::string* content = find(attrs, "content");
      if (equiv && content && iequals(trim(*equiv), "refresh")) {
        const std::string lowered = to_lower(*content);
        const std::size_t u = lowered.find("url=");
        if (u != std::string::npos) {
          redirect_ = "meta refresh";
          std::string target(trim(std::string_view(*content).substr(u + 4)));
          if (!target.empty() && (target.front() == '\'' || target.front() == '"')) target.erase(0, 1);
          if (!target.empty() && (target.back() == '\'' || target.back() == '"')) target.pop_back();
          add_link(target);
        }
      }
    }
    const std::string* download = find(attrs, "download");
    if (download) {
      download_attr_ = true;
      if (download_name_.empty() && !trim(*download).empty())
        download_name_ = std::string(trim(*download).substr(0, 255));
    }
    for (const char* key : {"href", "src", "data"}) {
      const std::string* v = find(attrs, key);
      if (!v) continue;
      const std::string_view url = trim(*v);
      if (!istarts(url, "data:")) continue;
      const std::size_t comma = url.find(',');
      if (comma == std::string_view::npos) continue;
      const std::string meta = to_lower(url.substr(5, comma - 5));
      if (meta.find(";base64") == std::string::npos) continue;
      const bool anchor_download = (name == "a" || name == "area") && download;
      const bool media = meta.starts_with("image/") || meta.find("font") != std::string::npos ||
                         meta.starts_with("text/css") || meta.starts_with("audio/") ||
                         meta.starts_with("video/");
      if (anchor_download || (!media && url.size() - comma >= kMinBase64)) {
        Payload pl;
        pl.b64 = std::string(url.substr(comma + 1));
        pl.name = download ? std::string(trim(*download).substr(0, 255)) : std::string();
        pl.why = anchor_download ? "data: URI in <" + name + " download>"
                                 : "data: URI (" + shown(meta.substr(0, 60)) + ")";
        add_payload(std::move(pl));
      }
    }
  }

  void end_form() {
    in_form_ = false;
    const bool http = istarts(form_action_, "http://") || istarts(form_action_, "https://") ||
                      istarts(form_action_, "//");
    if (form_password_ && http) add_link(form_action_);
    if (form_password_ || http) {
      std::string d = form_password_ ? "password form posting to " : "form posting to ";
      d += form_action_.empty() ? std::string("(no action)") : shown(form_action_.substr(0, 300));
      insp_.symbol(blob_, "HTML_ATTACH_CREDENTIAL_FORM", d);
    }
  }

  void text(std::string_view t) {
    // A long base64 run in page text (a hidden element script reads) is a payload too.
    const std::string_view s = trim(t);
    if (s.size() < kMinBase64 || text_bytes_ > kMaxTextRun) return;
    text_bytes_ += s.size();
    std::size_t alpha = 0;
    for (char c : s) {
      if (is_b64(c)) {
        ++alpha;
      } else if (!is_space(c)) {
        return;
      }
    }
    if (alpha < kMinBase64) return;
    text_candidates_.push_back(std::string(s));
  }

  void add_script(std::string_view s) {
    if (script_.size() + s.size() + 1 > kMaxScript) return;
    script_.append(s);
    script_ += '\n';
  }

  void add_payload(Payload p) {
    if (payloads_.size() < kMaxPayloads) payloads_.push_back(std::move(p));
  }

  // A name from `download = "x"`, `download: 'x'`, setAttribute("download", "x") or
  // msSaveOrOpenBlob(blob, "x").
  std::string script_download_name(std::string_view lowered) const {
    std::size_t tries = 0;
    for (std::string_view key : {std::string_view("download"), std::string_view("mssaveoropenblob"),
                                 std::string_view("mssaveblob")}) {
      for (std::size_t at = lowered.find(key); at != std::string_view::npos && tries < 256;
           at = lowered.find(key, at + 1), ++tries) {
        std::size_t p = at + key.size();
        while (p < lowered.size() &&
               (is_space(lowered[p]) || lowered[p] == '"' || lowered[p] == '\''))
          ++p;
        if (p >= lowered.size()) break;
        if (lowered[p] == '(') {
          // msSaveOrOpenBlob(blob, "name"): the second argument.
          const std::size_t comma = lowered.substr(p, 200).find(',');
          if (comma == std::string_view::npos) continue;
          p += comma;
        }
        if (lowered[p] != '=' && lowered[p] != ':' && lowered[p] != ',') continue;
        ++p;
        while (p < lowered.size() && is_space(lowered[p])) ++p;
        if (p >= lowered.size() || (lowered[p] != '"' && lowered[p] != '\'' && lowered[p] != '`'))
          continue;
        const char q = lowered[p++];
        const std::size_t e = lowered.substr(p, 256).find(q);
        if (e == std::string_view::npos || e == 0) continue;
        return std::string(script_.substr(p, e));  // original case
      }
    }
    return {};
  }

  // String literals of base64 alphabet, joined when written as pieces ("a" + "b",
  // ["a", "b"].join(""), s += "b"); runs of kMinBase64 or more are payloads.
  void base64_runs(std::vector<std::string>& runs) const {
    const std::string_view s = script_;
    std::string run;
    std::size_t prev_end = std::string_view::npos;
    auto flush = [&]() {
      if (run.size() >= kMinBase64 && runs.size() < 64) runs.push_back(run);
      run.clear();
    };
    std::size_t i = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '/' && i + 1 < s.size() && s[i + 1] == '/') {
        const std::size_t e = s.find('\n', i);
        i = e == std::string_view::npos ? s.size() : e;
        continue;
      }
      if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
        const std::size_t e = s.find("*/", i + 2);
        i = e == std::string_view::npos ? s.size() : e + 2;
        continue;
      }
      if (c != '"' && c != '\'' && c != '`') {
        ++i;
        continue;
      }
      // A string literal.
      const std::size_t start = i + 1;
      std::size_t p = start;
      bool b64 = true;
      while (p < s.size() && s[p] != c) {
        if (s[p] == '\\') {
          b64 = false;
          p += 2;
          continue;
        }
        if (c != '`' && s[p] == '\n') break;
        if (!is_b64(s[p])) b64 = false;
        ++p;
      }
      const std::size_t end = std::min(p, s.size());
      std::string_view lit = s.substr(start, end - start);
      if (!b64) {
        // "data:application/x-msdownload;base64,TVqQ..." assigned to a location or href.
        const std::size_t marker = lit.find(";base64,");
        if (marker != std::string_view::npos && lit.substr(0, 5) == "data:") {
          lit.remove_prefix(marker + 8);
          b64 = std::all_of(lit.begin(), lit.end(), is_b64);
        }
      }
      if (b64 && !lit.empty()) {
        bool joins = false;
        if (prev_end != std::string_view::npos && !run.empty()) {
          std::string gap;
          for (char g : s.substr(prev_end, i - prev_end))
            if (!is_space(g)) gap += g;
          if (gap == "+" || gap == "," || gap == ")+(" || gap == "+(" || gap == ")+" ||
              gap == ".concat(" || gap == ",\n") {
            joins = true;
          } else if (gap.size() >= 3 && gap.ends_with("+=")) {
            std::string_view id(gap);
            id.remove_suffix(2);
            if (id.starts_with(";")) id.remove_prefix(1);
            joins = !id.empty() && std::all_of(id.begin(), id.end(), is_ident);
          }
        }
        if (!joins) flush();
        run.append(lit);
        prev_end = end < s.size() ? end + 1 : end;
      } else {
        flush();
        prev_end = std::string_view::npos;
      }
      i = end < s.size() ? end + 1 : end;
    }
    flush();
  }

  void analyse_script() {
    const std::string lowered = to_lower(script_);
    static constexpr std::string_view kIndicators[] = {
        "new blob",   "blob(",     "atob(",      "createobjecturl", "mssaveoropenblob",
        "mssaveblob", ".download", "uint8array", "fromcharcode",    "base64,"};
    for (std::string_view k : kIndicators)
      if (lowered.find(k) != std::string::npos) {
        indicator_ = std::string(k);
        break;
      }
    if (indicator_.empty() && download_attr_) indicator_ = "download attribute";
    if (indicator_.empty()) return;
    std::string name = script_download_name(lowered);
    if (name.empty()) name = download_name_;
    std::vector<std::string> runs;
    base64_runs(runs);
    for (std::string& t : text_candidates_) runs.push_back(std::move(t));
    std::stable_sort(runs.begin(), runs.end(), [](const std::string& a, const std::string& b) {
      return a.size() > b.size();
    });
    for (std::string& r : runs) {
      Payload p;
      p.b64 = std::move(r);
      p.name = name;
      p.why = "script (" + indicator_ + ") with a " + std::to_string(p.b64.size()) +
              "-character base64 literal";
      add_payload(std::move(p));
    }
  }

  // A page that sends the browser elsewhere as soon as it opens: the HTML attachment as a
  // link in disguise. Its targets (literal, or base64 for atob()) join the message's URLs.
  void analyse_redirect() {
    if (script_.empty()) return;
    const std::string lowered = to_lower(script_);
    static constexpr std::string_view kNavigations[] = {
        "location.href",    "location.replace", "location.assign", "window.location", "document.location",
        "top.location",     "self.location",    "parent.location", "[\"location\"]",   "['location']",
        "location=",        "location =",       "window.open(",    "navigate("};
    for (std::string_view k : kNavigations)
      if (lowered.find(k) != std::string::npos) {
        redirect_ = "script sets " + std::string(k);
        break;
      }
    if (redirect_.empty()) return;
    for (std::string& u : mime::find_urls(script_, kMaxLinks)) add_link(u);
    // atob("aHR0cHM6Ly9...") : the target, base64-encoded so no filter reads it.
    for (std::size_t at = lowered.find("atob("); at != std::string::npos && links_.size() < kMaxLinks;
         at = lowered.find("atob(", at + 5)) {
      std::size_t i = at + 5;
      while (i < script_.size() && is_space(script_[i])) ++i;
      if (i >= script_.size() || (script_[i] != '"' && script_[i] != '\'')) continue;
      const std::size_t end = script_.find(script_[i], i + 1);
      if (end == std::string::npos || end - i > 4096) continue;
      for (std::string& u : mime::find_urls(decode_base64(std::string_view(script_).substr(i + 1, end - i - 1), 4096), 4))
        add_link(u);
    }
  }

  void add_link(std::string_view url) {
    if (links_.size() >= kMaxLinks) return;
    for (std::string& u : mime::find_urls(url, 1))
      if (std::find(links_.begin(), links_.end(), u) == links_.end()) links_.push_back(std::move(u));
  }

  void report() {
    if (!redirect_.empty()) {
      std::string d = redirect_;
      for (std::size_t i = 0; i < links_.size() && i < 3; ++i) d += (i ? ", " : " to ") + shown(links_[i], 120);
      insp_.symbol(blob_, "HTML_ATTACH_REDIRECT", d);
    }
    for (const std::string& u : links_) insp_.results().urls.push_back(u);
    if (scripts_ || !handlers_.empty() || js_urls_) {
      std::string d = std::to_string(scripts_) + " script element(s)";
      if (external_scripts_) d += " (" + std::to_string(external_scripts_) + " external)";
      if (!handlers_.empty()) {
        d += ", event handlers:";
        for (const std::string& h : handlers_) d += " " + shown(h);
      }
      if (js_urls_) d += ", javascript: URLs";
      insp_.symbol(blob_, "HTML_ATTACH_SCRIPT", d);
    }
    if (loose_password_)
      insp_.symbol(blob_, "HTML_ATTACH_CREDENTIAL_FORM",
                   "password input outside a form (script posts it)");
    std::size_t n = 0;
    for (const Payload& p : payloads_) {
      insp_.symbol(blob_, "HTML_SMUGGLING", p.why);
      const std::size_t cap = std::min(insp_.limits().max_member_bytes, p.b64.size() / 4 * 3 + 3);
      std::string bytes = decode_base64(p.b64, cap);
      if (bytes.empty()) continue;
      if (!insp_.count_member(blob_) || !insp_.charge(blob_, bytes.size())) return;
      ++n;
      const std::string name = p.name.empty() ? std::string("smuggled.bin") : p.name;
      const std::string loc = n == 1 ? name : name + "#" + std::to_string(n);
      const std::string& kept = insp_.keep(std::move(bytes));
      insp_.inspect_blob(
          Blob{kept, child_location(blob_.location, loc), {name}, "", blob_.depth + 1});
    }
  }

  const Blob& blob_;
  Inspector& insp_;
  std::string_view in_;
  std::string script_;
  std::size_t scripts_ = 0, external_scripts_ = 0;
  std::vector<std::string> handlers_;
  bool js_urls_ = false;
  bool in_form_ = false, form_password_ = false, loose_password_ = false;
  std::string form_action_;
  bool download_attr_ = false;
  std::string download_name_;
  std::string indicator_;
  std::string redirect_;            // how the page navigates away, empty when it does not
  std::vector<std::string> links_;  // where to (and where its password form posts)
  std::size_t text_bytes_ = 0;
  std::vector<std::string> text_candidates_;
  std::vector<Payload> payloads_;
};

}  // namespace

void inspect_html_attachment(const Blob& blob, Inspector& insp) {
  try {
    HtmlScanner(blob, insp).run();
    // What the page says when it opens ("your mailbox is full, sign in") is read like a body.
    insp.add_text(blob, mime::html_to_text(blob.bytes, kMaxPageText, 0).text);
  } catch (const std::exception&) {
  }
}

}  // namespace bulwark::inspect
