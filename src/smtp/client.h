// SmtpClient: the outbound side — delivers spooled messages to the next hop.
//
// Blocking sockets with a deadline on every read and write (the queue runner gives each
// destination its own threads), so one slow server never stalls another. A connection is
// kept open after a transaction and reused for the next message to the same destination.
//   SmtpClient c(options);
//   auto r = c.deliver(hop, envelope, bytes);   // connects (or reuses), one transaction
//   for (auto& rc : r.recipients) ...           // 2xx delivered, 4xx retry, 5xx bounce
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/envelope.h"

namespace bulwark::smtp {

enum class TlsMode { kNone, kOpportunistic, kRequired };

struct Hop {
  std::string host;  // name or IP literal of the next hop
  std::uint16_t port = 25;
  TlsMode tls = TlsMode::kOpportunistic;
  bool verify_certificate = false;  // with kRequired: check the chain and the name
  std::string ca_file;              // extra trust anchors for verification ("" = system)
};

struct ClientOptions {
  std::string helo_name = "localhost";  // our name in EHLO
  std::uint32_t connect_timeout_ms = 30000;
  std::uint32_t command_timeout_ms = 300000;  // RFC 5321 4.5.3.2 suggests 5 min
  std::uint32_t data_timeout_ms = 600000;     // for the final "." reply (10 min)
  std::size_t max_messages_per_connection = 100;
};

// One reply, as the server gave it: code, enhanced status when present, and text.
struct Reply {
  int code = 0;             // 0: no reply (connection failed)
  std::string enhanced;     // "2.0.0", "" when the server does not announce it
  std::string text;         // all lines joined with "; "
  bool permanent() const { return code >= 500 && code < 600; }
  bool ok() const { return code >= 200 && code < 300; }
};

struct RecipientResult {
  std::string address;
  Reply reply;  // the RCPT reply, or the DATA reply for accepted recipients
};

struct DeliveryResult {
  // Set when the whole attempt failed before any recipient was settled: connection refused,
  // timeout, TLS required but not offered, a 4xx/5xx greeting or MAIL reply. Then every
  // recipient shares `failure`.
  bool connection_failed = false;
  Reply failure;
  std::vector<RecipientResult> recipients;  // one per envelope recipient, in order
  std::string remote;                       // "host[ip]:port" for logs and DSNs
  bool tls = false;                         // the transaction ran over TLS
};

class SmtpClient {
 public:
  explicit SmtpClient(ClientOptions options);
  ~SmtpClient();
  SmtpClient(const SmtpClient&) = delete;
  SmtpClient& operator=(const SmtpClient&) = delete;

  // One transaction to `hop` for `envelope` (MAIL FROM with SIZE/BODY/SMTPUTF8/RET/ENVID
  // when the server supports them, RCPT with NOTIFY/ORCPT under DSN, then DATA with
  // dot-stuffing; PIPELINING when offered). `message` is the exact bytes to send (CRLF
  // lines). Reuses the open connection when it goes to the same hop and is still healthy
  // (RSET between transactions), otherwise connects to each address of the host in turn.
  DeliveryResult deliver(const Hop& hop, const Envelope& envelope, std::string_view message);

  void close();  // QUIT and close, if connected

 private:
  struct Connection;
  ClientOptions options_;
  std::unique_ptr<Connection> conn_;
};

}  // namespace bulwark::smtp
