// The embedded QuarantineStore: an SQLite index plus one file per message.
//
//   <dir>/index.sqlite3   records, recipients and the audit trail (WAL, synchronous=FULL)
//   <dir>/msg/<id>.eml    the message bytes as received
//
// put() writes the file under a temporary name, fsyncs it, renames it into place, fsyncs
// msg/, and only then commits the row: a committed row always has its file. A crash in
// between leaves at most an orphan file, which a later put of the same id overwrites.
// One mutex serialises all use of the connection; SQLite's own locking and busy_timeout
// cover a second process (the CLI) opening the same store.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <system_error>

#include "core/hash.h"
#include "store/quarantine.h"

namespace bulwark::store {

namespace {

// Bumped (with a migration in open_schema) whenever the schema changes.
constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE quarantine (
  id             TEXT PRIMARY KEY NOT NULL,
  envelope       TEXT NOT NULL,
  sender         TEXT NOT NULL,
  quarantined_at INTEGER NOT NULL,
  action         TEXT NOT NULL,
  score          REAL NOT NULL,
  reason         TEXT NOT NULL,
  subject        TEXT NOT NULL,
  header_from    TEXT NOT NULL,
  message_id     TEXT NOT NULL,
  verdict_json   TEXT NOT NULL,
  size           INTEGER NOT NULL,
  sha256         TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('held', 'released', 'deleted')),
  status_at      INTEGER NOT NULL,
  status_by      TEXT NOT NULL
);
CREATE INDEX quarantine_at ON quarantine (quarantined_at);
CREATE INDEX quarantine_status_at ON quarantine (status, quarantined_at);
CREATE INDEX quarantine_sender ON quarantine (sender);
CREATE TABLE quarantine_recipient (
  id      TEXT NOT NULL REFERENCES quarantine (id),
  address TEXT NOT NULL,
  PRIMARY KEY (address, id)
) WITHOUT ROWID;
CREATE TABLE audit (
  id     TEXT NOT NULL,
  at     INTEGER NOT NULL,
  action TEXT NOT NULL,
  "by"   TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_id ON audit (id);
PRAGMA user_version = 1;
)sql";

constexpr const char* kColumns =
    "id, envelope, quarantined_at, action, score, reason, subject, header_from, message_id, "
    "verdict_json, size, sha256, status, status_at, status_by";

constexpr const char* kInsert =
    "INSERT INTO quarantine (id, envelope, sender, quarantined_at, action, score, reason, "
    "subject, header_from, message_id, verdict_json, size, sha256, status, status_at, "
    "status_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kInsertRecipient =
    "INSERT OR IGNORE INTO quarantine_recipient (id, address) VALUES (?, ?)";
constexpr const char* kInsertAudit =
    "INSERT INTO audit (id, at, action, \"by\", detail) VALUES (?, ?, ?, ?, ?)";
constexpr const char* kStatusOf = "SELECT status FROM quarantine WHERE id = ?";
constexpr const char* kUpdateStatus =
    "UPDATE quarantine SET status = ?, status_at = ?, status_by = ? WHERE id = ?";

std::int64_t now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

std::string errno_text(int e) {
  return std::system_category().message(e);
}

Error sys_error(const std::string& what, const std::string& path, int e) {
  return Error{"quarantine: " + what + " " + path + ": " + errno_text(e)};
}

// Ids become file names: nothing but lowercase hex may reach a path.
bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Result<bool> check_id(const std::string& id) {
  if (valid_id(id)) return true;
  return Error{"quarantine: invalid id '" + id.substr(0, 80) + "' (expected 1 to 64 hex digits)"};
}

bool valid_status(std::string_view s) {
  return s == "held" || s == "released" || s == "deleted";
}

// The only moves: held -> released -> deleted, and held -> deleted.
bool allowed(std::string_view from, std::string_view to) {
  return (from == "held" && (to == "released" || to == "deleted")) ||
         (from == "released" && to == "deleted");
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

Result<bool> fsync_fd(int fd, const std::string& path) {
  if (::fsync(fd) != 0) return sys_error("cannot fsync", path, errno);
  return true;
}

Result<bool> fsync_dir(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return sys_error("cannot open directory", path, errno);
  return fsync_fd(fd.get(), path);
}

// Creates `path` (mode 0700) unless it is already a directory; a new one is made durable
// in its parent.
Result<bool> make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0) {
    const std::string parent = std::filesystem::path(path).parent_path().string();
    return fsync_dir(parent.empty() ? "." : parent);
  }
  const int e = errno;
  struct stat st {};
  if (e == EEXIST && ::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return true;
    return Error{"quarantine: " + path + " exists and is not a directory"};
  }
  return sys_error("cannot create directory", path, e);
}

// A cached prepared statement for one use: binds in order (or by name), steps, and resets
// when the scope ends, so no statement keeps a read transaction open between calls.
class Use {
 public:
  explicit Use(sqlite3_stmt* s) : s_(s) {}
  ~Use() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  // SQLITE_STATIC (a null destructor): every bound string outlives the step that reads it.
  Use& text(std::string_view v) { return text_at(++n_, v); }
  Use& integer(std::int64_t v) { return note(sqlite3_bind_int64(s_, ++n_, v)); }
  Use& real(double v) { return note(sqlite3_bind_double(s_, ++n_, v)); }
  Use& text(const char* name, std::string_view v) {
    return text_at(sqlite3_bind_parameter_index(s_, name), v);
  }
  Use& integer(const char* name, std::int64_t v) {
    return note(sqlite3_bind_int64(s_, sqlite3_bind_parameter_index(s_, name), v));
  }

  // SQLITE_ROW, SQLITE_DONE, or the first error (a bind's included).
  int step() { return rc_ != SQLITE_OK ? rc_ : sqlite3_step(s_); }

  std::string column_text(int i) const {
    const auto* p = sqlite3_column_text(s_, i);
    const int n = sqlite3_column_bytes(s_, i);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
             : std::string();
  }
  std::int64_t column_int(int i) const { return sqlite3_column_int64(s_, i); }
  double column_real(int i) const { return sqlite3_column_double(s_, i); }

 private:
  Use& text_at(int index, std::string_view v) {
    // A null pointer would bind SQL NULL; an empty view may carry one.
    const char* p = v.data() != nullptr ? v.data() : "";
    return note(sqlite3_bind_text64(s_, index, p, v.size(), nullptr, SQLITE_UTF8));
  }
  Use& note(int rc) {
    if (rc_ == SQLITE_OK) rc_ = rc;
    return *this;
  }

  sqlite3_stmt* s_;
  int n_ = 0;
  int rc_ = SQLITE_OK;
};

// BEGIN IMMEDIATE takes the write lock up front (no deadlock upgrading a read lock); the
// destructor rolls back whatever was not committed.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  int begin() {
    const int rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    open_ = rc == SQLITE_OK;
    return rc;
  }
  int commit() {
    const int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) open_ = false;
    return rc;
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

class SqliteQuarantine final : public QuarantineStore {
 public:
  SqliteQuarantine(std::string directory, sqlite3* db, int msg_fd)
      : dir_(std::move(directory)), db_(db), msg_fd_(msg_fd) {}
  ~SqliteQuarantine() override {
    cache_.clear();  // statements before the connection
    sqlite3_close(db_);
    ::close(msg_fd_);
  }
  SqliteQuarantine(const SqliteQuarantine&) = delete;
  SqliteQuarantine& operator=(const SqliteQuarantine&) = delete;

  // Sets the pragmas, creates or checks the schema, and prepares the fixed statements so a
  // foreign or damaged database fails here rather than on first use.
  Result<bool> init() {
    std::lock_guard lock(mu_);
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
    auto mode = pragma_text("PRAGMA journal_mode = WAL");
    if (!mode) return mode.error();
    if (mode.value() != "wal")
      return Error{"quarantine: " + db_path() + ": cannot use WAL journal (got '" + mode.value() +
                   "')"};
    for (const char* p :
         {"PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON", "PRAGMA trusted_schema = OFF"})
      if (sqlite3_exec(db_, p, nullptr, nullptr, nullptr) != SQLITE_OK) return db_error(p);
    if (auto r = open_schema(); !r) return r;
    for (const char* sql : {kInsert, kInsertRecipient, kInsertAudit, kStatusOf, kUpdateStatus})
      if (auto s = statement(sql); !s) return s.error();
    if (auto s = statement(std::string("SELECT ") + kColumns + " FROM quarantine WHERE id = ?"); !s)
      return s.error();
    return true;
  }

  Result<bool> put(const QuarantineRecord& record, std::string_view message) override {
    if (auto r = check_id(record.id); !r) return r;
    if (record.envelope.id != record.id)
      return Error{"quarantine: record id " + record.id + " differs from its envelope's id '" +
                   record.envelope.id + "'"};
    if (record.status != "held")
      return Error{"quarantine: a new record must be 'held', not '" + record.status + "'"};
    if (!std::isfinite(record.score))
      return Error{"quarantine: " + record.id + ": score is not a finite number"};
    const std::string envelope = serialize_envelope(record.envelope);
    // get() must be able to read back what is stored.
    if (auto back = parse_envelope(envelope); !back)
      return Error{"quarantine: " + record.id + ": envelope not storable: " + back.error().message};
    const std::string sha = sha256_hex(message);
    if (!record.sha256.empty() && record.sha256 != sha)
      return Error{"quarantine: " + record.id + ": sha256 given does not match the message"};
    if (record.size != 0 && record.size != message.size())
      return Error{"quarantine: " + record.id + ": size given does not match the message"};
    const std::int64_t at = record.quarantined_at != 0 ? record.quarantined_at : now();
    const std::string by = record.status_by.empty() ? "bulwark" : record.status_by;
    char score[32];
    std::snprintf(score, sizeof score, "%.2f", record.score);
    const std::string detail = record.action + " score " + score + ": " + record.reason;

    std::lock_guard lock(mu_);
    Transaction txn(db_);
    if (txn.begin() != SQLITE_OK) return db_error("begin");
    auto status = status_of(record.id);
    if (!status) return status.error();
    if (!status.value().empty()) return Error{"quarantine: id " + record.id + " is already stored"};

    if (auto w = write_message(record.id, message); !w) return w;
    auto inserted = insert_rows(record, envelope, at, sha, message.size(), by, detail);
    if (inserted && txn.commit() == SQLITE_OK) return true;
    Error e = inserted ? db_error("commit") : inserted.error();
    ::unlinkat(msg_fd_, file_name(record.id).c_str(), 0);  // no row, so no file
    return e;
  }

  Result<std::vector<QuarantineRecord>> list(const QuarantineQuery& query) override {
    auto where = where_clause(query);
    if (!where) return where.error();
    std::lock_guard lock(mu_);
    auto s = statement(std::string("SELECT ") + kColumns + " FROM quarantine" + where.value() +
                       " ORDER BY quarantined_at DESC, id DESC LIMIT :limit OFFSET :offset");
    if (!s) return s.error();
    Use use(s.value());
    bind_filters(use, query);
    use.integer(":limit", clamp(query.limit)).integer(":offset", clamp(query.offset));
    std::vector<QuarantineRecord> out;
    int rc;
    while ((rc = use.step()) == SQLITE_ROW) {
      auto r = read_record(use);
      if (!r) return r.error();
      out.push_back(std::move(r.value()));
    }
    if (rc != SQLITE_DONE) return db_error("list");
    return out;
  }

  Result<std::size_t> count(const QuarantineQuery& query) override {
    auto where = where_clause(query);
    if (!where) return where.error();
    std::lock_guard lock(mu_);
    auto s = statement("SELECT count(*) FROM quarantine" + where.value());
    if (!s) return s.error();
    Use use(s.value());
    bind_filters(use, query);
    if (use.step() != SQLITE_ROW) return db_error("count");
    return static_cast<std::size_t>(use.column_int(0));
  }

  Result<QuarantineRecord> get(const std::string& id) override {
    if (auto r = check_id(id); !r) return r.error();
    std::lock_guard lock(mu_);
    return get_locked(id);
  }

  Result<std::string> message(const std::string& id) override {
    if (auto r = check_id(id); !r) return r.error();
    Result<QuarantineRecord> rec = Error{};
    {
      std::lock_guard lock(mu_);
      rec = get_locked(id);
    }
    if (!rec) return rec.error();
    if (rec.value().status == "deleted") return Error{"quarantine: " + id + " was deleted"};
    // The file is read without the lock: concurrent puts need not wait for it.
    auto bytes = read_message(id);
    if (!bytes) return bytes;
    if (bytes.value().size() != rec.value().size || sha256_hex(bytes.value()) != rec.value().sha256)
      return Error{"quarantine: " + msg_path(id) +
                   " does not match its recorded sha256 (altered or damaged)"};
    return bytes;
  }

  Result<bool> set_status(const std::string& id, const std::string& status,
                          const std::string& by) override {
    if (auto r = check_id(id); !r) return r;
    if (!valid_status(status)) return Error{"quarantine: unknown status '" + status + "'"};
    if (by.empty()) return Error{"quarantine: a status change needs who made it"};
    std::lock_guard lock(mu_);
    Transaction txn(db_);
    if (txn.begin() != SQLITE_OK) return db_error("begin");
    auto current = status_of(id);
    if (!current) return current.error();
    if (current.value().empty()) return Error{"quarantine: no message with id " + id};
    if (!allowed(current.value(), status))
      return Error{"quarantine: " + id + " is " + current.value() + "; it cannot become " + status};
    // Delete the file before committing: should the commit fail, the row says held with
    // its file gone (message() reports it, delete can be retried), never deleted with the
    // message still on disk.
    if (status == "deleted") {
      if (::unlinkat(msg_fd_, file_name(id).c_str(), 0) != 0 && errno != ENOENT)
        return sys_error("cannot remove", msg_path(id), errno);
      if (auto r = fsync_fd(msg_fd_, dir_ + "/msg"); !r) return r;
    }
    const std::int64_t at = now();
    {
      Use use(cached(kUpdateStatus));
      if (use.text(status).integer(at).text(by).text(id).step() != SQLITE_DONE)
        return db_error("update");
    }
    if (auto r = audit(id, at, status == "released" ? "release" : "delete", by,
                       current.value() + " -> " + status);
        !r)
      return r;
    if (txn.commit() != SQLITE_OK) return db_error("commit");
    return true;
  }

 private:
  std::string db_path() const { return dir_ + "/index.sqlite3"; }
  static std::string file_name(const std::string& id) { return id + ".eml"; }
  std::string msg_path(const std::string& id) const { return dir_ + "/msg/" + file_name(id); }

  Error db_error(const std::string& what) const {
    return Error{"quarantine: " + db_path() + ": " + what + ": " + sqlite3_errmsg(db_)};
  }

  static std::int64_t clamp(std::size_t n) {
    constexpr auto max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    return static_cast<std::int64_t>(n < max ? n : max);
  }

  // Statements are prepared once per distinct SQL text (the fixed ones, and the few filter
  // combinations of list/count) and kept for the life of the connection.
  Result<sqlite3_stmt*> statement(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second.get();
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) !=
        SQLITE_OK) {
      sqlite3_finalize(s);
      return db_error("prepare");
    }
    cache_.emplace(sql, std::unique_ptr<sqlite3_stmt, StmtDeleter>(s));
    return s;
  }
  // One of the fixed statements, prepared by init().
  sqlite3_stmt* cached(const char* sql) { return cache_.find(sql)->second.get(); }

  Result<std::string> pragma_text(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) {
      sqlite3_finalize(s);
      return db_error(sql);
    }
    std::unique_ptr<sqlite3_stmt, StmtDeleter> owner(s);
    Use use(s);
    if (use.step() != SQLITE_ROW) return db_error(sql);
    return use.column_text(0);
  }

  Result<bool> open_schema() {
    auto v = pragma_text("PRAGMA user_version");
    if (!v) return v.error();
    if (v.value() == "0") {
      Transaction txn(db_);
      if (txn.begin() != SQLITE_OK) return db_error("begin");
      // Another process may have created it while this one waited for the lock.
      auto again = pragma_text("PRAGMA user_version");
      if (!again) return again.error();
      if (again.value() == "0") {
        if (sqlite3_exec(db_, kSchema, nullptr, nullptr, nullptr) != SQLITE_OK)
          return db_error("create schema");
        if (txn.commit() != SQLITE_OK) return db_error("commit schema");
        return true;
      }
      v = again;
    }
    if (v.value() != std::to_string(kSchemaVersion))
      return Error{"quarantine: " + db_path() + ": unsupported schema version " + v.value() +
                   " (this build reads version " + std::to_string(kSchemaVersion) + ")"};
    return true;
  }

  // "" when the id is not stored. Caller holds mu_.
  Result<std::string> status_of(const std::string& id) {
    Use use(cached(kStatusOf));
    const int rc = use.text(id).step();
    if (rc == SQLITE_ROW) return use.column_text(0);
    if (rc == SQLITE_DONE) return std::string();
    return db_error("lookup");
  }

  Result<QuarantineRecord> get_locked(const std::string& id) {
    auto s = statement(std::string("SELECT ") + kColumns + " FROM quarantine WHERE id = ?");
    if (!s) return s.error();
    Use use(s.value());
    const int rc = use.text(id).step();
    if (rc == SQLITE_DONE) return Error{"quarantine: no message with id " + id};
    if (rc != SQLITE_ROW) return db_error("get");
    return read_record(use);
  }

  // Columns in kColumns order.
  static Result<QuarantineRecord> read_record(const Use& use) {
    QuarantineRecord r;
    r.id = use.column_text(0);
    auto env = parse_envelope(use.column_text(1));
    if (!env)
      return Error{"quarantine: " + r.id + ": stored envelope unreadable: " + env.error().message};
    r.envelope = std::move(env.value());
    r.quarantined_at = use.column_int(2);
    r.action = use.column_text(3);
    r.score = use.column_real(4);
    r.reason = use.column_text(5);
    r.subject = use.column_text(6);
    r.header_from = use.column_text(7);
    r.message_id = use.column_text(8);
    r.verdict_json = use.column_text(9);
    r.size = static_cast<std::uint64_t>(use.column_int(10));
    r.sha256 = use.column_text(11);
    r.status = use.column_text(12);
    r.status_at = use.column_int(13);
    r.status_by = use.column_text(14);
    return r;
  }

  // Fixed SQL fragments only; the values are bound by bind_filters under the same names.
  static Result<std::string> where_clause(const QuarantineQuery& q) {
    if (!q.status.empty() && !valid_status(q.status))
      return Error{"quarantine: unknown status '" + q.status +
                   "' (held, released, deleted or any)"};
    std::string w;
    auto add = [&w](const char* cond) {
      w += (w.empty() ? " WHERE " : " AND ") + std::string(cond);
    };
    if (!q.status.empty()) add("status = :status");
    if (!q.sender.empty()) add("sender = :sender");
    if (!q.recipient.empty())
      add("id IN (SELECT id FROM quarantine_recipient WHERE address = :recipient)");
    if (q.since != 0) add("quarantined_at >= :since");
    return w;
  }
  static void bind_filters(Use& use, const QuarantineQuery& q) {
    if (!q.status.empty()) use.text(":status", q.status);
    if (!q.sender.empty()) use.text(":sender", q.sender);
    if (!q.recipient.empty()) use.text(":recipient", q.recipient);
    if (q.since != 0) use.integer(":since", q.since);
  }

  Result<bool> insert_rows(const QuarantineRecord& r, const std::string& envelope, std::int64_t at,
                           const std::string& sha, std::size_t size, const std::string& by,
                           const std::string& detail) {
    {
      Use use(cached(kInsert));
      use.text(r.id)
          .text(envelope)
          .text(r.envelope.mail_from)
          .integer(at)
          .text(r.action)
          .real(r.score);
      use.text(r.reason)
          .text(r.subject)
          .text(r.header_from)
          .text(r.message_id)
          .text(r.verdict_json);
      use.integer(static_cast<std::int64_t>(size))
          .text(sha)
          .text("held")
          .integer(at)
          .text(r.status_by);
      if (use.step() != SQLITE_DONE) return db_error("insert");
    }
    for (const auto& rcpt : r.envelope.recipients) {
      Use use(cached(kInsertRecipient));
      if (use.text(r.id).text(rcpt.address).step() != SQLITE_DONE)
        return db_error("insert recipient");
    }
    return audit(r.id, now(), "put", by, detail);
  }

  Result<bool> audit(const std::string& id, std::int64_t at, const std::string& action,
                     const std::string& by, const std::string& detail) {
    Use use(cached(kInsertAudit));
    if (use.text(id).integer(at).text(action).text(by).text(detail).step() != SQLITE_DONE)
      return db_error("audit");
    return true;
  }

  // Temp file, fsync, rename into place, fsync msg/: the name exists only with all its bytes.
  Result<bool> write_message(const std::string& id, std::string_view bytes) {
    const std::string tmp = file_name(id) + ".tmp";
    const std::string shown = dir_ + "/msg/" + tmp;
    Fd fd(::openat(msg_fd_, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                   0600));
    if (fd.get() < 0) return sys_error("cannot create", shown, errno);
    auto fail = [&](const char* what) {
      const int e = errno;
      ::unlinkat(msg_fd_, tmp.c_str(), 0);
      return sys_error(what, shown, e);
    };
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd.get(), bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail("cannot write");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::fsync(fd.get()) != 0) return fail("cannot fsync");
    if (::close(fd.release()) != 0) return fail("cannot close");
    if (::renameat(msg_fd_, tmp.c_str(), msg_fd_, file_name(id).c_str()) != 0)
      return fail("cannot rename");
    return fsync_fd(msg_fd_, dir_ + "/msg");
  }

  Result<std::string> read_message(const std::string& id) {
    Fd fd(::openat(msg_fd_, file_name(id).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0) return sys_error("cannot open", msg_path(id), errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return sys_error("cannot stat", msg_path(id), errno);
    if (!S_ISREG(st.st_mode))
      return Error{"quarantine: " + msg_path(id) + " is not a regular file"};
    std::string out;
    out.reserve(static_cast<std::size_t>(st.st_size));
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("cannot read", msg_path(id), errno);
      if (n == 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

  std::mutex mu_;  // guards db_ and cache_
  const std::string dir_;
  sqlite3* db_;
  const int msg_fd_;  // msg/, for openat/renameat and the directory fsyncs
  std::map<std::string, std::unique_ptr<sqlite3_stmt, StmtDeleter>, std::less<>> cache_;
};

}  // namespace

Result<std::unique_ptr<QuarantineStore>> QuarantineStore::open_embedded(
    const std::string& dir_arg) {
  std::string directory = dir_arg;
  while (directory.size() > 1 && directory.back() == '/') directory.pop_back();  // "a/b/" is "a/b"
  if (directory.empty()) return Error{"quarantine: no directory given"};
  if (auto r = make_dir(directory); !r) return r.error();
  const std::string msg = directory + "/msg";
  if (auto r = make_dir(msg); !r) return r.error();
  Fd msg_fd(::open(msg.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (msg_fd.get() < 0) return sys_error("cannot open directory", msg, errno);

  const std::string path = directory + "/index.sqlite3";
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
      nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Error{"quarantine: cannot open " + path + ": " + why};
  }
  auto store = std::make_unique<SqliteQuarantine>(directory, db, msg_fd.release());
  if (auto r = store->init(); !r) return r.error();
  // index.sqlite3 and its WAL files may be new entries in the directory.
  if (auto r = fsync_dir(directory); !r) return r.error();
  return std::unique_ptr<QuarantineStore>(std::move(store));
}

}  // namespace bulwark::store
