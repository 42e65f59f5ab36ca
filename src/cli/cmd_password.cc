// `bulwark hash-password`: reads a password on stdin, prints its argon2id hash for
// smtp.auth_users_file ("user:<hash>"). Nothing is echoed or stored.
#include <sodium.h>

#include <iostream>
#include <string>

#include "cli/commands.h"

namespace bulwark::cli {

int run_hash_password() {
  if (sodium_init() < 0) {
    std::cerr << "bulwark hash-password: libsodium failed to initialise\n";
    return 2;
  }
  std::string password;
  if (!std::getline(std::cin, password) || password.empty()) {
    std::cerr << "bulwark hash-password: give the password on stdin (one line)\n";
    return 2;
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    std::cerr << "bulwark hash-password: out of memory\n";
    return 2;
  }
  std::cout << hash << "\n";
  return 0;
}

}  // namespace bulwark::cli
