// QuarantineStore: messages held by policy, kept whole with the verdict that put them there.
//
// The console and API (a later issue) and `bulwark quarantine ...` build on this interface;
// the embedded implementation is an SQLite index plus one file per message under a
// directory, a shared one (PostgreSQL) can follow behind the same interface.
//   auto store = QuarantineStore::open_embedded("./var/quarantine");
//   if (!store) fail(store.error().message);
//   store.value()->put(record, bytes);          // durable (fsync) before it returns
//   auto held = store.value()->list({.status = "held", .limit = 50});
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/envelope.h"
#include "core/result.h"

namespace bulwark::store {

struct QuarantineRecord {
  std::string id;  // the queue id (Envelope::id)
  Envelope envelope;
  std::int64_t quarantined_at = 0;  // Unix seconds
  std::string action;               // the verdict's action: "quarantine" (or "reject" kept for trace)
  double score = 0.0;
  std::string reason;        // one line: the threats or strongest symbols, for lists
  std::string subject;       // decoded, as the verdict saw it
  std::string header_from;   // From: header as the verdict saw it ("" if none)
  std::string message_id;    // Message-ID header
  std::string verdict_json;  // the whole verdict as `bulwark scan --format json` prints it
  std::uint64_t size = 0;    // message bytes
  std::string sha256;        // of the message bytes, hex
  std::string status = "held";  // "held", "released" or "deleted"
  std::int64_t status_at = 0;   // when status last changed
  std::string status_by;        // who changed it ("cli:root", later console users)
};

struct QuarantineQuery {
  std::string status = "held";  // "" = any
  std::string recipient;        // exact address match on any recipient, "" = any
  std::string sender;           // exact envelope sender, "" = any
  std::int64_t since = 0;       // quarantined_at >= since
  std::size_t limit = 100;
  std::size_t offset = 0;       // newest first
};

class QuarantineStore {
 public:
  virtual ~QuarantineStore() = default;

  // Opens (creating when missing) the embedded store in `directory`: index.sqlite3 and
  // messages under msg/. Safe for one process with many threads.
  static Result<std::unique_ptr<QuarantineStore>> open_embedded(const std::string& directory);

  // Stores the message and its record. The message file and the index row are durable
  // (fsync'd) when this returns ok: an SMTP 250 may follow. A second put with the same id
  // is an error.
  virtual Result<bool> put(const QuarantineRecord& record, std::string_view message) = 0;
  virtual Result<std::vector<QuarantineRecord>> list(const QuarantineQuery& query) = 0;
  virtual Result<QuarantineRecord> get(const std::string& id) = 0;  // Error if unknown
  virtual Result<std::string> message(const std::string& id) = 0;   // the bytes, verified by sha256
  // status "released" (the caller has re-injected it) or "deleted" (message file removed,
  // the row kept for the trace). Each change is recorded with who and when.
  virtual Result<bool> set_status(const std::string& id, const std::string& status,
                                  const std::string& by) = 0;
  virtual Result<std::size_t> count(const QuarantineQuery& query) = 0;
};

}  // namespace bulwark::store
