#include "smtp/tls.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace bulwark::smtp {

namespace {

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

}  // namespace

Result<bool> ensure_self_signed(const std::string& cert_path, const std::string& key_path,
                                const std::string& hostname) {
  if (::access(cert_path.c_str(), R_OK) == 0 && ::access(key_path.c_str(), R_OK) == 0) return true;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) return Error{"cannot generate a TLS key"};
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!cert) return Error{"cannot create a certificate"};
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), static_cast<long>(::time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(hostname.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return Error{"cannot sign the certificate"};
  const mode_t old = ::umask(077);
  std::unique_ptr<FILE, FileCloser> kf(std::fopen(key_path.c_str(), "w"));
  std::unique_ptr<FILE, FileCloser> cf(std::fopen(cert_path.c_str(), "w"));
  ::umask(old);
  if (!kf || !cf) return Error{"cannot write " + key_path + " or " + cert_path};
  if (!PEM_write_PrivateKey(kf.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ||
      !PEM_write_X509(cf.get(), cert.get()))
    return Error{"cannot write the generated certificate"};
  return true;
}

Result<std::shared_ptr<asio::ssl::context>> make_tls_context(const Config& config) {
  std::string cert = config.smtp.tls_certificate, key = config.smtp.tls_key;
  if (cert.empty()) {
    const std::string dir = config.spool.data_dir + "/tls";
    ::mkdir(config.spool.data_dir.c_str(), 0700);
    ::mkdir(dir.c_str(), 0700);
    cert = dir + "/selfsigned.crt";
    key = dir + "/selfsigned.key";
    if (auto r = ensure_self_signed(cert, key, config.smtp.hostname); !r) return r.error();
  }
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  asio::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                   ec);
  ctx->use_certificate_chain_file(cert, ec);
  if (ec) return Error{"smtp.tls_certificate: " + cert + ": " + ec.message()};
  ctx->use_private_key_file(key, asio::ssl::context::pem, ec);
  if (ec) return Error{"smtp.tls_key: " + key + ": " + ec.message()};
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    return Error{"smtp.tls_key: " + key + " does not match " + cert};
  return ctx;
}

}  // namespace bulwark::smtp
