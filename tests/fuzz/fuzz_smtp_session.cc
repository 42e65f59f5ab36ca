// The SMTP session state machine on arbitrary client bytes, fed in arbitrary pieces.
// Invariants: no crash or hang; every reply line ends with CRLF; every message handed out
// is CRLF text (no bare CR or LF: nothing a later hop could split differently) and within
// the size limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "smtp/session.h"

using bulwark::smtp::ClientInfo;
using bulwark::smtp::Session;
using bulwark::smtp::SessionSettings;

namespace {

void check_message(const std::string& d, std::size_t limit) {
  if (d.size() > limit + 2) std::abort();
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (d[i] == '\r' && (i + 1 == d.size() || d[i + 1] != '\n')) std::abort();
    if (d[i] == '\n' && (i == 0 || d[i - 1] != '\r')) std::abort();
  }
  if (!d.empty() && !d.ends_with("\r\n")) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // First byte: piece size (1..64, 0 = all at once) and client flags.
  const std::size_t piece = data[0] & 0x3f;
  const bool submission = data[0] & 0x40;
  const bool tls = data[0] & 0x80;
  SessionSettings s;
  s.max_message_bytes = 4096;
  s.max_data_line = 1000;
  s.max_command_line = 512;
  s.max_recipients = 5;
  s.check_recipient = [](const std::string& a, bool relay) {
    return (relay || a.ends_with("@example.com")) ? std::string() : std::string("554 5.7.1 denied");
  };
  s.check_password = [](const std::string& u, const std::string& p) { return u == "u" && p == "p"; };
  Session session(s, ClientInfo{"192.0.2.1", false, false, submission, tls});
  session.start();
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  while (!rest.empty() && session.state() != Session::State::kClosed) {
    const std::size_t n = piece == 0 ? rest.size() : std::min(piece, rest.size());
    session.feed(rest.substr(0, n));
    rest.remove_prefix(n);
    while (true) {
      if (session.state() == Session::State::kMessageReady) {
        Session::Message m = session.take_message();
        check_message(m.data, s.max_message_bytes);
        if (m.envelope.recipients.empty()) std::abort();
        session.finish_message("250 2.0.0 Ok");
      } else if (session.state() == Session::State::kStartTls) {
        session.tls_started();
      } else {
        break;
      }
    }
  }
  const std::string& out = session.output();
  if (!out.empty() && !out.ends_with("\r\n")) std::abort();
  return 0;
}
