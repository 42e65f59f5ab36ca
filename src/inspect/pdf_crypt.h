// Encrypted PDFs (the standard security handler, ISO 32000-2 section 7.6.4): RC4 40-128
// bit (R2-R4), AES-128 (R4) and AES-256 (R5, R6).
//
// Why: a PDF encrypted with an empty user password opens in every reader without a
// prompt, yet its strings and streams (page text, JavaScript, object streams hiding
// /OpenAction, embedded files) are ciphertext to a scanner that does not decrypt. Sent
// with a password in the message body, it is the archive-with-password trick; those
// candidate passwords are tried too (pdf.cc).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bulwark::inspect::pdf {

// The /Encrypt dictionary and the file identifier, as found in the file.
struct Encryption {
  bool found = false;     // an /Encrypt reference, or a dictionary of a security handler
  std::string filter;     // "Standard"; anything else (public-key handlers) is not opened
  long long v = 0, r = 0, length = 40, p = 0;
  std::string o, u, oe, ue;
  std::string id;         // the first string of the trailer's /ID
  std::string stm_f, str_f, cfm;  // V4+: crypt filter names (Identity or StdCF) and method
  bool encrypt_metadata = true;
  long long obj = -1;     // the dictionary's own object: its strings are not encrypted
};

// Reads the top level of a PDF (stream bodies skipped) for /Encrypt and /ID.
Encryption find_encryption(std::string_view pdf);

class Decryptor {
 public:
  // The file key when `password` opens the file as its user password (empty: none).
  static std::optional<Decryptor> open(const Encryption& e, std::string_view password);

  std::string stream(std::string_view data, long long obj, long long gen) const;
  std::string string(std::string_view data, long long obj, long long gen) const;
  // "RC4 40-bit", "RC4 128-bit", "AES-128", "AES-256".
  std::string method() const;

 private:
  enum class Cipher { kIdentity, kRc4, kAes128, kAes256 };
  std::string decrypt(std::string_view data, long long obj, long long gen, Cipher c) const;

  std::string key_;
  Cipher stream_ = Cipher::kIdentity, string_ = Cipher::kIdentity;
};

}  // namespace bulwark::inspect::pdf
