// Delivery status notifications (RFC 3461/3464): the bounce a sender gets when a message
// could not be delivered, as a multipart/report with a message/delivery-status part and the
// original message (or only its headers with RET=HDRS).
//   std::string bounce = build_dsn(info);   // a complete RFC 5322 message, CRLF lines
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/envelope.h"

namespace bulwark::smtp {

struct DsnRecipient {
  std::string address;        // final recipient
  std::string orcpt;          // from the envelope, "" if none
  std::string action;         // "failed", "delayed", "delivered"
  std::string status;         // enhanced status "5.1.1"
  std::string remote_mta;     // "dns; mx.example.com", "" if never reached
  std::string diagnostic;     // "smtp; 550 5.1.1 no such user", "" if none
  std::int64_t last_attempt = 0;  // Unix seconds, 0 if none
};

struct DsnInfo {
  std::string reporting_mta;   // our host name
  std::string from_address;    // "MAILER-DAEMON@host"
  Envelope original;           // the message's envelope (sender gets the DSN; envid, ret)
  std::vector<DsnRecipient> recipients;
  std::string_view original_message;  // the bytes; only headers are included when RET=HDRS
  std::int64_t now = 0;        // Unix seconds, for Date:
  std::string message_id;      // for the DSN's own Message-ID, "" = generated
};

// Returns the DSN message. Its envelope is MAIL FROM:<> to original.mail_from; the caller
// never sends a DSN for a null-sender message (RFC 5321 6.1: no bounce loops) nor for
// recipients whose NOTIFY excludes the action.
std::string build_dsn(const DsnInfo& info);

// Whether a recipient's NOTIFY wants a DSN for `action` ("failed", "delayed", "delivered"):
// default (no NOTIFY) is failure (and delay at the MTA's discretion) only.
bool wants_dsn(const Recipient& r, std::string_view action);

}  // namespace bulwark::smtp
