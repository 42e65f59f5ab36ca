#include "smtp/address.h"

#include <cctype>

namespace bulwark::smtp {

namespace {

bool atext(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
                                std::string_view::npos;
}

bool valid_domain(std::string_view d, bool utf8) {
  if (d.empty() || d.size() > 253) return false;
  if (d.front() == '[') {
    if (d.back() != ']' || d.size() < 3) return false;
    for (char c : d.substr(1, d.size() - 2))
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '-'))
        return false;
    return true;
  }
  std::size_t label = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(d[i]);
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!(std::isalnum(c) || c == '-' || c == '_' || (utf8 && c >= 0x80))) return false;
    if (++label > 63) return false;
  }
  return label > 0;
}

}  // namespace

bool valid_address(std::string_view a, bool utf8, bool need_domain) {
  if (a.empty() || a.size() > 254) return false;
  const std::size_t at = a.rfind('@');
  if (at == std::string_view::npos) return !need_domain && a.size() <= 64;
  std::string_view local = a.substr(0, at), domain = a.substr(at + 1);
  if (local.empty() || local.size() > 64 || !valid_domain(domain, utf8)) return false;
  if (local.front() == '"') {
    if (local.size() < 2 || local.back() != '"') return false;
    for (std::size_t i = 1; i + 1 < local.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(local[i]);
      if (c == '\\') {
        if (++i + 1 >= local.size()) return false;
        continue;
      }
      if (c < 32 || c == 127 || c == '"' || (c >= 0x80 && !utf8)) return false;
    }
    return true;
  }
  bool dot_ok = false;
  for (char ch : local) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '.') {
      if (!dot_ok) return false;
      dot_ok = false;
      continue;
    }
    if (!(atext(c) || (utf8 && c >= 0x80))) return false;
    dot_ok = true;
  }
  return dot_ok;
}

ParsedPath parse_path(std::string_view t, bool allow_empty) {
  ParsedPath p;
  if (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  if (t.empty() || t.front() != '<') {
    p.error = "Error: address must be in angle brackets";
    return p;
  }
  // Find the closing '>' outside a quoted local part.
  bool quoted = false;
  std::size_t close = std::string_view::npos;
  for (std::size_t i = 1; i < t.size(); ++i) {
    if (quoted && t[i] == '\\') {
      ++i;
      continue;
    }
    if (t[i] == '"') quoted = !quoted;
    else if (!quoted && t[i] == '>') {
      close = i;
      break;
    } else if (!quoted && (t[i] == '<' || t[i] == ' ')) {
      break;
    }
  }
  if (close == std::string_view::npos) {
    p.error = "Error: malformed address";
    return p;
  }
  std::string_view addr = t.substr(1, close - 1);
  // Source route "@a,@b:user@host" (RFC 5321 C): obsolete; the route is ignored.
  if (!addr.empty() && addr.front() == '@') {
    const std::size_t colon = addr.find(':');
    if (colon == std::string_view::npos) {
      p.error = "Error: malformed source route";
      return p;
    }
    addr.remove_prefix(colon + 1);
  }
  if (addr.empty() && !allow_empty) {
    p.error = "Error: empty address";
    return p;
  }
  p.address = std::string(addr);
  std::string_view rest = t.substr(close + 1);
  while (!rest.empty()) {
    if (rest.front() != ' ') {
      p.error = "Error: malformed parameters";
      return p;
    }
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty()) break;
    const std::size_t end = rest.find(' ');
    std::string_view item = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    const std::size_t eq = item.find('=');
    std::string key(item.substr(0, eq));
    for (char& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (key.empty()) {
      p.error = "Error: malformed parameters";
      return p;
    }
    p.params.emplace_back(std::move(key), eq == std::string_view::npos ? "" : std::string(item.substr(eq + 1)));
  }
  return p;
}

bool xtext_decode(std::string_view in, std::string& out) {
  out.clear();
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(in[i]);
    if (c == '+') {
      if (i + 2 >= in.size()) return false;
      const int h = hex(in[i + 1]), l = hex(in[i + 2]);
      if (h < 0 || l < 0) return false;
      out += static_cast<char>(h * 16 + l);
      i += 2;
    } else if (c < 33 || c > 126 || c == '=') {
      return false;
    } else {
      out += static_cast<char>(c);
    }
  }
  return true;
}

std::string xtext_encode(std::string_view in) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (char ch : in) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 33 || c > 126 || c == '+' || c == '=') {
      out += '+';
      out += digits[c >> 4];
      out += digits[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

std::string domain_of(std::string_view address) {
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return "";
  std::string d(address.substr(at + 1));
  for (char& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return d;
}

}  // namespace bulwark::smtp
