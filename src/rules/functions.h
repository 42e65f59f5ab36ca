// Built-in functions of the rule language (internal): checks that a regular expression
// cannot express, written in C++ over the parsed message. Each returns a number; booleans
// are 0 or 1. docs/rules.md lists them.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/message.h"

namespace bulwark::rules {

enum class Fn : std::uint8_t {
  kHtmlTextRatio,
  kHtmlParts,
  kTextParts,
  kHtmlOnly,
  kHiddenText,
  kSymbol,
  kHasHeader,
  kDateMissing,
  kDateMalformed,
  kDateSkewHours,
  kMsgidMissing,
  kMsgidMalformed,
  kReceivedCount,
  kReceivedMalformed,
  kReceivedTimeTravel,
  kReceivedForgedHelo,
  kFromNameHasAddress,
  kFromFreemail,
  kReplytoFreemail,
  kSubjectCaps,
  kSubjectMixedScript,
  kSubjectInvisible,
  kSubjectSpaced,
  kBodyInvisible,
  kBodyMixedScript,
  kEncodedWords,
  kEncodedAscii,
  kPartCount,
  kAttachmentCount,
  kUrlCount,
  kBodyBytes,
  kRecipients,
  kCount,
};

struct FnSpec {
  std::string_view name;
  Fn fn;
  bool string_arg;  // takes one argument (a header or symbol name); else none
  std::string_view doc;
};

const std::vector<FnSpec>& all_functions();
const FnSpec* find_function(std::string_view name);

// Header fields an earlier filter added (X-Spam-*, X-Virus-*, ...): they leak a verdict, so
// no rule and no function ever reads them.
bool ignored_header(std::string_view name);

// Per-evaluation state: lazily computed values shared by the functions of one message.
class FnContext {
 public:
  explicit FnContext(const mime::Message& m) : m_(m) {}
  double call(Fn fn, std::string_view arg);
  // What the last call() noticed (the offending value), moved out; often empty.
  std::string take_note() { return std::move(note_); }
  static std::string detail(Fn fn, std::string_view arg, double value, std::string_view note);

 private:
  struct DateInfo {
    bool present = false;
    bool valid = false;
    std::int64_t epoch = 0;
  };
  struct Hop {
    std::string text;  // unfolded
    bool has_date = false;
    std::int64_t epoch = 0;
  };
  const DateInfo& date();
  const std::vector<Hop>& hops();
  std::optional<std::int64_t> reference_time();

  const mime::Message& m_;
  std::optional<DateInfo> date_;
  std::optional<std::vector<Hop>> hops_;
  std::string note_;  // what the last call found, for details
};

// RFC 5322 date-time (obsolete forms included) to Unix time; nullopt when malformed.
std::optional<std::int64_t> parse_rfc5322_date(std::string_view s);

// Free-mail provider domain (gmail.com, yahoo.co.uk, ...).
bool is_freemail(std::string_view domain);

}  // namespace bulwark::rules
