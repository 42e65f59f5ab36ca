// The STARTTLS server context: the configured certificate, or for the embedded default a
// self-signed one generated once (P-256, 10 years, CN = smtp.hostname) under
// <data_dir>/tls/, so a fresh machine offers TLS with no setup. TLS 1.2 or later only.
#pragma once

#include <memory>
#include <string>

#include <asio/ssl.hpp>

#include "core/config.h"
#include "core/result.h"

namespace bulwark::smtp {

Result<std::shared_ptr<asio::ssl::context>> make_tls_context(const Config& config);

// Writes a self-signed certificate and key for `hostname` (PEM) unless both exist.
Result<bool> ensure_self_signed(const std::string& cert_path, const std::string& key_path,
                                const std::string& hostname);

}  // namespace bulwark::smtp
