#include "smtp/session.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>

#include "core/ascii.h"
#include "smtp/address.h"

namespace bulwark::smtp {

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Where the next line ends. Only CRLF ends a line unless `lenient` (trusted networks
// configured to normalise): then a bare CR or bare LF does too.
enum class LineEnd { kIncomplete, kLine, kBare };
struct Found {
  LineEnd kind = LineEnd::kIncomplete;
  std::size_t end = 0;   // end of the line's content
  std::size_t next = 0;  // start of the following line
};

Found find_line(const std::string& in, std::size_t from, bool lenient) {
  Found f;
  const std::size_t i = in.find_first_of("\r\n", from);
  if (i == std::string::npos) return f;
  f.end = i;
  if (in[i] == '\r') {
    if (i + 1 == in.size()) return f;  // CR at the end: wait for what follows
    if (in[i + 1] == '\n') {
      f.kind = LineEnd::kLine;
      f.next = i + 2;
      return f;
    }
  }
  f.kind = lenient ? LineEnd::kLine : LineEnd::kBare;
  f.next = i + 1;
  return f;
}

// The argument of AUTH PLAIN / LOGIN is strict base64; returns false on anything else.
bool base64_decode(std::string_view in, std::string& out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out.clear();
  if (in.size() % 4 != 0) return false;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in[i + static_cast<std::size_t>(k)];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else {
        if (pad) return false;
        v[k] = value(c);
        if (v[k] < 0) return false;
      }
    }
    const unsigned n = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                       (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out += static_cast<char>((n >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return true;
}

constexpr std::string_view kBadPipelining =
    "554 5.5.0 Error: command sent ahead of the server's reply (improper pipelining)";

}  // namespace

Session::Session(const SessionSettings& settings, ClientInfo client)
    : settings_(settings), client_(std::move(client)) {}

void Session::start() {
  greeted_ = true;
  reply("220 " + settings_.hostname + " ESMTP Bulwark");
}

void Session::early_talker() {
  close("554 5.5.1 Error: SMTP protocol violation: client talked before the greeting",
        "pregreet");
}

void Session::reply(std::string_view line) {
  out_.append(line);
  out_.append("\r\n");
}

void Session::error(std::string_view line) {
  reply(line);
  if (++errors_ >= settings_.max_errors && state_ != State::kClosed)
    close("421 4.7.0 " + settings_.hostname + " Error: too many errors", "errors");
}

void Session::close(std::string_view line, std::string reason) {
  if (state_ == State::kClosed) return;
  reply(line);
  state_ = State::kClosed;
  close_reason_ = std::move(reason);
  in_.clear();
}

void Session::close_with(const std::string& line) { close(line, "server"); }

void Session::feed(std::string_view bytes) {
  if (state_ == State::kClosed) return;
  in_.append(bytes);
  process();
}

void Session::process() {
  while (state_ == State::kActive && !in_.empty()) {
    bool progressed = false;
    switch (mode_) {
      case Mode::kCommand: progressed = process_command_line(); break;
      case Mode::kData: progressed = process_data(); break;
      case Mode::kBdat: progressed = process_bdat(); break;
      case Mode::kAuth: progressed = process_auth_line(); break;
    }
    if (!progressed) break;
  }
}

bool Session::must_be_last_in_group() {
  if (in_.empty()) return true;
  close(kBadPipelining, "pipelining");
  return false;
}

bool Session::process_command_line() {
  const Found f = find_line(in_, 0, client_.normalize_bare_lf);
  if (f.kind == LineEnd::kIncomplete) {
    if (in_.size() > settings_.max_command_line)
      close("500 5.5.2 Error: line too long", "line-too-long");
    return false;
  }
  if (f.kind == LineEnd::kBare) {
    close("521 5.5.2 Error: bare <CR> or <LF> received; lines must end with <CR><LF>",
          "bare-newline");
    return false;
  }
  if (f.end + 2 > settings_.max_command_line) {
    in_.erase(0, f.next);
    error("500 5.5.2 Error: line too long");
    return true;
  }
  std::string line = in_.substr(0, f.end);
  in_.erase(0, f.next);
  // Without PIPELINING (HELO, or before EHLO) a client waits for every reply.
  if (!extended_ && !in_.empty() && helo_) {
    close(kBadPipelining, "pipelining");
    return false;
  }
  command(line);
  return true;
}

void Session::command(std::string_view line) {
  if (line.find('\0') != std::string_view::npos) {
    error("500 5.5.2 Error: NUL in command");
    return;
  }
  const std::size_t sp = line.find(' ');
  const std::string verb = upper(line.substr(0, sp));
  const std::string_view arg = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
  if (verb == "EHLO" || verb == "HELO") {
    if (must_be_last_in_group()) cmd_ehlo(arg, verb == "EHLO");
  } else if (verb == "MAIL") {
    cmd_mail(arg);
  } else if (verb == "RCPT") {
    cmd_rcpt(arg);
  } else if (verb == "DATA") {
    if (must_be_last_in_group()) cmd_data(arg);
  } else if (verb == "BDAT") {
    cmd_bdat(arg);
  } else if (verb == "RSET") {
    reset_transaction();
    reply("250 2.0.0 Ok");
  } else if (verb == "NOOP") {
    reply("250 2.0.0 Ok");
  } else if (verb == "QUIT") {
    close("221 2.0.0 Bye", "quit");
  } else if (verb == "HELP") {
    reply("214 2.0.0 See RFC 5321; commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY");
  } else if (verb == "VRFY") {
    if (must_be_last_in_group())
      reply("252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
  } else if (verb == "EXPN") {
    if (must_be_last_in_group()) error("502 5.5.1 Error: EXPN not supported");
  } else if (verb == "STARTTLS") {
    cmd_starttls(arg);
  } else if (verb == "AUTH") {
    if (must_be_last_in_group()) cmd_auth(arg);
  } else if (verb.empty()) {
    error("500 5.5.2 Error: bad syntax");
  } else {
    error("500 5.5.2 Error: command not recognized");
  }
}

void Session::cmd_ehlo(std::string_view arg, bool extended) {
  arg = trim(arg);
  if (arg.empty() || arg.find_first_of(" \t") != std::string_view::npos) {
    error(extended ? "501 5.5.4 Syntax: EHLO hostname" : "501 5.5.4 Syntax: HELO hostname");
    return;
  }
  reset_transaction();
  helo_ = true;
  extended_ = extended;
  envelope_.client_helo = std::string(arg);
  if (!extended) {
    reply("250 " + settings_.hostname);
    return;
  }
  std::vector<std::string> lines = {settings_.hostname, "PIPELINING",
                                    "SIZE " + std::to_string(settings_.max_message_bytes)};
  if (client_.tls_available && !tls_) lines.push_back("STARTTLS");
  if (client_.submission && tls_ && settings_.check_password && auth_user_.empty())
    lines.push_back("AUTH PLAIN LOGIN");
  for (const char* ext : {"ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8", "DSN", "CHUNKING"})
    lines.emplace_back(ext);
  for (std::size_t i = 0; i < lines.size(); ++i)
    reply((i + 1 < lines.size() ? "250-" : "250 ") + lines[i]);
}

void Session::cmd_starttls(std::string_view arg) {
  if (!trim(arg).empty()) {
    error("501 5.5.4 Syntax: STARTTLS");
  } else if (!client_.tls_available || tls_) {
    error(tls_ ? "503 5.5.1 Error: TLS already active" : "502 5.5.1 Error: STARTTLS not available");
  } else if (!helo_) {
    error("503 5.5.1 Error: send EHLO first");
  } else if (!in_.empty()) {
    // Anything sent in the clear after STARTTLS would be taken as sent over TLS
    // (command injection, CVE-2011-0411): refuse and hang up.
    close("554 5.5.0 Error: data sent after STARTTLS before the TLS handshake", "starttls-injection");
  } else {
    reply("220 2.0.0 Ready to start TLS");
    state_ = State::kStartTls;
  }
}

void Session::tls_started() {
  tls_ = true;
  helo_ = false;
  extended_ = false;
  reset_transaction();
  in_.clear();
  state_ = State::kActive;
}

void Session::cmd_mail(std::string_view arg) {
  if (!helo_) return error("503 5.5.1 Error: send HELO/EHLO first");
  if (have_mail_) return error("503 5.5.1 Error: nested MAIL command");
  if (client_.submission && auth_user_.empty())
    return error("530 5.7.0 Error: authentication required");
  if (!iequals_prefix(arg, "FROM:")) return error("501 5.5.4 Syntax: MAIL FROM:<address>");
  ParsedPath p = parse_path(arg.substr(5), /*allow_empty=*/true);
  if (!p.error.empty()) return error("501 5.1.7 " + p.error);
  Envelope e;
  e.client_helo = envelope_.client_helo;
  for (const auto& [key, value] : p.params) {
    if (key == "SIZE") {
      std::size_t n = 0;
      if (value.empty() || value.size() > 19 || value.find_first_not_of("0123456789") != std::string::npos)
        return error("501 5.5.4 Error: bad SIZE parameter");
      n = std::stoull(value);
      if (n > settings_.max_message_bytes)
        return error("552 5.3.4 Error: message size exceeds the limit of " +
                     std::to_string(settings_.max_message_bytes) + " bytes");
    } else if (key == "BODY") {
      const std::string v = upper(value);
      if (v != "7BIT" && v != "8BITMIME") return error("555 5.5.4 Error: BODY=" + v + " not supported");
      e.body = v;
    } else if (key == "SMTPUTF8") {
      if (!value.empty()) return error("555 5.5.4 Error: SMTPUTF8 takes no value");
      e.smtputf8 = true;
    } else if (key == "RET") {
      const std::string v = upper(value);
      if (v != "FULL" && v != "HDRS") return error("501 5.5.4 Error: RET must be FULL or HDRS");
      e.ret = v;
    } else if (key == "ENVID") {
      std::string decoded;
      if (!xtext_decode(value, decoded) || decoded.size() > 100)
        return error("501 5.5.4 Error: bad ENVID");
      e.envid = decoded;
    } else if (key == "AUTH") {
      // RFC 4954 5: accepted and ignored; we do not trust another server's claim.
    } else {
      return error("555 5.5.4 Error: unsupported parameter " + key);
    }
  }
  if (!valid_address(p.address, e.smtputf8, /*need_domain=*/true) && !p.address.empty())
    return error("553 5.1.7 Error: bad sender address syntax");
  if (settings_.check_sender) {
    std::string refusal = settings_.check_sender(p.address);
    if (!refusal.empty()) return reply(refusal);
  }
  e.mail_from = p.address;
  e.id = new_queue_id();
  envelope_ = std::move(e);
  have_mail_ = true;
  reply("250 2.1.0 Ok");
}

void Session::cmd_rcpt(std::string_view arg) {
  if (!have_mail_) return error("503 5.5.1 Error: need MAIL command");
  if (!iequals_prefix(arg, "TO:")) return error("501 5.5.4 Syntax: RCPT TO:<address>");
  ParsedPath p = parse_path(arg.substr(3), /*allow_empty=*/false);
  if (!p.error.empty()) return error("501 5.1.3 " + p.error);
  if (ascii::iequals(p.address, "postmaster"))
    p.address = "postmaster@" + settings_.hostname;  // RFC 5321 4.5.1: always accepted
  Recipient r;
  r.address = p.address;
  for (const auto& [key, value] : p.params) {
    if (key == "NOTIFY") {
      const std::string v = upper(value);
      bool ok = !v.empty();
      bool never = false, other = false;
      std::size_t start = 0;
      while (ok && start <= v.size()) {
        std::size_t comma = v.find(',', start);
        std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (item == "NEVER") never = true;
        else if (item == "SUCCESS" || item == "FAILURE" || item == "DELAY") other = true;
        else ok = false;
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      if (!ok || (never && other)) return error("501 5.5.4 Error: bad NOTIFY parameter");
      r.notify = v;
    } else if (key == "ORCPT") {
      std::string decoded;
      if (value.find(';') == std::string::npos || !xtext_decode(value, decoded) || decoded.size() > 500)
        return error("501 5.5.4 Error: bad ORCPT parameter");
      r.orcpt = decoded;
    } else {
      return error("555 5.5.4 Error: unsupported parameter " + key);
    }
  }
  if (!valid_address(r.address, envelope_.smtputf8, /*need_domain=*/true))
    return error("501 5.1.3 Error: bad recipient address syntax");
  if (envelope_.recipients.size() >= settings_.max_recipients)
    return reply("452 4.5.3 Error: too many recipients");
  const bool may_relay = client_.trusted || !auth_user_.empty();
  if (settings_.check_recipient) {
    std::string refusal = settings_.check_recipient(r.address, may_relay);
    if (!refusal.empty()) return error(refusal);
  }
  for (const auto& existing : envelope_.recipients)
    if (ascii::iequals(existing.address, r.address)) return reply("250 2.1.5 Ok");
  envelope_.recipients.push_back(std::move(r));
  reply("250 2.1.5 Ok");
}

void Session::cmd_data(std::string_view arg) {
  if (!trim(arg).empty()) return error("501 5.5.4 Syntax: DATA");
  if (!have_mail_) return error("503 5.5.1 Error: need MAIL command");
  if (envelope_.recipients.empty()) return error("554 5.5.1 Error: no valid recipients");
  if (bdat_failed_ || !data_.empty()) return error("503 5.5.1 Error: DATA after BDAT");
  mode_ = Mode::kData;
  data_line_ = 0;
  reply("354 End data with <CR><LF>.<CR><LF>");
}

bool Session::process_data() {
  // Lines are taken whole; a line longer than max_data_line is dropped (and the message
  // refused at its end) so memory stays bounded while we keep looking for the end marker.
  std::size_t pos = 0;
  bool ended = false;
  while (true) {
    const Found f = find_line(in_, pos, client_.normalize_bare_lf);
    if (f.kind == LineEnd::kIncomplete) {
      const std::size_t partial = in_.size() - pos;
      if (partial > settings_.max_data_line) {
        data_line_too_long_ = true;
        data_line_ = 1;  // inside a line: the rest is not a line start
        pos = in_.back() == '\r' ? in_.size() - 1 : in_.size();  // a CR may start CRLF
      }
      break;
    }
    if (f.kind == LineEnd::kBare) {
      close("521 5.5.2 Error: bare <CR> or <LF> received in message data; lines must end with <CR><LF>",
            "bare-newline");
      return false;
    }
    std::string_view line(in_.data() + pos, f.end - pos);
    const bool line_start = data_line_ == 0;
    data_line_ = 0;
    pos = f.next;
    if (line_start && line == ".") {
      ended = true;
      break;
    }
    if (line_start && !line.empty() && line.front() == '.') line.remove_prefix(1);
    if (std::memchr(line.data(), '\0', line.size())) data_nul_ = true;
    if (line.size() + 2 > settings_.max_data_line) data_line_too_long_ = true;
    if (data_.size() + line.size() + 2 > settings_.max_message_bytes) data_too_big_ = true;
    if (!data_too_big_) {
      data_.append(line);
      data_.append("\r\n");
    }
  }
  in_.erase(0, pos);
  if (ended) {
    mode_ = Mode::kCommand;
    end_of_message();
  }
  return ended;
}

void Session::cmd_bdat(std::string_view arg) {
  arg = trim(arg);
  const std::size_t sp = arg.find(' ');
  const std::string_view size_text = arg.substr(0, sp);
  const std::string last = sp == std::string_view::npos ? "" : upper(trim(arg.substr(sp + 1)));
  if (size_text.empty() || size_text.size() > 19 ||
      size_text.find_first_not_of("0123456789") != std::string_view::npos ||
      (!last.empty() && last != "LAST")) {
    // The chunk's length is unknown, so its bytes cannot be skipped: hang up.
    close("501 5.5.4 Syntax: BDAT size [LAST]", "bdat-syntax");
    return;
  }
  bdat_left_ = std::stoull(std::string(size_text));
  bdat_last_ = !last.empty();
  if (!have_mail_ || envelope_.recipients.empty()) {
    bdat_failed_ = true;  // the chunk is read and thrown away, then refused
  }
  mode_ = Mode::kBdat;
  process_bdat();
}

bool Session::process_bdat() {
  const std::size_t take = std::min(bdat_left_, in_.size());
  if (!bdat_failed_ && !data_too_big_) {
    if (data_.size() + take > settings_.max_message_bytes) {
      data_too_big_ = true;
      data_.clear();
      data_.shrink_to_fit();
    } else {
      data_.append(in_, 0, take);
    }
  }
  in_.erase(0, take);
  bdat_left_ -= take;
  if (bdat_left_ > 0) return take > 0;
  mode_ = Mode::kCommand;
  if (bdat_failed_ || !have_mail_ || envelope_.recipients.empty()) {
    if (bdat_last_) bdat_failed_ = false;
    error(have_mail_ ? "554 5.5.1 Error: no valid recipients" : "503 5.5.1 Error: need MAIL command");
    if (bdat_last_) reset_transaction();
    return true;
  }
  if (!bdat_last_) {
    reply(data_too_big_ ? "552 5.3.4 Error: message too big"
                        : "250 2.0.0 " + std::to_string(data_.size()) + " octets received");
    return true;
  }
  // Chunks are length-framed, so their content never ends the message; it must still be
  // CRLF text (we do not offer BINARYMIME), or a later hop could read it differently.
  if (!data_too_big_) {
    if (client_.normalize_bare_lf) {
      std::string fixed;
      fixed.reserve(data_.size());
      for (std::size_t i = 0; i < data_.size(); ++i) {
        const char c = data_[i];
        if (c == '\r') {
          fixed += "\r\n";
          if (i + 1 < data_.size() && data_[i + 1] == '\n') ++i;
        } else if (c == '\n') {
          fixed += "\r\n";
        } else {
          fixed += c;
        }
      }
      data_ = std::move(fixed);
    } else {
      for (std::size_t i = 0; i < data_.size(); ++i) {
        if ((data_[i] == '\r' && (i + 1 == data_.size() || data_[i + 1] != '\n')) ||
            (data_[i] == '\n' && (i == 0 || data_[i - 1] != '\r'))) {
          data_bare_newline_ = true;
          break;
        }
      }
    }
    if (std::memchr(data_.data(), '\0', data_.size())) data_nul_ = true;
    if (!data_.empty() && !data_.ends_with("\r\n")) data_ += "\r\n";
  }
  end_of_message();
  return true;
}

void Session::end_of_message() {
  std::string refusal;
  if (data_too_big_)
    refusal = "552 5.3.4 Error: message size exceeds the limit of " +
              std::to_string(settings_.max_message_bytes) + " bytes";
  else if (data_line_too_long_)
    refusal = "554 5.6.0 Error: message has a line longer than " +
              std::to_string(settings_.max_data_line) + " bytes";
  else if (data_nul_)
    refusal = "554 5.6.0 Error: message contains NUL characters";
  else if (data_bare_newline_)
    refusal = "554 5.6.0 Error: message contains a bare <CR> or <LF>";
  if (!refusal.empty()) {
    reset_transaction();
    error(refusal);
    return;
  }
  envelope_.client_ip = client_.ip;
  envelope_.tls = tls_;
  envelope_.auth_user = auth_user_;
  envelope_.received_at = static_cast<std::int64_t>(std::time(nullptr));
  state_ = State::kMessageReady;
}

Session::Message Session::take_message() {
  std::string helo = envelope_.client_helo;  // the session's, not the message's: keep it
  Message m{std::move(envelope_), std::move(data_)};
  envelope_ = Envelope{};
  envelope_.client_helo = std::move(helo);
  return m;
}

void Session::finish_message(const std::string& line) {
  if (state_ != State::kMessageReady) return;
  ++messages_;
  reset_transaction();
  state_ = State::kActive;
  reply(line);
  process();
}

void Session::reset_transaction() {
  std::string helo = envelope_.client_helo;
  envelope_ = Envelope{};
  envelope_.client_helo = std::move(helo);
  have_mail_ = false;
  data_.clear();
  data_line_ = 0;
  data_too_big_ = data_line_too_long_ = data_nul_ = data_bare_newline_ = false;
  bdat_left_ = 0;
  bdat_last_ = bdat_failed_ = false;
}

void Session::cmd_auth(std::string_view arg) {
  if (!client_.submission || !settings_.check_password)
    return error("503 5.5.1 Error: authentication not enabled");
  if (!tls_) return error("538 5.7.11 Encryption required for requested authentication mechanism");
  if (!auth_user_.empty()) return error("503 5.5.1 Error: already authenticated");
  if (have_mail_) return error("503 5.5.1 Error: MAIL transaction in progress");
  arg = trim(arg);
  const std::size_t sp = arg.find(' ');
  const std::string mech = upper(arg.substr(0, sp));
  const std::string_view initial = sp == std::string_view::npos ? std::string_view{} : trim(arg.substr(sp + 1));
  if (mech == "PLAIN") {
    if (initial.empty()) {
      auth_step_ = 1;
      mode_ = Mode::kAuth;
      reply("334 ");
      return;
    }
    auth_step_ = 1;
    auth_login_user_.clear();
    std::string decoded;
    if (initial == "=" ) decoded.clear();
    else if (!base64_decode(initial, decoded)) return error("501 5.5.2 Error: bad base64");
    // authzid \0 authcid \0 password
    const std::size_t a = decoded.find('\0');
    const std::size_t b = a == std::string::npos ? a : decoded.find('\0', a + 1);
    if (b == std::string::npos) return error("501 5.5.2 Error: bad AUTH PLAIN response");
    return finish_auth(decoded.substr(a + 1, b - a - 1), decoded.substr(b + 1));
  }
  if (mech == "LOGIN") {
    auth_step_ = 2;
    auth_login_user_.clear();
    if (!initial.empty()) {
      if (!base64_decode(initial, auth_login_user_)) return error("501 5.5.2 Error: bad base64");
      auth_step_ = 3;
      mode_ = Mode::kAuth;
      reply("334 UGFzc3dvcmQ6");  // "Password:"
      return;
    }
    mode_ = Mode::kAuth;
    reply("334 VXNlcm5hbWU6");  // "Username:"
    return;
  }
  error("504 5.5.4 Error: unsupported authentication mechanism");
}

bool Session::process_auth_line() {
  const Found f = find_line(in_, 0, false);
  if (f.kind == LineEnd::kIncomplete) {
    if (in_.size() > 12288) close("500 5.5.2 Error: line too long", "line-too-long");
    return false;
  }
  if (f.kind == LineEnd::kBare) {
    close("521 5.5.2 Error: bare <CR> or <LF> received", "bare-newline");
    return false;
  }
  const std::string line = in_.substr(0, f.end);
  in_.erase(0, f.next);
  mode_ = Mode::kCommand;
  if (line == "*") {
    error("501 5.0.0 Error: authentication cancelled");
    return true;
  }
  std::string decoded;
  if (!base64_decode(line, decoded)) {
    error("501 5.5.2 Error: bad base64");
    return true;
  }
  if (auth_step_ == 1) {
    const std::size_t a = decoded.find('\0');
    const std::size_t b = a == std::string::npos ? a : decoded.find('\0', a + 1);
    if (b == std::string::npos) {
      error("501 5.5.2 Error: bad AUTH PLAIN response");
      return true;
    }
    finish_auth(decoded.substr(a + 1, b - a - 1), decoded.substr(b + 1));
  } else if (auth_step_ == 2) {
    auth_login_user_ = decoded;
    auth_step_ = 3;
    mode_ = Mode::kAuth;
    reply("334 UGFzc3dvcmQ6");
  } else {
    finish_auth(auth_login_user_, decoded);
  }
  return true;
}

void Session::finish_auth(const std::string& user, const std::string& password) {
  mode_ = Mode::kCommand;
  auth_step_ = 0;
  if (!user.empty() && settings_.check_password(user, password)) {
    auth_user_ = user;
    reply("235 2.7.0 Authentication successful");
  } else {
    error("535 5.7.8 Error: authentication credentials invalid");
  }
}

}  // namespace bulwark::smtp
