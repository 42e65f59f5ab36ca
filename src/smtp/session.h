// Session: one SMTP conversation as a state machine, with no I/O of its own.
//
// The server feeds it the bytes it reads and writes back what it produces; everything that
// needs the outside world (a scan decision, a TLS handshake, a credentials check) is a
// pause the server resolves. Keeping the protocol free of sockets makes it exhaustively
// testable and fuzzable: every smuggling sequence is replayed against this class.
//   Session s(settings, client);
//   s.start();                       // greeting into output()
//   s.feed(bytes);                   // commands, data; replies accumulate in output()
//   if (s.state() == Session::State::kMessageReady) { auto m = s.take_message(); ...
//       s.finish_message("250 2.0.0 Ok: queued as ..."); }
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/envelope.h"

namespace bulwark::smtp {

// What the server knows about the client and the listener it came in on.
struct ClientInfo {
  std::string ip;
  bool trusted = false;        // in smtp.trusted_networks: may relay anywhere
  bool normalize_bare_lf = false;  // bare CR/LF turned into CRLF instead of refused
  bool submission = false;     // the submission listener: AUTH offered after STARTTLS
  bool tls_available = false;  // a certificate is loaded
};

struct SessionSettings {
  std::string hostname = "bulwark.localhost";
  std::size_t max_message_bytes = 50u << 20;
  std::size_t max_recipients = 100;
  std::size_t max_command_line = 2048;
  std::size_t max_data_line = 100000;
  std::size_t max_errors = 10;
  // Recipient policy: returns "" to accept, or the full reply to refuse with
  // ("550 5.1.1 <x>: Recipient address rejected: User unknown"). Called per RCPT with
  // the address, whether the client may relay (trusted or authenticated).
  std::function<std::string(const std::string& address, bool may_relay)> check_recipient;
  // Sender policy at MAIL (e.g. a full spool: "452 4.3.1 Insufficient system storage").
  std::function<std::string(const std::string& sender)> check_sender;
  // Credentials check for AUTH PLAIN/LOGIN; true when valid.
  std::function<bool(const std::string& user, const std::string& password)> check_password;
};

class Session {
 public:
  enum class State {
    kActive,        // reading commands or message data
    kMessageReady,  // a message is complete: take_message(), then finish_message()
    kStartTls,      // 220 to STARTTLS is in output(); handshake, then tls_started()
    kClosed,        // the server must flush output() and close
  };

  struct Message {
    Envelope envelope;
    std::string data;  // exactly the message bytes, CRLF lines, dots unstuffed
  };

  Session(const SessionSettings& settings, ClientInfo client);

  void start();                       // the greeting
  void feed(std::string_view bytes);  // processes as far as the state allows
  std::string& output() { return out_; }
  State state() const { return state_; }

  Message take_message();
  // The reply to the end of DATA or BDAT LAST (a full "250 ..." / "550 ..." line without
  // CRLF); processing of pipelined input continues.
  void finish_message(const std::string& reply);
  void tls_started();  // the handshake succeeded: the session restarts (RFC 3207)
  // The server's own reasons to end: timeouts, shutdown ("421 4.3.2 ...").
  void close_with(const std::string& reply);
  // Client sent bytes before the greeting (pre-greet talk): refused.
  void early_talker();

  bool in_transaction() const { return !envelope_.recipients.empty() || have_mail_; }
  bool reading_data() const { return mode_ != Mode::kCommand; }
  std::size_t messages() const { return messages_; }
  const std::string& close_reason() const { return close_reason_; }

 private:
  enum class Mode { kCommand, kData, kBdat, kAuth };

  void process();
  bool process_command_line();
  bool process_data();
  bool process_bdat();
  bool process_auth_line();
  void command(std::string_view line);
  void cmd_ehlo(std::string_view arg, bool extended);
  void cmd_mail(std::string_view arg);
  void cmd_rcpt(std::string_view arg);
  void cmd_data(std::string_view arg);
  void cmd_bdat(std::string_view arg);
  void cmd_auth(std::string_view arg);
  void cmd_starttls(std::string_view arg);
  void finish_auth(const std::string& user, const std::string& password);
  void end_of_message();
  bool must_be_last_in_group();  // RFC 2920: nothing may follow before our reply
  void reply(std::string_view line);
  void error(std::string_view line);  // a reply that counts towards max_errors
  void reset_transaction();
  void close(std::string_view line, std::string reason);

  const SessionSettings& settings_;
  ClientInfo client_;
  State state_ = State::kActive;
  Mode mode_ = Mode::kCommand;
  std::string in_;   // unprocessed input
  std::string out_;  // replies not yet written
  bool greeted_ = false;   // start() sent the greeting
  bool helo_ = false;      // EHLO/HELO seen (since the last STARTTLS)
  bool extended_ = false;  // EHLO, not HELO
  bool tls_ = false;
  std::string auth_user_;
  std::size_t errors_ = 0;
  std::size_t messages_ = 0;
  std::string close_reason_;

  // Transaction.
  bool have_mail_ = false;
  Envelope envelope_;
  std::string data_;
  std::size_t data_line_ = 0;  // bytes of the current line during DATA
  bool data_too_big_ = false;
  bool data_line_too_long_ = false;
  bool data_nul_ = false;
  bool data_bare_newline_ = false;  // BDAT content with a bare CR or LF
  std::size_t bdat_left_ = 0;       // bytes still to read of the current chunk
  bool bdat_last_ = false;
  bool bdat_failed_ = false;        // an earlier chunk already failed the transaction
  // AUTH LOGIN dialogue.
  int auth_step_ = 0;
  std::string auth_login_user_;
};

}  // namespace bulwark::smtp
