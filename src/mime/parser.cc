// The structural MIME parser: header blocks, multipart splitting, message/rfc822
// recursion, transfer decoding, text extraction, and the alternative views that make
// ambiguity visible. See parser.h and docs/mime.md for the reading rules.
#include "mime/parser.h"

#include <strings.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/escape.h"
#include "mime/decode.h"
#include "mime/text.h"

namespace bulwark::mime {

namespace {

using Clock = std::chrono::steady_clock;

// How lines end. Mail clients disagree about bare CR and bare LF; the primary reading is
// kLf (CRLF or LF), and views re-read an entity under the other two when it matters.
enum class LineMode : std::uint8_t {
  kLf,        // CRLF or bare LF end a line; a bare CR is content
  kCrlfOnly,  // only CRLF ends a line (strict SMTP-minded parsers)
  kAny,       // CR, LF or CRLF end a line (old Mac-style readers)
};

struct Mode {
  LineMode lines = LineMode::kLf;
  bool prefix_boundaries = false;  // "--boundaryXYZ" counts as a delimiter line
};

// A forced reading of one entity, used to build a view.
struct Override {
  int content_type_index = -1;  // which Content-Type field to believe
  int encoding_index = -1;      // which Content-Transfer-Encoding field to believe
  std::string boundary;         // believe this boundary instead of the first one
  bool has_boundary = false;
  Encoding force_encoding = Encoding::kNone;  // decode as this though declared otherwise
  bool has_force_encoding = false;
  bool base64_continue_after_padding = false;
  bool decode_container = false;  // decode a multipart's declared (forbidden) encoding
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

bool all_wsp(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return is_wsp(c); });
}

bool all_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_wsp(c) || c == '\r' || c == '\n'; });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// One physical line: [begin, end) is its content, next is where the following line starts.
struct Line {
  std::size_t end;
  std::size_t next;
};

Line next_line(std::string_view s, std::size_t pos, LineMode mode) {
  const char* base = s.data();
  const std::size_t n = s.size();
  switch (mode) {
    case LineMode::kLf: {
      const void* nl = std::memchr(base + pos, '\n', n - pos);
      if (!nl) return {n, n};
      const std::size_t i = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
      return {i > pos && base[i - 1] == '\r' ? i - 1 : i, i + 1};
    }
    case LineMode::kCrlfOnly: {
      std::size_t from = pos;
      while (from < n) {
        const void* nl = std::memchr(base + from, '\n', n - from);
        if (!nl) break;
        const std::size_t i = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
        if (i > pos && base[i - 1] == '\r') return {i - 1, i + 1};
        from = i + 1;
      }
      return {n, n};
    }
    case LineMode::kAny: {
      for (std::size_t i = pos; i < n; ++i) {
        if (base[i] == '\n') return {i, i + 1};
        if (base[i] == '\r') return {i, (i + 1 < n && base[i + 1] == '\n') ? i + 2 : i + 1};
      }
      return {n, n};
    }
  }
  return {n, n};
}

// Length of the line terminator that ends just before `pos` under `mode` (0 if none).
std::size_t terminator_before(std::string_view s, std::size_t pos, LineMode mode) {
  if (pos == 0) return 0;
  const char c = s[pos - 1];
  if (c == '\n') {
    if (pos >= 2 && s[pos - 2] == '\r') return 2;
    return mode == LineMode::kCrlfOnly ? 0 : 1;
  }
  if (c == '\r' && mode == LineMode::kAny) return 1;
  return 0;
}

Encoding encoding_from_label(std::string_view label, bool& known, bool& fuzzy) {
  known = true;
  fuzzy = false;
  std::string l = lower(label);
  // Trim quotes, whitespace, and anything after ';' or a space, as lenient clients do.
  l.erase(std::remove(l.begin(), l.end(), '"'), l.end());
  const std::size_t cut = l.find_first_of("; \t(");
  const std::string exact = l;
  if (cut != std::string::npos) l.resize(cut);
  if (l.empty()) return Encoding::kNone;
  if (l == "7bit" || l == "8bit" || l == "binary") {
    fuzzy = exact != l;
    return Encoding::kNone;
  }
  if (l == "base64") return fuzzy = exact != l, Encoding::kBase64;
  if (l == "quoted-printable") return fuzzy = exact != l, Encoding::kQuotedPrintable;
  if (l == "x-uuencode" || l == "x-uue" || l == "uuencode" || l == "uue")
    return Encoding::kUuencode;
  if (l == "x-gzip64" || l == "gzip64") return Encoding::kGzip64;
  if (l == "x-yenc" || l == "yenc") return Encoding::kYenc;
  if (l == "x-binhex40" || l == "binhex40" || l == "mac-binhex40") return Encoding::kBinHex;
  // Unknown labels some client would still act on.
  fuzzy = true;
  if (l.find("base64") != std::string::npos || l.find("base-64") != std::string::npos ||
      l == "b64" || l == "b")
    return Encoding::kBase64;
  if (l.find("quoted") != std::string::npos || l == "qp" || l == "q")
    return Encoding::kQuotedPrintable;
  if (l.find("uu") != std::string::npos) return Encoding::kUuencode;
  known = false;
  return Encoding::kNone;
}

class Parser {
 public:
  Parser(Message& m, const MimeLimits& limits, const MimeConfig& options)
      : m_(m),
        limits_(limits),
        options_(options),
        deadline_(Clock::now() + std::chrono::milliseconds(limits.max_time_ms)) {}

  void run(std::string_view bytes) {
    has_crlf_ = bytes.find("\r\n") != std::string_view::npos;
    const int root = new_part(-1, "", Origin::kMime, 0);
    if (root < 0) return;
    parse_entity(root, bytes, Mode{}, nullptr);
    collect_top_level();
  }

 private:
  Message& m_;
  const MimeLimits& limits_;
  const MimeConfig& options_;
  Clock::time_point deadline_;
  bool stopped_ = false;  // a global limit (parts, time) was hit: build nothing more
  bool has_crlf_ = false;
  std::size_t views_ = 0;
  std::size_t new_part_calls_ = 0;

  Report report(int idx) {
    const std::string& p = m_.parts[static_cast<std::size_t>(idx)].path;
    return Report{m_.symbols, p.empty() ? std::string_view("message") : std::string_view(p)};
  }

  void limit(std::string_view name, std::string_view detail) {
    m_.limit_hit = true;
    m_.symbols.add(name, detail);
  }

  bool out_of_time() {
    if (stopped_) return true;
    if (Clock::now() > deadline_) {
      limit("MIME_LIMIT_TIME", "parse exceeded limits.max_time_ms=" +
                                   std::to_string(limits_.max_time_ms));
      stopped_ = true;
    }
    return stopped_;
  }

  int new_part(int parent, std::string path, Origin origin, std::size_t depth) {
    if (stopped_) return -1;
    if ((++new_part_calls_ & 63) == 0 && out_of_time()) return -1;
    if (m_.parts.size() >= limits_.max_parts) {
      limit("MIME_LIMIT_PARTS", "more than limits.max_parts=" + std::to_string(limits_.max_parts));
      stopped_ = true;
      return -1;
    }
    Part p;
    p.path = std::move(path);
    p.parent = parent;
    p.depth = static_cast<std::uint16_t>(std::min<std::size_t>(depth, 65535));
    p.origin = origin;
    m_.parts.push_back(std::move(p));
    return static_cast<int>(m_.parts.size() - 1);
  }

  Part& part(int idx) { return m_.parts[static_cast<std::size_t>(idx)]; }

  std::string child_path(int parent, std::size_t n) {
    const std::string& p = part(parent).path;
    return p.empty() ? std::to_string(n) : p + "." + std::to_string(n);
  }

  // Creates a view of `idx`: the same bytes under another reading.
  int new_view(int idx, std::string reason, Origin origin = Origin::kView) {
    if (views_ >= limits_.max_alternative_views) {
      limit("MIME_LIMIT_VIEWS", "more than limits.max_alternative_views=" +
                                    std::to_string(limits_.max_alternative_views));
      return -1;
    }
    const std::string path = part(idx).path + "~" + std::to_string(part(idx).views.size() + 1);
    const int v = new_part(idx, path, origin, part(idx).depth);
    if (v < 0) return -1;
    ++views_;
    part(v).view_reason = std::move(reason);
    part(idx).views.push_back(v);
    return v;
  }

  std::string& arena() { return m_.arena.emplace_back(); }

  std::size_t decode_budget() const {
    return m_.decoded_bytes >= limits_.max_decoded_bytes
               ? 0
               : limits_.max_decoded_bytes - m_.decoded_bytes;
  }

  // ---- header block ------------------------------------------------------------------

  struct HeaderScan {
    std::size_t body_start = 0;
    bool bare_cr = false;  // a bare CR inside the header block: hidden fields possible
    bool bare_lf = false;  // a bare LF in a CRLF message
  };

  HeaderScan scan_headers(int idx, std::string_view s, LineMode mode, bool is_root) {
    HeaderScan hs;
    Part& p = part(idx);
    std::size_t pos = 0;
    // An mbox "From " envelope line at the very top is not a header.
    if (is_root && s.starts_with("From ")) pos = next_line(s, 0, mode).next;
    std::size_t block_start = pos;
    bool header_bytes_hit = false;
    while (pos < s.size()) {
      const Line ln = next_line(s, pos, mode);
      std::string_view line = s.substr(pos, ln.end - pos);
      if (line.size() > limits_.max_line_length)
        limit("MIME_LIMIT_LINE_LENGTH",
              "part " + (p.path.empty() ? std::string("message") : p.path) +
                  ": header line of " + std::to_string(line.size()) + " bytes");
      if (line.empty()) {
        hs.body_start = ln.next;
        return hs;
      }
      if (mode == LineMode::kLf) {
        if (!hs.bare_cr && std::memchr(line.data(), '\r', line.size())) hs.bare_cr = true;
        if (has_crlf_ && !hs.bare_lf && ln.next - ln.end == 1) hs.bare_lf = true;
      }
      if (!header_bytes_hit && ln.next - block_start > limits_.max_header_bytes) {
        header_bytes_hit = true;
        limit("MIME_LIMIT_HEADER_BYTES",
              "part " + (p.path.empty() ? std::string("message") : p.path) +
                  ": header block over limits.max_header_bytes=" +
                  std::to_string(limits_.max_header_bytes));
      }
      if (is_wsp(line.front())) {
        // Continuation: extends the previous field's raw value to this line's end.
        if (!p.headers.empty() && !header_bytes_hit) {
          HeaderField& h = p.headers.back();
          h.raw = std::string_view(h.raw.data(),
                                   static_cast<std::size_t>(s.data() + ln.end - h.raw.data()));
        } else if (p.headers.empty()) {
          report(idx).add("MIME_HEADER_JUNK", "header block starts with a continuation line");
        }
        pos = ln.next;
        continue;
      }
      const std::size_t colon = line.find(':');
      std::string_view name = colon == std::string_view::npos ? std::string_view{}
                                                              : line.substr(0, colon);
      while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);  // obs-syntax
      const bool valid_name =
          !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
            return c > 32 && c < 127 && c != ':';
          });
      if (!valid_name) {
        // Not a field: the header block ended without its blank line. Clients start the
        // body here.
        if (!p.headers.empty() || pos != block_start)
          report(idx).add("MIME_HEADER_JUNK", "non-header line ends the header block");
        hs.body_start = pos;
        return hs;
      }
      if (!header_bytes_hit) {
        if (p.headers.size() >= limits_.max_headers) {
          header_bytes_hit = true;
          limit("MIME_LIMIT_HEADERS",
                "part " + (p.path.empty() ? std::string("message") : p.path) +
                    ": more than limits.max_headers=" + std::to_string(limits_.max_headers));
        } else {
          p.headers.push_back(HeaderField{name, line.substr(colon + 1)});
        }
      }
      pos = ln.next;
    }
    hs.body_start = s.size();
    return hs;
  }

  // ---- entity -----------------------------------------------------------------------

  void parse_entity(int idx, std::string_view s, Mode mode, const Override* ov) {
    const bool is_root = idx == 0;
    if (out_of_time()) return;
    const HeaderScan hs = scan_headers(idx, s, mode.lines, is_root);
    std::string_view body = s.substr(hs.body_start);
    part(idx).body = body;
    const std::size_t depth = part(idx).depth;

    // A single-part message's body is part "1" (IMAP numbering); decided before any symbol
    // is raised, so that details name the part the way the tree shows it.
    if (is_root) {
      const HeaderField* first = part(idx).header("Content-Type");
      const std::string t = first ? lower(unfold(first->raw)) : std::string();
      if (!t.starts_with("multipart/") && !t.starts_with("message/rfc822") &&
          !t.starts_with("message/global"))
        part(idx).path = "1";
    }

    // Content-Type: every field, and which one we believe.
    const auto ct_fields = part(idx).all_headers("Content-Type");
    std::vector<FieldValue> cts;
    for (const HeaderField* h : ct_fields) cts.push_back(parse_content_type(unfold(h->raw), report(idx)));
    int ct_pick = ov && ov->content_type_index >= 0 ? ov->content_type_index : 0;
    std::vector<int> other_cts;
    for (std::size_t i = 1; i < cts.size(); ++i) {
      bool distinct = true;
      for (std::size_t j = 0; j < i; ++j)
        if (same_reading(cts[i], cts[j])) distinct = false;
      if (distinct) other_cts.push_back(static_cast<int>(i));
    }
    if (!other_cts.empty() && !ov)
      report(idx).add("MIME_DUP_CONTENT_TYPE",
                      std::to_string(cts.size()) + " Content-Type fields that disagree");

    std::string content_type;
    std::string charset;
    std::vector<std::string> boundaries;
    const FieldValue* ct = cts.empty() ? nullptr : &cts[static_cast<std::size_t>(ct_pick)];
    if (ct && ct->valid && !ct->type.empty()) {
      content_type = ct->type;
      if (const Param* cs = ct->param("charset")) charset = lower(cs->value);
      for (const Param* b : ct->all("boundary"))
        if (std::find(boundaries.begin(), boundaries.end(), b->value) == boundaries.end())
          boundaries.push_back(b->value);
    } else {
      const Part* parent = part(idx).parent >= 0 ? &part(part(idx).parent) : nullptr;
      content_type = parent && parent->content_type == "multipart/digest" &&
                             part(idx).origin == Origin::kMime
                         ? "message/rfc822"
                         : "text/plain";
    }
    if (content_type.find('/') == std::string::npos) {
      report(idx).add("MIME_BAD_CONTENT_TYPE", "no subtype in '" + escape_for_display(content_type) + "'");
      content_type = "text/plain";
    }

    // Content-Transfer-Encoding: every field, and which one we believe.
    const auto cte_fields = part(idx).all_headers("Content-Transfer-Encoding");
    std::vector<std::string> ctes;
    for (const HeaderField* h : cte_fields) ctes.push_back(unfold(h->raw));
    const int cte_pick = ov && ov->encoding_index >= 0 ? ov->encoding_index : 0;
    std::vector<int> other_ctes;
    for (std::size_t i = 1; i < ctes.size(); ++i) {
      bool distinct = true;
      for (std::size_t j = 0; j < i; ++j)
        if (iequals(ctes[i], ctes[j])) distinct = false;
      if (distinct) other_ctes.push_back(static_cast<int>(i));
    }
    if (!other_ctes.empty() && !ov)
      report(idx).add("MIME_DUP_CTE", std::to_string(ctes.size()) +
                                          " Content-Transfer-Encoding fields that disagree");
    Encoding enc = Encoding::kNone;
    Encoding fuzzy_enc = Encoding::kNone;
    std::string enc_label;
    if (!ctes.empty()) {
      enc_label = ctes[static_cast<std::size_t>(cte_pick)];
      bool known = true, fuzzy = false;
      const Encoding e = encoding_from_label(enc_label, known, fuzzy);
      if (!known) {
        report(idx).add("MIME_CTE_UNKNOWN", "'" + escape_for_display(enc_label) + "'");
      } else if (fuzzy) {
        // RFC 2045: an unrecognised encoding makes the part opaque; lenient clients still
        // decode what the label resembles. Primary: opaque; a view decodes.
        report(idx).add("MIME_CTE_NONSTANDARD", "'" + escape_for_display(enc_label) + "'");
        fuzzy_enc = e;
      } else {
        enc = e;
      }
    }
    if (ov && ov->has_force_encoding) enc = ov->force_encoding;

    // Disposition and names.
    FieldValue disp;
    const auto disp_fields = part(idx).all_headers("Content-Disposition");
    if (!disp_fields.empty()) disp = parse_disposition(unfold(disp_fields.front()->raw), report(idx));
    if (disp_fields.size() > 1) {
      FieldValue second = parse_disposition(unfold(disp_fields[1]->raw), report(idx));
      if (!same_reading(disp, second))
        report(idx).add("MIME_DUP_DISPOSITION", "Content-Disposition given " +
                                                    std::to_string(disp_fields.size()) + " times");
      for (const Param* f : second.all("filename")) add_name(idx, f->value);
    }

    {
      Part& p = part(idx);
      p.content_type = content_type;
      p.charset = charset;
      p.encoding = enc;
      p.encoding_label = enc_label;
      p.disposition = disp.type;
    }
    for (const Param* f : disp.all("filename")) add_name(idx, f->value);
    const std::size_t filename_names = part(idx).names.size();
    if (ct)
      for (const Param* n : ct->all("name")) add_name(idx, n->value);
    for (const FieldValue& other : cts)
      for (const Param* n : other.all("name")) add_name(idx, n->value);
    {
      Part& p = part(idx);
      if (!p.names.empty()) p.filename = p.names.front();
      if (p.names.size() > 1) {
        if (filename_names > 1)
          report(idx).add("MIME_DUP_FILENAME", "filename given with different values");
        if (filename_names >= 1 && p.names.size() > filename_names &&
            !same_file_name(p.names[0], p.names[filename_names]))
          report(idx).add("MIME_NAME_MISMATCH", "filename '" + escape_for_display(p.names[0]) +
                                                    "' vs name '" +
                                                    escape_for_display(p.names[filename_names]) + "'");
        else if (filename_names == 0)
          report(idx).add("MIME_NAME_MISMATCH", "name given with different values");
      }
    }

    if (is_root && part(idx).is_leaf()) part(idx).path = "1";

    // Build the primary reading.
    if (depth >= limits_.max_depth && (part(idx).is_multipart() || part(idx).is_message())) {
      limit("MIME_LIMIT_DEPTH", "part " + part(idx).path + ": nesting deeper than limits.max_depth=" +
                                    std::to_string(limits_.max_depth));
      part(idx).content_type = "application/octet-stream";  // kept whole, scanned raw
      part(idx).payload = body;
      return;
    }

    std::string boundary;
    if (ov && ov->has_boundary) {
      boundary = ov->boundary;
    } else if (!boundaries.empty()) {
      boundary = boundaries.front();
    }

    if (part(idx).is_multipart()) {
      if (boundary.empty()) {
        report(idx).add("MIME_MULTIPART_NO_BOUNDARY", "multipart without a boundary parameter");
        part(idx).content_type = "text/plain";
        parse_leaf(idx, body, mode, ov);
        // Some clients take the first "--token" line as the boundary.
        const std::string guessed = guess_boundary(body, mode.lines);
        if (!guessed.empty()) {
          const int v = new_view(idx, "boundary guessed from the body");
          if (v >= 0) {
            Override o;
            o.content_type_index = ct_pick;
            o.boundary = guessed;
            o.has_boundary = true;
            parse_entity(v, s, mode, &o);
          }
        }
      } else {
        parse_multipart(idx, body, boundary, mode, enc, ov);
      }
    } else if (part(idx).is_message()) {
      parse_message_part(idx, body, mode, enc);
    } else {
      // Sniff for undeclared base64 only when no other reading already decodes the body.
      parse_leaf(idx, body, mode, ov, fuzzy_enc == Encoding::kNone && other_ctes.empty());
    }

    // Views: each other plausible reading of this same entity.
    if (ov) return;  // a view does not spawn views of its own entity
    for (int i : other_cts) {
      const int v = new_view(idx, "Content-Type field " + std::to_string(i + 1));
      if (v < 0) break;
      Override o;
      o.content_type_index = i;
      parse_entity(v, s, mode, &o);
    }
    for (int i : other_ctes) {
      const int v = new_view(idx, "Content-Transfer-Encoding field " + std::to_string(i + 1));
      if (v < 0) break;
      Override o;
      o.encoding_index = i;
      parse_entity(v, s, mode, &o);
    }
    if (fuzzy_enc != Encoding::kNone) {
      const int v = new_view(idx, "decoded as " + std::string(encoding_name(fuzzy_enc)));
      if (v >= 0) {
        Override o;
        o.force_encoding = fuzzy_enc;
        o.has_force_encoding = true;
        parse_entity(v, s, mode, &o);
      }
    }
    if (part(idx).is_multipart() && !boundary.empty()) {
      for (std::size_t i = 1; i < boundaries.size(); ++i) {
        report(idx).add("MIME_DUP_BOUNDARY", "boundary given " + std::to_string(boundaries.size()) +
                                                 " ways");
        const int v = new_view(idx, "boundary " + std::to_string(i + 1));
        if (v < 0) break;
        Override o;
        o.boundary = boundaries[i];
        o.has_boundary = true;
        parse_entity(v, s, mode, &o);
      }
      const std::size_t trimmed = boundary.find_last_not_of(" \t");
      if (trimmed != std::string::npos && trimmed + 1 != boundary.size()) {
        report(idx).add("MIME_BOUNDARY_WHITESPACE", "boundary ends in whitespace");
        const int v = new_view(idx, "boundary with trailing whitespace removed");
        if (v >= 0) {
          Override o;
          o.boundary = boundary.substr(0, trimmed + 1);
          o.has_boundary = true;
          parse_entity(v, s, mode, &o);
        }
      }
    }
    if (hs.bare_cr && mode.lines == LineMode::kLf) {
      report(idx).add("MIME_HEADER_BARE_CR", "bare CR in the header block");
      add_line_mode_view(idx, mode, LineMode::kAny, "bare CR read as a line break");
    }
    if (hs.bare_lf && mode.lines == LineMode::kLf) {
      report(idx).add("MIME_MIXED_LINE_ENDINGS", "bare LF in the header block of a CRLF message");
      add_line_mode_view(idx, mode, LineMode::kCrlfOnly, "only CRLF read as a line break");
    }
  }

  void add_line_mode_view(int idx, Mode mode, LineMode lines,
                          const char* reason) {
    const int v = new_view(idx, reason);
    if (v < 0) return;
    Mode m2 = mode;
    m2.lines = lines;
    parse_entity(v, whole_entity(idx), m2, nullptr);
  }

  static bool same_reading(const FieldValue& a, const FieldValue& b) {
    if (a.type != b.type) return false;
    const Param* ba = a.param("boundary");
    const Param* bb = b.param("boundary");
    if ((ba == nullptr) != (bb == nullptr)) return false;
    if (ba && ba->value != bb->value) return false;
    const Param* na = a.param("name");
    const Param* nb = b.param("name");
    if (na && nb && na->value != nb->value) return false;
    const Param* fa = a.param("filename");
    const Param* fb = b.param("filename");
    if (fa && fb && fa->value != fb->value) return false;
    return true;
  }

  // "PATCH" and "patch", or "C:\\x\\a.doc" and "a.doc", name the same file for every
  // client; only a real difference (another extension, another name) is suspicious.
  static bool same_file_name(std::string_view a, std::string_view b) {
    auto base = [](std::string_view n) {
      const std::size_t cut = n.find_last_of("/\\");
      return cut == std::string_view::npos ? n : n.substr(cut + 1);
    };
    return iequals(base(a), base(b));
  }

  void add_name(int idx, const std::string& name) {
    if (name.empty()) return;
    auto& names = part(idx).names;
    if (std::find(names.begin(), names.end(), name) == names.end() && names.size() < 16)
      names.push_back(name);
  }

  static std::string guess_boundary(std::string_view body, LineMode mode) {
    for (std::size_t pos = 0, lines = 0; pos < body.size() && lines < 200; ++lines) {
      const Line ln = next_line(body, pos, mode);
      std::string_view line = body.substr(pos, ln.end - pos);
      if (line.size() > 2 && line.size() <= 72 && line.starts_with("--")) {
        std::string_view b = line.substr(2);
        while (!b.empty() && is_wsp(b.back())) b.remove_suffix(1);
        if (!b.empty()) return std::string(b);
      }
      pos = ln.next;
    }
    return {};
  }

  // ---- multipart --------------------------------------------------------------------

  struct Delimiter {
    std::size_t start;       // offset of "--boundary"
    std::size_t content_end; // where the previous content ends (before the line break)
    std::size_t next;        // start of the line after the delimiter line
    bool close;
  };

  void parse_multipart(int idx, std::string_view body, const std::string& boundary, Mode mode,
                       Encoding enc, const Override* ov) {
    if (enc != Encoding::kNone) {
      // RFC 2045 forbids encoding a multipart; clients ignore it. A view decodes it.
      report(idx).add("MIME_CTE_ON_MULTIPART", std::string(encoding_name(enc)));
      if (ov && ov->decode_container) {
        body = decode(idx, body, enc, false);
      } else if (!ov) {
        const int v = new_view(idx, "multipart body decoded as " + std::string(encoding_name(enc)));
        if (v >= 0) {
          Override o;
          o.decode_container = true;
          parse_entity(v, whole_entity(idx), mode, &o);
        }
      }
    }
    if (boundary.size() > 70) report(idx).add("MIME_BOUNDARY_LONG", "boundary over 70 characters");
    const std::string dash = "--" + boundary;
    std::vector<Delimiter> delims;
    bool prefix_lines = false, bare_cr = false, bare_lf = false, closed = false;
    std::size_t from = 0;
    const char* base = body.data();
    while (from < body.size()) {
      const void* hit = memmem(base + from, body.size() - from, dash.data(), dash.size());
      if (!hit) break;
      const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(hit) - base);
      from = at + 1;
      // Must start a line under this mode.
      std::size_t term = 0;
      if (at > 0) {
        const char prev = body[at - 1];
        if (prev == '\r') bare_cr = true;
        if (prev == '\n' && (at < 2 || body[at - 2] != '\r') && has_crlf_) bare_lf = true;
        term = terminator_before(body, at, mode.lines);
        if (term == 0) continue;
      }
      const Line ln = next_line(body, at, mode.lines);
      std::string_view rest = body.substr(at + dash.size(), ln.end - at - dash.size());
      bool close = false;
      if (rest.starts_with("--")) {
        close = true;
        rest.remove_prefix(2);
      }
      if (!all_wsp(rest)) {
        if (!close) prefix_lines = true;
        if (!mode.prefix_boundaries) continue;
      }
      delims.push_back(Delimiter{at, at - term, ln.next, close});
      from = ln.next;
      if (delims.size() > limits_.max_parts) break;  // new_part reports the limit
      if (close) {
        closed = true;
        break;
      }
    }

    if (delims.empty()) {
      report(idx).add("MIME_MULTIPART_NO_PARTS", "no delimiter line for the boundary");
      // The whole body is a preamble no client shows as a part; keep it scannable.
      add_text_view(idx, body, Origin::kPreamble, "body of a multipart without parts", mode);
    } else {
      std::string_view preamble = body.substr(0, delims.front().content_end);
      if (worth_a_view(preamble))
        add_text_view(idx, preamble, Origin::kPreamble, "preamble", mode);
      std::size_t n = 0;
      for (std::size_t i = 0; i < delims.size() && !delims[i].close; ++i) {
        const std::size_t start = delims[i].next;
        const std::size_t end = i + 1 < delims.size() ? delims[i + 1].content_end : body.size();
        const int c = new_part(idx, child_path(idx, ++n), Origin::kMime, part(idx).depth + 1);
        if (c < 0) break;
        part(idx).children.push_back(c);
        parse_entity(c, body.substr(start, std::max(start, end) - start), mode, nullptr);
      }
      if (!closed) {
        report(idx).add("MIME_MISSING_CLOSE_BOUNDARY", "no close delimiter");
      } else {
        std::string_view epilogue = body.substr(delims.back().next);
        if (!all_blank(epilogue)) {
          report(idx).add("MIME_EPILOGUE_CONTENT",
                          std::to_string(epilogue.size()) + " bytes after the close delimiter");
          // A reader that ignores the close delimiter sees one more entity here.
          const int v = new_view(idx, "epilogue read as an entity", Origin::kEpilogue);
          if (v >= 0) parse_entity(v, epilogue, mode, nullptr);
        }
      }
    }

    if (ov) return;
    if (prefix_lines && !mode.prefix_boundaries) {
      report(idx).add("MIME_BOUNDARY_PREFIX", "a line starts with the delimiter but goes on");
      const int v = new_view(idx, "delimiter lines matched by prefix");
      if (v >= 0) {
        Mode m2 = mode;
        m2.prefix_boundaries = true;
        parse_entity(v, whole_entity(idx), m2, nullptr);
      }
    }
    if (bare_cr && mode.lines == LineMode::kLf) {
      report(idx).add("MIME_BOUNDARY_BARE_CR", "delimiter preceded by a bare CR");
      add_line_mode_view(idx, mode, LineMode::kAny,
                         "bare CR read as a line break");
    }
    if (bare_lf && mode.lines == LineMode::kLf) {
      report(idx).add("MIME_BOUNDARY_BARE_LF", "delimiter preceded by a bare LF in a CRLF message");
      add_line_mode_view(idx, mode, LineMode::kCrlfOnly,
                         "only CRLF read as a line break");
    }
  }

  // Nearly every multipart has a one-line preamble ("This is a multi-part message in MIME
  // format."). A preamble becomes a scannable view only when it could carry something:
  // it is long, or holds header-like, markup or encoded-looking lines.
  static bool worth_a_view(std::string_view pre) {
    if (all_blank(pre)) return false;
    if (pre.size() > 1024) return true;
    const std::string l = lower(pre);
    for (const char* marker : {"content-", "<html", "<script", "begin ", "=ybegin", "binhex"})
      if (l.find(marker) != std::string::npos) return true;
    std::size_t run = 0;
    for (char c : pre) {
      const bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '+' || c == '/';
      run = b64 ? run + 1 : 0;
      if (run >= 60) return true;
    }
    return false;
  }

  // The entity's full bytes (headers + body): views re-read it from the top.
  std::string_view whole_entity(int idx) {
    const Part& p = part(idx);
    if (p.headers.empty()) return p.body;
    const char* begin = p.headers.front().name.data();
    return std::string_view(begin, static_cast<std::size_t>(p.body.data() + p.body.size() - begin));
  }

  void add_text_view(int idx, std::string_view bytes, Origin origin, const char* reason, Mode mode) {
    const int v = new_view(idx, reason, origin);
    if (v < 0) return;
    part(v).content_type = "text/plain";
    part(v).body = bytes;
    parse_leaf(v, bytes, mode, nullptr);
  }

  // ---- message/rfc822 ---------------------------------------------------------------

  void parse_message_part(int idx, std::string_view body, Mode mode, Encoding enc) {
    if (enc != Encoding::kNone) {
      // RFC 2046 forbids it; Thunderbird and Outlook decode it, so the decoded reading is
      // the primary one.
      report(idx).add("MIME_MESSAGE_ENCODED", std::string(encoding_name(enc)));
      body = decode(idx, body, enc, false);
    }
    const int c = new_part(idx, child_path(idx, 1), Origin::kMime, part(idx).depth + 1);
    if (c < 0) return;
    part(idx).children.push_back(c);
    parse_entity(c, body, mode, nullptr);
  }

  // ---- leaves -----------------------------------------------------------------------

  std::string_view decode(int idx, std::string_view body, Encoding enc, bool continue_after_padding) {
    if (enc == Encoding::kNone) return body;
    const std::size_t budget = decode_budget();
    std::string& out = arena();
    out.reserve(std::min(budget, enc == Encoding::kBase64 ? body.size() / 4 * 3 + 3 : body.size()));
    DecodeStats st;
    std::string name;
    switch (enc) {
      case Encoding::kBase64:
        decode_base64(body, continue_after_padding ? Base64Mode::kContinue : Base64Mode::kStopAtPadding,
                      budget, out, st);
        break;
      case Encoding::kQuotedPrintable: decode_qp(body, budget, out, st); break;
      case Encoding::kUuencode: decode_uuencode(body, budget, out, name, st); break;
      case Encoding::kYenc: decode_yenc(body, budget, out, name, st); break;
      case Encoding::kBinHex: decode_binhex(body, budget, out, name, st); break;
      case Encoding::kGzip64: decode_gzip64(body, budget, out, st); break;
      case Encoding::kNone: break;
    }
    m_.decoded_bytes += out.size();
    if (!name.empty()) add_name(idx, name);
    const Report r = report(idx);
    if (st.truncated)
      limit("MIME_LIMIT_DECODED_BYTES", "part " + part(idx).path + ": decoded payload over limits.max_decoded_bytes");
    if (enc == Encoding::kBase64) {
      if (st.junk_bytes) r.add("MIME_BASE64_JUNK", std::to_string(st.junk_bytes) + " bytes outside the alphabet");
      if (st.padding_in_middle) r.add("MIME_BASE64_PADDING_MIDDLE", "data after '=' padding");
      if (st.bad_padding) r.add("MIME_BASE64_BAD_PADDING", "missing or extra '=' padding");
    }
    if (enc == Encoding::kQuotedPrintable && st.broken_escapes)
      r.add("MIME_QP_BROKEN_ESCAPE", "'=' not followed by two hex digits");
    if (st.bad_checksum) r.add("MIME_DECODE_BAD_CHECKSUM", std::string(encoding_name(enc)));
    if (st.incomplete && enc != Encoding::kBase64 && enc != Encoding::kQuotedPrintable)
      r.add("MIME_DECODE_INCOMPLETE", std::string(encoding_name(enc)));
    last_stats_ = st;
    return out;
  }
  DecodeStats last_stats_;

  void parse_leaf(int idx, std::string_view body, Mode mode, const Override* ov,
                  bool sniff_base64 = true) {
    (void)mode;
    Part& p0 = part(idx);
    if (p0.content_type == "application/mac-binhex40" && p0.encoding == Encoding::kNone)
      p0.encoding = Encoding::kBinHex;
    const Encoding enc = part(idx).encoding;
    const bool go_on = ov && ov->base64_continue_after_padding;
    const std::string_view payload = decode(idx, body, enc, go_on);
    part(idx).payload = payload;
    const bool padding_middle = enc == Encoding::kBase64 && last_stats_.padding_in_middle;

    // An attachment declared 7bit/8bit whose body is pure base64: some clients sniff it.
    if (sniff_base64 && enc == Encoding::kNone && !ov && !part(idx).filename.empty() &&
        looks_like_base64(body, 64)) {
      report(idx).add("MIME_BASE64_UNDECLARED", "attachment body is base64 but not declared so");
      const int v = new_view(idx, "undeclared base64 decoded");
      if (v >= 0) {
        Override o;
        o.force_encoding = Encoding::kBase64;
        o.has_force_encoding = true;
        parse_entity(v, whole_entity(idx), mode, &o);
      }
    }
    if (padding_middle && !ov) {
      // RFC 2045 6.8 and GMime end the data at the padding; decoders that go on (some
      // clients, and tools that join concatenated base64) see more.
      const int v = new_view(idx, "base64 decoding continued after the padding");
      if (v >= 0) {
        Override o;
        o.base64_continue_after_padding = true;
        parse_entity(v, whole_entity(idx), mode, &o);
      }
    }

    if (options_.find_embedded && part(idx).is_text() && part(idx).origin != Origin::kEmbedded)
      find_embedded(idx);
  }

  void find_embedded(int idx) {
    const std::string_view payload = part(idx).payload;
    const auto blocks = find_embedded_blocks(payload, 64);
    for (const EmbeddedBlock& b : blocks) {
      const char* what = b.kind == EmbeddedBlock::Kind::kUuencode ? "uuencode"
                         : b.kind == EmbeddedBlock::Kind::kYenc   ? "yenc"
                                                                  : "binhex";
      report(idx).add(std::string("MIME_EMBEDDED_") +
                          (b.kind == EmbeddedBlock::Kind::kUuencode ? "UUENCODE"
                           : b.kind == EmbeddedBlock::Kind::kYenc  ? "YENC"
                                                                   : "BINHEX"),
                      "file encoded inside the text");
      const int v = new_view(idx, std::string(what) + " block in the text", Origin::kEmbedded);
      if (v < 0) return;
      Part& e = part(v);
      e.content_type = "application/octet-stream";
      e.encoding = b.kind == EmbeddedBlock::Kind::kUuencode ? Encoding::kUuencode
                   : b.kind == EmbeddedBlock::Kind::kYenc  ? Encoding::kYenc
                                                           : Encoding::kBinHex;
      e.body = payload.substr(b.begin, b.end - b.begin);
      const std::string_view body = e.body;
      const std::string_view out = decode(v, body, part(v).encoding, false);
      part(v).payload = out;
      if (!part(v).names.empty()) part(v).filename = part(v).names.front();
    }
  }

  // ---- top-level fields -------------------------------------------------------------

  void collect_top_level() {
    if (m_.parts.empty()) return;
    const Part& root = m_.parts.front();
    const Report r{m_.symbols, "message"};
    if (const HeaderField* h = root.header("Subject")) m_.subject = decode_encoded_words(unfold(h->raw), r);
    if (const HeaderField* h = root.header("Message-ID")) m_.message_id = unfold(h->raw);
    if (const HeaderField* h = root.header("From")) m_.from = parse_address_list(unfold(h->raw), r);
    // Fields a reader sees once; two of them means two readings of who sent what.
    std::string dups;
    for (const char* name : {"From", "Subject", "Date", "Message-ID", "To", "Reply-To", "Sender"}) {
      if (root.all_headers(name).size() > 1) {
        if (!dups.empty()) dups += ", ";
        dups += name;
      }
    }
    if (!dups.empty()) m_.symbols.add("MIME_DUP_HEADER", dups);
  }
};

}  // namespace

Message parse_structure(std::string raw, const MimeLimits& limits, const MimeConfig& options) {
  Message m;
  m.raw = std::move(raw);
  m.parts.reserve(8);
  std::string_view bytes = m.raw;
  if (bytes.size() > limits.max_message_bytes) {
    m.limit_hit = true;
    m.symbols.add("MIME_LIMIT_MESSAGE_BYTES",
                  std::to_string(bytes.size()) + " bytes, over limits.max_message_bytes=" +
                      std::to_string(limits.max_message_bytes));
    bytes = bytes.substr(0, limits.max_message_bytes);
  }
  Parser(m, limits, options).run(bytes);
  return m;
}

Message parse_message(std::string raw, const MimeLimits& limits, const MimeConfig& options) {
  Message m = parse_structure(std::move(raw), limits, options);
  extract_text(m, limits, options);
  return m;
}

}  // namespace bulwark::mime
