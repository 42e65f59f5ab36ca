#include "smtp/resolve.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>
#include <string_view>
#include <utility>

#include "core/ascii.h"

namespace bulwark::smtp {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxMailHosts = 16;  // more MX records than this is abuse, not routing

// What one lookup ended with, in the three classes resolve.h promises.
enum class Outcome { kOk, kNoData, kNotFound, kTemporary };

Outcome classify(int status) {
  switch (status) {
    case ARES_SUCCESS: return Outcome::kOk;
    case ARES_ENODATA: return Outcome::kNoData;
    case ARES_ENOTFOUND: return Outcome::kNotFound;
    default: return Outcome::kTemporary;  // timeout, SERVFAIL, REFUSED, cancelled, ...
  }
}

void init_library_once() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

// A domain or host name fit for a query: letters, digits, '-', '_', '.', no empty label.
bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 253 || name.front() == '.') return false;
  char prev = '.';
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok || (c == '.' && prev == '.')) return false;
    prev = c;
  }
  return true;
}

std::string normalize(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return ascii::to_lower(name);
}

bool is_ip_literal(const std::string& s) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// One c-ares channel driven by poll() until its queries finish or the deadline passes.
class Channel {
 public:
  Channel(const ResolverOptions& options, Clock::time_point deadline) : deadline_(deadline) {
    init_library_once();
    ares_options opts{};
    int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_DOMAINS;
    // Per-try timeout: a fraction of the budget so a lost UDP packet is retried in time.
    opts.timeout = static_cast<int>(std::clamp<std::uint32_t>(options.timeout_ms / 4, 100, 2000));
    opts.tries = 3;
    opts.domains = nullptr;  // no search list: mail domains are always fully qualified
    opts.ndomains = 0;
    status_ = ares_init_options(&channel_, &opts, mask);
    if (status_ == ARES_SUCCESS && !options.servers.empty())
      status_ = ares_set_servers_ports_csv(channel_, options.servers.c_str());
  }
  ~Channel() {
    if (channel_ != nullptr) ares_destroy(channel_);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  bool ok() const { return status_ == ARES_SUCCESS; }
  const char* error() const { return ares_strerror(status_); }
  ares_channel get() { return channel_; }

  // Runs the event loop until no query is pending; on the deadline cancels what is left
  // (their callbacks then see ARES_ECANCELLED, which classifies as temporary).
  void run() {
    for (;;) {
      ares_socket_t socks[ARES_GETSOCK_MAXNUM];
      const int bits = ares_getsock(channel_, socks, ARES_GETSOCK_MAXNUM);
      pollfd fds[ARES_GETSOCK_MAXNUM];
      nfds_t n = 0;
      for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
        const bool r = (bits & (1 << i)) != 0;
        const bool w = (bits & (1 << (i + ARES_GETSOCK_MAXNUM))) != 0;
        if (!r && !w) continue;
        fds[n].fd = socks[i];
        fds[n].events = static_cast<short>((r ? POLLIN : 0) | (w ? POLLOUT : 0));
        fds[n].revents = 0;
        ++n;
      }
      if (n == 0) return;  // nothing in flight
      const auto now = Clock::now();
      if (now >= deadline_) {
        ares_cancel(channel_);
        return;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now).count();
      timeval max_tv{left / 1000, static_cast<suseconds_t>((left % 1000) * 1000)};
      timeval tv{};
      const timeval* t = ares_timeout(channel_, &max_tv, &tv);
      const int wait_ms = static_cast<int>(t->tv_sec * 1000 + t->tv_usec / 1000) + 1;
      const int rc = ::poll(fds, n, wait_ms);
      if (rc < 0 && errno != EINTR) {
        ares_cancel(channel_);
        return;
      }
      if (rc <= 0) {
        ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts, retries
        continue;
      }
      for (nfds_t i = 0; i < n; ++i) {
        const bool readable = (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
        const bool writable = (fds[i].revents & POLLOUT) != 0;
        if (!readable && !writable) continue;
        ares_process_fd(channel_, readable ? fds[i].fd : ARES_SOCKET_BAD,
                        writable ? fds[i].fd : ARES_SOCKET_BAD);
      }
    }
  }

 private:
  ares_channel channel_ = nullptr;
  int status_ = ARES_SUCCESS;
  Clock::time_point deadline_;
};

struct MxAnswer {
  int status = ARES_ECANCELLED;
  std::string packet;
};

void on_mx(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  auto* a = static_cast<MxAnswer*>(arg);
  a->status = status;
  if (status == ARES_SUCCESS && abuf != nullptr && alen > 0)
    a->packet.assign(reinterpret_cast<const char*>(abuf), static_cast<std::size_t>(alen));
}

struct AddrAnswer {
  int status = ARES_ECANCELLED;
  std::vector<std::string> addresses;
};

void on_addrinfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* res) {
  auto* a = static_cast<AddrAnswer*>(arg);
  a->status = status;
  if (status == ARES_SUCCESS && res != nullptr) {
    for (const ares_addrinfo_node* n = res->nodes; n != nullptr; n = n->ai_next) {
      char text[INET6_ADDRSTRLEN] = {};
      const void* src = nullptr;
      if (n->ai_family == AF_INET)
        src = &reinterpret_cast<const sockaddr_in*>(n->ai_addr)->sin_addr;
      else if (n->ai_family == AF_INET6)
        src = &reinterpret_cast<const sockaddr_in6*>(n->ai_addr)->sin6_addr;
      if (src == nullptr || inet_ntop(n->ai_family, src, text, sizeof(text)) == nullptr) continue;
      if (std::find(a->addresses.begin(), a->addresses.end(), text) == a->addresses.end())
        a->addresses.emplace_back(text);
    }
    if (a->addresses.empty()) a->status = ARES_ENODATA;
  }
  if (res != nullptr) ares_freeaddrinfo(res);
}

void start_addrinfo(Channel& ch, const std::string& host, AddrAnswer* out) {
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  ares_getaddrinfo(ch.get(), host.c_str(), nullptr, &hints, on_addrinfo, out);
}

// The error for a failed address lookup of `host`, in resolve.h's vocabulary.
Error address_error(const std::string& host, int status) {
  switch (classify(status)) {
    case Outcome::kNotFound: return Error{"no such domain: " + host};
    case Outcome::kNoData: return Error{"no such domain: " + host + " has no address"};
    default: return Error{"temporary: address lookup for " + host + ": " + ares_strerror(status)};
  }
}

// Orders by preference and shuffles equal preferences (RFC 5321 5.1: spread the load).
void order_hosts(std::vector<MailHost>& hosts) {
  thread_local std::mt19937 rng{std::random_device{}()};
  std::shuffle(hosts.begin(), hosts.end(), rng);
  std::stable_sort(hosts.begin(), hosts.end(),
                   [](const MailHost& a, const MailHost& b) { return a.preference < b.preference; });
}

// Parses an MX answer into hosts; a null MX anywhere in it makes the domain refuse mail.
Result<std::vector<MailHost>> parse_mx(const std::string& domain, const std::string& packet) {
  ares_mx_reply* mx = nullptr;
  const int rc = ares_parse_mx_reply(reinterpret_cast<const unsigned char*>(packet.data()),
                                     static_cast<int>(packet.size()), &mx);
  if (rc == ARES_ENODATA) return std::vector<MailHost>{};  // e.g. only a CNAME: implicit MX
  if (rc != ARES_SUCCESS) return Error{"temporary: bad MX answer for " + domain + ": " + ares_strerror(rc)};
  std::vector<MailHost> hosts;
  bool null_mx = false;
  for (const ares_mx_reply* r = mx; r != nullptr; r = r->next) {
    const std::string name = normalize(r->host != nullptr ? r->host : "");
    if (name.empty()) {
      null_mx = true;
      continue;
    }
    if (hosts.size() < kMaxMailHosts && valid_name(name))
      hosts.push_back(MailHost{name, r->priority, {}});
  }
  ares_free_data(mx);
  if (null_mx) return Error{"null MX: " + domain + " accepts no mail (RFC 7505)"};
  if (hosts.empty()) return Error{"temporary: no usable MX host for " + domain};
  return hosts;
}

}  // namespace

Resolver::Resolver(ResolverOptions options) : options_(std::move(options)) {}

Result<std::vector<std::string>> Resolver::addresses(const std::string& host_in) const {
  std::string host = host_in;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (is_ip_literal(host)) return std::vector<std::string>{host};
  host = normalize(host);
  if (!valid_name(host)) return Error{"no such domain: invalid host name"};
  Channel ch(options_, Clock::now() + std::chrono::milliseconds(options_.timeout_ms));
  if (!ch.ok()) return Error{std::string("temporary: resolver setup: ") + ch.error()};
  AddrAnswer answer;
  start_addrinfo(ch, host, &answer);
  ch.run();
  if (answer.status != ARES_SUCCESS) return address_error(host, answer.status);
  return std::move(answer.addresses);
}

Result<std::vector<MailHost>> Resolver::mail_hosts(const std::string& domain_in) const {
  const std::string domain = normalize(domain_in);
  if (!valid_name(domain)) return Error{"no such domain: invalid domain name"};
  Channel ch(options_, Clock::now() + std::chrono::milliseconds(options_.timeout_ms));
  if (!ch.ok()) return Error{std::string("temporary: resolver setup: ") + ch.error()};

  MxAnswer mx;
  ares_query(ch.get(), domain.c_str(), ns_c_in, ns_t_mx, on_mx, &mx);
  ch.run();
  std::vector<MailHost> hosts;
  switch (classify(mx.status)) {
    case Outcome::kNotFound: return Error{"no such domain: " + domain};
    case Outcome::kTemporary:
      return Error{"temporary: MX lookup for " + domain + ": " + ares_strerror(mx.status)};
    case Outcome::kNoData: break;  // no MX: the domain is its own mail host
    case Outcome::kOk: {
      auto parsed = parse_mx(domain, mx.packet);
      if (!parsed) return parsed.error();
      hosts = std::move(parsed.value());
      break;
    }
  }
  const bool implicit = hosts.empty();
  if (implicit) hosts.push_back(MailHost{domain, 0, {}});

  // Address lookups for all hosts at once, sharing what is left of the deadline.
  std::vector<AddrAnswer> answers(hosts.size());
  for (std::size_t i = 0; i < hosts.size(); ++i) start_addrinfo(ch, hosts[i].name, &answers[i]);
  ch.run();

  std::vector<MailHost> usable;
  bool temporary = false;
  int last_status = ARES_ENOTFOUND;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (answers[i].status == ARES_SUCCESS) {
      hosts[i].addresses = std::move(answers[i].addresses);
      usable.push_back(std::move(hosts[i]));
    } else {
      temporary = temporary || classify(answers[i].status) == Outcome::kTemporary;
      last_status = answers[i].status;
    }
  }
  if (usable.empty()) {
    if (implicit) return address_error(domain, last_status);
    if (temporary) return Error{"temporary: no address for any MX host of " + domain};
    return Error{"no such domain: no MX host of " + domain + " has an address"};
  }
  order_hosts(usable);
  return usable;
}

}  // namespace bulwark::smtp
