// Local delivery into Maildir (the embedded default's final destination): one Maildir per
// recipient under a root directory, written the Maildir way — tmp/, fsync, rename into new/,
// fsync the directory — so a delivered message is durable and never seen half-written.
//   auto r = deliver_maildir("./var/maildir", envelope, "user@example.com", bytes);
#pragma once

#include <string>
#include <string_view>

#include "core/envelope.h"
#include "core/result.h"

namespace bulwark::smtp {

// Writes the message, with Return-Path: and Delivered-To: prepended, into
// <root>/<recipient>/new/ (the recipient address lower-cased, every byte outside
// [a-z0-9._+@-] replaced by '_', so a hostile address never escapes <root>). Creates the
// Maildir when missing. Returns the path written.
Result<std::string> deliver_maildir(const std::string& root, const Envelope& envelope,
                                    const std::string& recipient, std::string_view message);

}  // namespace bulwark::smtp
