// The classifier's view of a message: a set of feature strings ("tokens") drawn from what a
// reader sees and from a few sender-controlled header fields.
//
//   std::vector<std::string> t = classify::tokenize(message);     // for explanation, tests
//   std::vector<std::uint64_t> h = classify::token_hashes(message); // what the model keys on
//
// Words are Unicode-normalised (NFKC, case folded, combining accents removed), so
// "ＦＲＥＥ", "Free" and "frée" are one token. Body words come with their orthogonal sparse
// bigrams (word pairs up to 4 apart, the gap marked), headers carry a prefix ("s:", "from:",
// "url:" ...). Header fields added by filters on the way (X-Spam-*, X-Virus-*, X-Bogosity,
// X-DSPAM-*, Authentication-Results, ...) never contribute: they would teach the model the
// label another filter gave, not the mail.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mime/message.h"

namespace bulwark::classify {

// Changes whenever tokenize() changes what it emits: a model trained by another version is
// not loaded (retrain with `bulwark train --reset`).
inline constexpr int kTokenizerVersion = 2;

// True for header fields that an earlier filter (spam or virus scanner, authentication
// checker) adds: their content reflects someone else's verdict.
bool is_filter_header(std::string_view name);

// Every token of the message, duplicates removed, in first-seen order.
std::vector<std::string> tokenize(const mime::Message& m);

// The 64-bit keys of tokenize(m) (sorted, unique): what the model stores.
std::vector<std::uint64_t> token_hashes(const mime::Message& m);
std::uint64_t token_hash(std::string_view token);

// NFKC + case fold + accent removal of one piece of UTF-8 text (invalid bytes dropped).
std::string normalize(std::string_view utf8);

// "mail.example.co.uk" -> "example.co.uk"; a heuristic (no public-suffix list): two labels,
// three when the second-level label is a short generic one (co, com, org, ac, ...).
std::string registrable_domain(std::string_view host);

}  // namespace bulwark::classify
