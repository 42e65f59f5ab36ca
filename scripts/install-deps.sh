#!/usr/bin/env bash
# Installs every Debian package Bulwark needs to build, test, fuzz and benchmark.
# Idempotent and non-interactive: packages already present are skipped, so a second
# run does nothing but check. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  # build
  cmake ninja-build ccache g++ clang lld pkg-config make
  # libraries linked into bulwark
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libfmt-dev
  libicu-dev libgumbo-dev zlib1g-dev libssl-dev libseccomp-dev
  libarchive-dev libmagic-dev libclamav-dev libyara-dev
  libasio-dev libc-ares-dev libsqlite3-dev libsodium-dev
  libhyperscan-dev libre2-dev libpsl-dev libidn2-dev
  libzxing-dev libpng-dev libjpeg62-turbo-dev libgif-dev
  libtesseract-dev libleptonica-dev tesseract-ocr-eng
  # tests, fuzzing, benchmarks
  googletest libgtest-dev libgmock-dev libbenchmark-dev libclang-rt-14-dev
  libgmime-3.0-dev libglib2.0-dev
  # peers measured side by side: ClamAV's scanner and daemon
  clamav clamav-daemon
  # real SMTP peers in tests and benchmarks: Postfix (with smtp-source, smtp-sink), swaks
  postfix swaks python3 dnsmasq-base
  # peers in bench/accuracy: SpamAssassin and Rspamd (with Redis for its Bayes)
  spamassassin spamd spamc rspamd redis-server
  # real PDF producers, poppler's reader and qpdf (encryption), for the document tests
  chromium poppler-utils ghostscript qpdf
  # benchmarks and hardening checks
  time bc binutils
  tar
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# The corpus fetcher needs npm; the machine image ships Node.js with npm, which conflicts
# with Debian's npm package, so only install Debian's when no npm is on PATH at all.
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
