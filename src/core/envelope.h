// Envelope: what SMTP says about a message besides its bytes — who sent it, to whom, how it
// arrived, and the DSN parameters to honour. One queue id follows the message through every
// stage (session, scan, spool, quarantine, delivery) and every log line.
//
// Serialised as "key value" lines (values escaped: \\, \n, \r as \\ \n \r), so a spool or
// quarantine entry is readable with `cat` and a torn write is detected (the last line is
// "end").
//   std::string text = serialize_envelope(env);
//   Result<Envelope> back = parse_envelope(text);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace bulwark {

struct Recipient {
  std::string address;  // forward-path without <>
  std::string notify;   // DSN NOTIFY= as given ("" = not given; "NEVER", "SUCCESS,FAILURE", ...)
  std::string orcpt;    // DSN ORCPT= as given ("rfc822;user@example.com"), xtext-decoded
};

struct Envelope {
  std::string id;         // queue id: 20 hex digits, time-ordered, unique per gateway
  std::string mail_from;  // reverse-path without <>; "" is the null sender
  std::vector<Recipient> recipients;
  std::string ret;    // DSN RET=: "FULL", "HDRS" or ""
  std::string envid;  // DSN ENVID=, xtext-decoded
  std::string body;   // "7BIT", "8BITMIME", "BINARYMIME" or ""
  bool smtputf8 = false;
  std::string client_ip;    // after PROXY protocol, the real client
  std::string client_helo;  // what it said in EHLO/HELO
  bool tls = false;         // arrived over TLS
  std::string auth_user;    // authenticated submitter, "" if none
  std::int64_t received_at = 0;  // Unix seconds
};

std::string serialize_envelope(const Envelope& e);
Result<Envelope> parse_envelope(std::string_view text);

// A new queue id: 12 hex digits of microseconds since the epoch, then 8 of a process-wide
// counter mixed with the pid, so ids sort by arrival and never repeat across restarts.
std::string new_queue_id();

}  // namespace bulwark
