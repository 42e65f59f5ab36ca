// The rule-file parser: line-oriented statements, a recursive-descent expression parser.
// Attacker-free input (operators write rule files) but still fuzzed: bounded recursion,
// bounded sizes, and every error names file:line.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "rules/disguise.h"
#include "rules/functions.h"
#include "rules/lang.h"

namespace bulwark::rules::lang {

namespace {

constexpr std::size_t kMaxDepth = 64;          // expression nesting
constexpr std::size_t kMaxRegex = 16 * 1024;   // bytes of one pattern
constexpr std::size_t kMaxRules = 100000;      // rules in one ruleset
constexpr std::size_t kMaxNodes = 1000000;     // expression nodes in one ruleset

bool is_ident_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_ident(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::optional<double> parse_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// One piece of an expression's text and the line it came from.
struct Piece {
  std::string text;
  int line;
};

class ExprParser {
 public:
  ExprParser(Parsed& out, const std::vector<Piece>& pieces, std::string_view file)
      : out_(out), file_(file) {
    for (const Piece& p : pieces) {
      if (!text_.empty()) {
        text_ += '\n';
        line_at_.push_back(p.line);
      }
      for (char c : p.text) {
        text_ += c;
        line_at_.push_back(p.line);
      }
    }
    line_at_.push_back(pieces.empty() ? 0 : pieces.back().line);
  }

  Result<int> parse() {
    int root = or_expr(0);
    if (!err_.empty()) return Error{err_};
    skip_ws();
    if (pos_ < text_.size()) return fail("unexpected '" + std::string(1, text_[pos_]) + "' after the expression");
    return root;
  }

 private:
  std::string where() const {
    const int line = line_at_[std::min(pos_, line_at_.size() - 1)];
    return std::string(file_) + ":" + std::to_string(line);
  }
  Error fail(const std::string& what) {
    if (err_.empty()) err_ = where() + ": " + what;
    return Error{err_};
  }
  int failed(const std::string& what) {
    (void)fail(what);
    return -1;
  }
  void skip_ws() {
    while (pos_ < text_.size() && (is_space(text_[pos_]) || text_[pos_] == '\n')) ++pos_;
  }
  bool eat(std::string_view tok) {
    skip_ws();
    if (std::string_view(text_).substr(pos_).starts_with(tok)) {
      pos_ += tok.size();
      return true;
    }
    return false;
  }
  bool peek(std::string_view tok) {
    skip_ws();
    return std::string_view(text_).substr(pos_).starts_with(tok);
  }
  std::string ident() {
    skip_ws();
    std::size_t s = pos_;
    if (pos_ < text_.size() && is_ident_start(text_[pos_])) {
      while (pos_ < text_.size() && (is_ident(text_[pos_]) || text_[pos_] == '.')) ++pos_;
    }
    return text_.substr(s, pos_ - s);
  }
  int add(Node n) {
    if (out_.nodes.size() >= kMaxNodes) return failed("too many expression nodes");
    out_.nodes.push_back(std::move(n));
    return static_cast<int>(out_.nodes.size() - 1);
  }
  bool deep(std::size_t depth) {
    if (depth > kMaxDepth) {
      (void)fail("expression nested deeper than " + std::to_string(kMaxDepth));
      return true;
    }
    return false;
  }

  int or_expr(std::size_t depth) {
    if (deep(depth)) return -1;
    int first = and_expr(depth + 1);
    if (first < 0 || !peek("||")) return first;
    Node n;
    n.kind = NodeKind::kOr;
    n.kids.push_back(first);
    while (err_.empty() && eat("||")) {
      int k = and_expr(depth + 1);
      if (k < 0) return -1;
      n.kids.push_back(k);
    }
    return add(std::move(n));
  }
  int and_expr(std::size_t depth) {
    if (deep(depth)) return -1;
    int first = not_expr(depth + 1);
    if (first < 0 || !peek("&&")) return first;
    Node n;
    n.kind = NodeKind::kAnd;
    n.kids.push_back(first);
    while (err_.empty() && eat("&&")) {
      int k = not_expr(depth + 1);
      if (k < 0) return -1;
      n.kids.push_back(k);
    }
    return add(std::move(n));
  }
  int not_expr(std::size_t depth) {
    if (deep(depth)) return -1;
    if (peek("!") && !peek("!=") && !peek("!~")) {
      eat("!");
      int k = not_expr(depth + 1);
      if (k < 0) return -1;
      Node n;
      n.kind = NodeKind::kNot;
      n.kids.push_back(k);
      return add(std::move(n));
    }
    return cmp_expr(depth + 1);
  }
  int cmp_expr(std::size_t depth) {
    int left = sum_expr(depth + 1);
    if (left < 0) return -1;
    static const std::pair<std::string_view, Cmp> ops[] = {
        {"<=", Cmp::kLe}, {">=", Cmp::kGe}, {"==", Cmp::kEq}, {"!=", Cmp::kNe}, {"<", Cmp::kLt}, {">", Cmp::kGt}};
    for (const auto& [tok, c] : ops) {
      if (peek(tok)) {
        eat(tok);
        int right = sum_expr(depth + 1);
        if (right < 0) return -1;
        Node n;
        n.kind = NodeKind::kCmp;
        n.cmp = c;
        n.kids = {left, right};
        return add(std::move(n));
      }
    }
    return left;
  }
  int sum_expr(std::size_t depth) {
    int first = primary(depth + 1);
    if (first < 0 || !peek("+")) return first;
    Node n;
    n.kind = NodeKind::kAdd;
    n.kids.push_back(first);
    while (err_.empty() && eat("+")) {
      int k = primary(depth + 1);
      if (k < 0) return -1;
      n.kids.push_back(k);
    }
    return add(std::move(n));
  }

  int primary(std::size_t depth) {
    if (deep(depth)) return -1;
    skip_ws();
    if (pos_ >= text_.size()) return failed("expression ends too early");
    const char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      int k = or_expr(depth + 1);
      if (k < 0) return -1;
      if (!eat(")")) return failed("missing ')'");
      return k;
    }
    if ((c >= '0' && c <= '9') || c == '-' || c == '.') {
      std::size_t s = pos_++;
      while (pos_ < text_.size() && ((text_[pos_] >= '0' && text_[pos_] <= '9') || text_[pos_] == '.')) ++pos_;
      auto v = parse_number(std::string_view(text_).substr(s, pos_ - s));
      if (!v) return failed("bad number '" + text_.substr(s, pos_ - s) + "'");
      Node n;
      n.kind = NodeKind::kNum;
      n.num = *v;
      return add(std::move(n));
    }
    if (!is_ident_start(c)) return failed("unexpected '" + std::string(1, c) + "'");
    const std::size_t ident_pos = pos_;
    std::string word = ident();
    // Tests: a target, then =~ or !~ and a regular expression.
    std::optional<Target> target;
    std::string header;
    if (word == "header" || word == "rawheader") {
      skip_ws();
      std::size_t s = pos_;
      while (pos_ < text_.size() && (is_ident(text_[pos_]) || text_[pos_] == '-' || text_[pos_] == ':')) ++pos_;
      std::string spec = text_.substr(s, pos_ - s);
      if (spec.empty()) return failed("'" + word + "' needs a header name");
      std::string mod;
      if (auto colon = spec.find(':'); colon != std::string::npos) {
        mod = spec.substr(colon + 1);
        spec.resize(colon);
      }
      if (spec.empty()) return failed("'" + word + "' needs a header name");
      header = lower(spec);
      if (word == "rawheader" && !mod.empty()) return failed("rawheader takes no ':" + mod + "' modifier");
      if (word == "rawheader" || mod == "raw") target = Target::kRawHeader;
      else if (mod.empty()) target = Target::kHeader;
      else if (mod == "addr") target = Target::kHeaderAddr;
      else if (mod == "name") target = Target::kHeaderName;
      else return failed("unknown header modifier ':" + mod + "' (raw, addr, name)");
      if (header == "all" && (target == Target::kHeaderAddr || target == Target::kHeaderName))
        return failed("header ALL takes no ':" + mod + "' modifier");
      if (ignored_header(header))
        return failed("header " + spec + " is added by other filters and is never read (it leaks labels)");
    } else if (word == "subject") {
      target = Target::kHeader;
      header = "subject";
    } else if (word == "body") {
      target = Target::kBody;
    } else if (word == "rawbody") {
      target = Target::kRawBody;
    } else if (word == "html") {
      target = Target::kHtml;
    } else if (word == "uri") {
      target = Target::kUri;
    } else if (word == "uri.host") {
      target = Target::kUriHost;
    } else if (word == "filename") {
      target = Target::kFilename;
    } else if (word == "content_type") {
      target = Target::kContentType;
    }
    if (target) {
      bool negate = false;
      if (eat("=~")) negate = false;
      else if (eat("!~")) negate = true;
      else return failed("'" + word + "' must be followed by =~ or !~ and a /regex/");
      skip_ws();
      Pattern p;
      p.target = *target;
      p.header = header;
      p.where = where();
      if (pos_ >= text_.size() || text_[pos_] != '/') return failed("expected a /regex/ after =~ or !~");
      ++pos_;
      bool closed = false;
      while (pos_ < text_.size()) {
        char ch = text_[pos_];
        if (ch == '\n') break;
        if (ch == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] != '\n') {
          if (text_[pos_ + 1] == '/') p.regex += '/';
          else {
            p.regex += ch;
            p.regex += text_[pos_ + 1];
          }
          pos_ += 2;
          continue;
        }
        if (ch == '/') {
          closed = true;
          ++pos_;
          break;
        }
        p.regex += ch;
        ++pos_;
      }
      if (!closed) return failed("unterminated /regex/");
      if (p.regex.size() > kMaxRegex) return failed("regex longer than " + std::to_string(kMaxRegex) + " bytes");
      while (pos_ < text_.size() && is_ident(text_[pos_])) {
        switch (text_[pos_]) {
          case 'i': p.caseless = true; break;
          case 's': p.dotall = true; break;
          case 'm': p.multiline = true; break;
          case 'o': p.disguised = true; break;
          default: return failed(std::string("unknown regex flag '") + text_[pos_] + "' (i, s, m, o)");
        }
        ++pos_;
      }
      if (p.regex.empty()) return failed("empty regex");
      if (std::string why = unsupported_construct(p.regex); !why.empty()) return failed(why);
      if (p.disguised) {
        std::string expanded, why;
        if (!expand_disguises(p.regex, p.caseless, expanded, why)) return failed(why);
        p.regex = std::move(expanded);
      }
      out_.patterns.push_back(std::move(p));
      Node n;
      n.kind = NodeKind::kTest;
      n.negate = negate;
      n.ref = static_cast<int>(out_.patterns.size() - 1);
      return add(std::move(n));
    }
    // Functions: name(...)
    if (peek("(")) {
      const FnSpec* f = find_function(word);
      if (!f) {
        pos_ = ident_pos;
        return failed("unknown function '" + word + "()'");
      }
      eat("(");
      Node n;
      n.kind = NodeKind::kFunc;
      n.ref = static_cast<int>(f->fn);
      skip_ws();
      if (f->string_arg) {
        std::string arg;
        if (pos_ < text_.size() && text_[pos_] == '"') {
          ++pos_;
          while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\n') arg += text_[pos_++];
          if (pos_ >= text_.size() || text_[pos_] != '"') return failed("unterminated string");
          ++pos_;
        } else {
          while (pos_ < text_.size() && (is_ident(text_[pos_]) || text_[pos_] == '-')) arg += text_[pos_++];
        }
        if (arg.empty()) return failed(word + "() needs one argument");
        if (f->fn == Fn::kHasHeader && ignored_header(arg))
          return failed("header " + arg + " is added by other filters and is never read (it leaks labels)");
        n.name = std::move(arg);
      }
      if (!eat(")")) return failed(word + "() takes " + (f->string_arg ? "one argument" : "no arguments"));
      return add(std::move(n));
    }
    if (word.find('.') != std::string::npos) return failed("unknown name '" + word + "'");
    Node n;
    n.kind = NodeKind::kRule;
    n.name = std::move(word);
    return add(std::move(n));
  }

  Parsed& out_;
  std::string_view file_;
  std::string text_;
  std::vector<int> line_at_;
  std::size_t pos_ = 0;
  std::string err_;
};

// Splits a line into its first word and the rest (trimmed).
std::pair<std::string_view, std::string_view> first_word(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  std::size_t i = 0;
  while (i < s.size() && !is_space(s[i])) ++i;
  std::string_view rest = s.substr(i);
  while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
  return {s.substr(0, i), rest};
}

}  // namespace

std::string_view target_name(Target t) {
  switch (t) {
    case Target::kHeader: return "header";
    case Target::kRawHeader: return "rawheader";
    case Target::kHeaderAddr: return "header:addr";
    case Target::kHeaderName: return "header:name";
    case Target::kBody: return "body";
    case Target::kRawBody: return "rawbody";
    case Target::kHtml: return "html";
    case Target::kUri: return "uri";
    case Target::kUriHost: return "uri.host";
    case Target::kFilename: return "filename";
    case Target::kContentType: return "content_type";
  }
  return "?";
}

bool valid_rule_name(std::string_view name) {
  if (name.empty() || name.size() > 100) return false;
  std::size_t i = 0;
  if (name.starts_with("__")) i = 2;
  if (i >= name.size() || !(name[i] >= 'A' && name[i] <= 'Z')) return false;
  for (; i < name.size(); ++i) {
    const char c = name[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::string unsupported_construct(std::string_view re) {
  bool in_class = false;
  for (std::size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    if (c == '\\' && i + 1 < re.size()) {
      const char n = re[i + 1];
      if (!in_class && n >= '1' && n <= '9')
        return std::string("backreference \\") + n + " is not supported (neither Hyperscan nor RE2 can match it in linear time)";
      if (!in_class && (n == 'k' || n == 'g'))
        return std::string("backreference \\") + n + " is not supported";
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      continue;
    }
    if (c == '[') {
      in_class = true;
      // A ']' right after '[' or '[^' is a literal.
      if (i + 1 < re.size() && re[i + 1] == '^') ++i;
      if (i + 1 < re.size() && re[i + 1] == ']') ++i;
      continue;
    }
    if (c == '(' && i + 2 < re.size() && re[i + 1] == '?') {
      std::string_view rest = re.substr(i + 2);
      if (rest.starts_with("=") || rest.starts_with("!") || rest.starts_with("<=") || rest.starts_with("<!"))
        return "lookaround '(?" + std::string(rest.substr(0, rest.starts_with("<") ? 2 : 1)) +
               "' is not supported (use a meta rule: A && !B)";
      if (rest.starts_with(">")) return "atomic group '(?>' is not supported";
      if (rest.starts_with("R") || (!rest.empty() && rest[0] >= '0' && rest[0] <= '9'))
        return "recursion '(?" + std::string(rest.substr(0, 1)) + "' is not supported";
      if (rest.starts_with("(")) return "conditional '(?(' is not supported";
    }
    if ((c == '+') && i > 0 && (re[i - 1] == '*' || re[i - 1] == '+' || re[i - 1] == '?' || re[i - 1] == '}')) {
      // "a++", "a*+", "a?+", "a{2}+": possessive. (An escaped "\++" was skipped above.)
      if (!(i >= 2 && re[i - 2] == '\\')) return "possessive quantifier is not supported";
    }
  }
  return {};
}

Result<bool> parse_file(Parsed& out, std::string_view text, std::string_view file, std::string_view domain) {
  auto err = [&](int line, const std::string& what) {
    return Error{std::string(file) + ":" + std::to_string(line) + ": " + what};
  };
  std::string domain_ctx(domain);
  const bool domain_file = !domain.empty();

  // The rule being read: its definition line, expression pieces and attributes.
  struct Pending {
    RuleDef def;
    std::vector<Piece> pieces;
    int line = 0;
  };
  std::optional<Pending> cur;
  std::set<std::string> seen_attrs;

  auto finish = [&]() -> Result<bool> {
    if (!cur) return true;
    ExprParser ep(out, cur->pieces, file);
    auto root = ep.parse();
    if (!root) return root.error();
    cur->def.root = root.value();
    if (out.rules.size() >= kMaxRules) return err(cur->line, "too many rules");
    out.rules.push_back(std::move(cur->def));
    cur.reset();
    return true;
  };

  int line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line.find('\0') != std::string_view::npos) return err(line_no, "NUL byte in rule file");
    auto [word, rest] = first_word(line);
    if (word.empty() || word.front() == '#') {
      if (nl == text.size()) break;
      continue;
    }
    const bool indented = is_space(line.front());
    if (indented) {
      if (!cur) return err(line_no, "indented line outside a rule");
      if (word == "score") {
        if (seen_attrs.contains("score")) return err(line_no, "score given twice");
        auto v = parse_number(rest);
        if (!v) return err(line_no, "score needs a number, got '" + std::string(rest) + "'");
        cur->def.score = *v;
        cur->def.has_score = true;
        seen_attrs.insert("score");
      } else if (word == "group") {
        if (rest.empty() || rest.find_first_of(" \t") != std::string_view::npos)
          return err(line_no, "group needs one word");
        cur->def.group = std::string(rest);
      } else if (word == "describe") {
        if (rest.empty()) return err(line_no, "describe needs a text");
        cur->def.description = std::string(rest);
      } else {
        cur->pieces.push_back(Piece{std::string(line), line_no});
      }
      if (nl == text.size()) break;
      continue;
    }
    if (auto r = finish(); !r) return r.error();
    if (word == "rule") {
      if (domain_file) return err(line_no, "a per-domain file holds only score lines");
      auto [name, expr] = first_word(rest);
      if (!valid_rule_name(name))
        return err(line_no, "bad rule name '" + std::string(name) + "' (UPPER_SNAKE, e.g. SUBJ_ALL_CAPS; __NAME for helpers)");
      if (!expr.starts_with("=")) return err(line_no, "expected 'rule " + std::string(name) + " = expression'");
      expr.remove_prefix(1);
      cur.emplace();
      cur->def.name = std::string(name);
      cur->def.where = std::string(file) + ":" + std::to_string(line_no);
      cur->line = line_no;
      cur->pieces.push_back(Piece{std::string(expr), line_no});
      seen_attrs.clear();
    } else if (word == "score") {
      auto [name, num] = first_word(rest);
      if (!valid_rule_name(name)) return err(line_no, "bad rule name '" + std::string(name) + "'");
      auto v = parse_number(num);
      if (!v) return err(line_no, "score needs a number, got '" + std::string(num) + "'");
      out.scores.push_back(ScoreLine{std::string(name), *v, domain_ctx,
                                     std::string(file) + ":" + std::to_string(line_no)});
    } else if (word == "domain") {
      if (domain_file) return err(line_no, "a per-domain file cannot switch domains");
      if (rest.empty() || rest.find_first_of(" \t") != std::string_view::npos)
        return err(line_no, "domain needs one domain name (or * for every domain)");
      domain_ctx = rest == "*" ? std::string() : lower(rest);
    } else {
      return err(line_no, "unknown statement '" + std::string(word) + "' (rule, score, domain)");
    }
    if (nl == text.size()) break;
  }
  if (auto r = finish(); !r) return r.error();
  return true;
}

Result<std::vector<int>> resolve(Parsed& p) {
  std::map<std::string, int, std::less<>> by_name;
  for (std::size_t i = 0; i < p.rules.size(); ++i) {
    auto [it, fresh] = by_name.emplace(p.rules[i].name, static_cast<int>(i));
    if (!fresh) {
      const RuleDef& first = p.rules[static_cast<std::size_t>(it->second)];
      return Error{p.rules[i].where + ": rule " + p.rules[i].name + " already defined" +
                   (first.builtin ? " (a built-in symbol)" : " at " + first.where)};
    }
  }
  // Dependencies per rule; references resolved.
  std::vector<std::vector<int>> deps(p.rules.size());
  for (std::size_t i = 0; i < p.rules.size(); ++i) {
    RuleDef& r = p.rules[i];
    if (r.builtin) continue;
    if (!r.name.starts_with("__")) {
      if (!r.has_score) return Error{r.where + ": rule " + r.name + " has no score"};
      if (r.description.empty()) return Error{r.where + ": rule " + r.name + " has no describe line"};
    }
    if (r.group.empty()) r.group = "rules";
    std::vector<int> stack{r.root};
    while (!stack.empty()) {
      const int n = stack.back();
      stack.pop_back();
      if (n < 0) continue;
      Node& node = p.nodes[static_cast<std::size_t>(n)];
      if (node.kind == NodeKind::kRule && node.ref < 0) {
        auto it = by_name.find(node.name);
        if (it == by_name.end()) return Error{r.where + ": rule " + r.name + " refers to unknown rule " + node.name};
        node.ref = it->second;
      }
      if (node.kind == NodeKind::kRule) deps[i].push_back(node.ref);
      for (int k : node.kids) stack.push_back(k);
    }
  }
  for (const ScoreLine& s : p.scores)
    if (!by_name.contains(s.rule)) return Error{s.where + ": score for unknown rule " + s.rule};
  // Topological order, iteratively (0 new, 1 in progress, 2 done).
  std::vector<int> order;
  std::vector<std::uint8_t> state(p.rules.size(), 0);
  for (std::size_t start = 0; start < p.rules.size(); ++start) {
    if (state[start] != 0) continue;
    std::vector<std::pair<int, std::size_t>> stack{{static_cast<int>(start), 0}};
    state[start] = 1;
    while (!stack.empty()) {
      auto& [r, next] = stack.back();
      const auto ru = static_cast<std::size_t>(r);
      if (next < deps[ru].size()) {
        const int d = deps[ru][next++];
        const auto du = static_cast<std::size_t>(d);
        if (state[du] == 1)
          return Error{p.rules[ru].where + ": rule " + p.rules[ru].name + " depends on itself through " + p.rules[du].name};
        if (state[du] == 0) {
          state[du] = 1;
          stack.emplace_back(d, 0);
        }
        continue;
      }
      state[ru] = 2;
      order.push_back(r);
      stack.pop_back();
    }
  }
  return order;
}

}  // namespace bulwark::rules::lang
