#include "inspect/pdf_crypt.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "inspect/pdf_lex.h"

namespace bulwark::inspect::pdf {

namespace {

// The padding string of the standard security handler (Algorithm 2, step a).
constexpr std::array<unsigned char, 32> kPad = {0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41,
                                                0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
                                                0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80,
                                                0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A};

std::string pad() { return std::string(reinterpret_cast<const char*>(kPad.data()), kPad.size()); }

std::string digest(const EVP_MD* md, std::string_view in) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(in.data(), in.size(), out, &n, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), n);
}

std::string md5(std::string_view in) { return digest(EVP_md5(), in); }

// RC4 is a few lines, and OpenSSL 3 keeps it in the legacy provider.
std::string rc4(std::string_view key, std::string_view in) {
  std::array<unsigned char, 256> s;
  for (int i = 0; i < 256; ++i) s[static_cast<std::size_t>(i)] = static_cast<unsigned char>(i);
  if (key.empty()) return std::string(in);
  unsigned j = 0;
  for (unsigned i = 0; i < 256; ++i) {
    j = (j + s[i] + static_cast<unsigned char>(key[i % key.size()])) & 0xFF;
    std::swap(s[i], s[j]);
  }
  std::string out(in.size(), '\0');
  unsigned a = 0, b = 0;
  for (std::size_t k = 0; k < in.size(); ++k) {
    a = (a + 1) & 0xFF;
    b = (b + s[a]) & 0xFF;
    std::swap(s[a], s[b]);
    out[k] = static_cast<char>(static_cast<unsigned char>(in[k]) ^ s[(s[a] + s[b]) & 0xFF]);
  }
  return out;
}

// AES-CBC without padding handling; `in` is cut to whole blocks.
std::string aes_cbc(bool encrypt, std::string_view key, std::string_view iv, std::string_view in) {
  const EVP_CIPHER* c = key.size() == 32 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  const std::size_t n = in.size() / 16 * 16;
  std::string out(n + 16, '\0');
  int len = 0, fin = 0;
  if (!ctx || n == 0 || iv.size() < 16 ||
      EVP_CipherInit_ex(ctx.get(), c, nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                        reinterpret_cast<const unsigned char*>(iv.data()), encrypt ? 1 : 0) != 1)
    return {};
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  if (EVP_CipherUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                       reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(n)) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &fin) != 1)
    return {};
  out.resize(static_cast<std::size_t>(len + fin));
  return out;
}

std::string le32(long long v) {
  const auto u = static_cast<std::uint32_t>(static_cast<std::int32_t>(v));
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>((u >> (8 * i)) & 0xFF);
  return s;
}

// Algorithm 2.B (R6): the hardened hash of a password with a salt.
std::string hash_2b(std::string_view pw, std::string_view salt) {
  std::string k = digest(EVP_sha256(), std::string(pw) + std::string(salt));
  std::string e;
  for (int i = 0; i < 64 || static_cast<unsigned char>(e.back()) > i - 32; ++i) {
    std::string k1;
    const std::string unit = std::string(pw) + k;
    k1.reserve(unit.size() * 64);
    for (int r = 0; r < 64; ++r) k1 += unit;
    e = aes_cbc(true, k.substr(0, 16), k.substr(16, 16), k1);
    if (e.size() < 16) return {};
    unsigned sum = 0;
    for (int b = 0; b < 16; ++b) sum += static_cast<unsigned char>(e[static_cast<std::size_t>(b)]);
    k = digest(sum % 3 == 0 ? EVP_sha256() : sum % 3 == 1 ? EVP_sha384() : EVP_sha512(), e);
    if (i > 1000) return {};  // the loop ends within a few rounds past 64 for any input
  }
  return k.substr(0, 32);
}

}  // namespace

Encryption find_encryption(std::string_view pdf) {
  struct Level {
    bool dict;
    bool expect_key = true;
    std::string key;
    bool id = false;  // the /ID array
  };
  std::vector<Level> stack;
  std::vector<Encryption> candidates;  // dictionaries with a /Filter of a security handler
  Encryption cur;                      // the fields read in the current object
  long long encrypt_ref = -1, n1 = -1, n2 = -1, cur_obj = -1;
  std::string id;
  const auto close_object = [&] {
    if (!cur.filter.empty() && candidates.size() < 16) {
      cur.obj = cur_obj;
      candidates.push_back(cur);
    }
    cur = Encryption{};
  };
  Lexer lx(pdf);
  for (Token t = lx.next(); t.kind != Tok::kEnd; t = lx.next()) {
    Level* top = stack.empty() ? nullptr : &stack.back();
    // Values of the object's outer dictionary (depth 1), and CFM at any depth.
    const bool value = top && top->dict && !top->expect_key;
    const std::string key = value ? top->key : std::string();
    const bool outer = stack.size() == 1;
    switch (t.kind) {
      case Tok::kDictOpen:
      case Tok::kArrayOpen:
        if (stack.size() < 32) stack.push_back(Level{t.kind == Tok::kDictOpen, true, {}, value && key == "ID"});
        continue;
      case Tok::kDictClose:
      case Tok::kArrayClose:
        if (!stack.empty()) stack.pop_back();
        if (!stack.empty() && stack.back().dict) stack.back().expect_key = true;
        continue;
      case Tok::kName:
        if (top && top->dict && top->expect_key) {
          top->key = t.text;
          top->expect_key = false;
          continue;
        }
        if (value) {
          if (outer && key == "Filter") cur.filter = t.text;
          if (outer && key == "StmF") cur.stm_f = t.text;
          if (outer && key == "StrF") cur.str_f = t.text;
          if (key == "CFM") cur.cfm = t.text;
          top->expect_key = true;
        }
        continue;
      case Tok::kNumber: {
        n2 = n1;
        n1 = std::strtoll(t.text.c_str(), nullptr, 10);
        if (value) {
          if (outer && key == "V") cur.v = n1;
          if (outer && key == "R") cur.r = n1;
          if (outer && key == "Length") cur.length = n1;
          if (outer && key == "P") cur.p = n1;
          top->expect_key = true;
        }
        continue;
      }
      case Tok::kString:
        if (top && top->id && id.empty()) id = t.text;
        if (value) {
          if (outer && key == "O") cur.o = t.text;
          if (outer && key == "U") cur.u = t.text;
          if (outer && key == "OE") cur.oe = t.text;
          if (outer && key == "UE") cur.ue = t.text;
          top->expect_key = true;
        }
        continue;
      case Tok::kKeyword:
        break;
      default:
        continue;
    }
    if (t.text == "R") {
      if (top && top->dict && top->key == "Encrypt") encrypt_ref = n2;
    } else if (t.text == "true" || t.text == "false") {
      if (value && outer && key == "EncryptMetadata") cur.encrypt_metadata = t.text == "true";
      if (value) top->expect_key = true;
    } else if (t.text == "obj") {
      close_object();
      cur_obj = n2;
      stack.clear();
    } else if (t.text == "endobj" || t.text == "trailer") {
      close_object();
      cur_obj = -1;
      stack.clear();
    } else if (t.text == "stream") {
      // Binary bodies are skipped; the stream's own dictionary (an XRef stream holds
      // /Encrypt and /ID) has been read already.
      const std::size_t end = pdf.find("endstream", t.end);
      lx.seek(end == std::string_view::npos ? pdf.size() : end + 9);
      stack.clear();
    }
  }
  close_object();
  // Only the trailer's /Encrypt makes a file encrypted (readers go by it too).
  Encryption found;
  if (encrypt_ref < 0) return found;
  for (const Encryption& c : candidates)
    if (c.obj == encrypt_ref) found = c;
  found.found = true;
  found.id = id;
  return found;
}

std::optional<Decryptor> Decryptor::open(const Encryption& e, std::string_view password) {
  if (e.filter != "Standard") return std::nullopt;
  Decryptor d;
  const auto method = [&](const std::string& filter_name) {
    if (e.v < 4) return Cipher::kRc4;
    if (filter_name == "Identity") return Cipher::kIdentity;
    if (e.cfm == "AESV3") return Cipher::kAes256;
    if (e.cfm == "AESV2") return Cipher::kAes128;
    if (e.cfm == "None") return Cipher::kIdentity;
    return Cipher::kRc4;  // V2 or unnamed
  };
  d.stream_ = method(e.stm_f);
  d.string_ = method(e.str_f);
  if (e.r == 5 || e.r == 6) {
    // AES-256: validation salt U[32..40), key salt U[40..48); the file key is UE decrypted.
    if (e.u.size() < 48 || e.ue.size() < 32) return std::nullopt;
    const std::string pw(password.substr(0, 127));
    const auto hash = [&](std::string_view salt) {
      return e.r == 5 ? digest(EVP_sha256(), pw + std::string(salt)) : hash_2b(pw, salt);
    };
    if (hash(std::string_view(e.u).substr(32, 8)) != std::string_view(e.u).substr(0, 32)) return std::nullopt;
    d.key_ = aes_cbc(false, hash(std::string_view(e.u).substr(40, 8)), std::string(16, '\0'), e.ue.substr(0, 32));
    if (d.key_.size() != 32) return std::nullopt;
    return d;
  }
  if (e.r < 2 || e.r > 4 || e.o.size() < 32 || e.u.size() < 32) return std::nullopt;
  // Algorithm 2: the key from the padded password, O, P, the file ID.
  const std::size_t n = e.r == 2 ? 5 : static_cast<std::size_t>(std::clamp<long long>(e.length / 8, 5, 16));
  std::string in = (std::string(password.substr(0, 32)) + pad()).substr(0, 32);
  in += e.o.substr(0, 32) + le32(e.p) + e.id;
  if (e.r >= 4 && !e.encrypt_metadata) in += std::string(4, '\xFF');
  std::string h = md5(in);
  if (e.r >= 3)
    for (int i = 0; i < 50; ++i) h = md5(h.substr(0, n));
  const std::string key = h.substr(0, n);
  // Algorithms 4 and 5: the password is right when U comes out.
  if (e.r == 2) {
    if (rc4(key, pad()) != e.u.substr(0, 32)) return std::nullopt;
  } else {
    std::string x = rc4(key, md5(pad() + e.id));
    for (int i = 1; i <= 19; ++i) {
      std::string k = key;
      for (char& c : k) c = static_cast<char>(c ^ i);
      x = rc4(k, x);
    }
    if (x != e.u.substr(0, 16)) return std::nullopt;
  }
  d.key_ = key;
  return d;
}

std::string Decryptor::decrypt(std::string_view data, long long obj, long long gen, Cipher c) const {
  if (c == Cipher::kIdentity) return std::string(data);
  std::string key = key_;
  if (c != Cipher::kAes256) {
    // Algorithm 1: a key per object.
    std::string in = key_;
    for (int i = 0; i < 3; ++i) in += static_cast<char>((obj >> (8 * i)) & 0xFF);
    for (int i = 0; i < 2; ++i) in += static_cast<char>((gen >> (8 * i)) & 0xFF);
    if (c == Cipher::kAes128) in += "sAlT";
    key = md5(in).substr(0, std::min<std::size_t>(key_.size() + 5, 16));
  }
  if (c == Cipher::kRc4) return rc4(key, data);
  // AES: the first block is the IV; PKCS#7 padding removed when it is well formed.
  if (data.size() < 32) return {};
  std::string out = aes_cbc(false, key, data.substr(0, 16), data.substr(16));
  if (!out.empty()) {
    const auto p = static_cast<unsigned char>(out.back());
    if (p >= 1 && p <= 16 && p <= out.size()) out.resize(out.size() - p);
  }
  return out;
}

std::string Decryptor::stream(std::string_view data, long long obj, long long gen) const {
  return decrypt(data, obj, gen, stream_);
}

std::string Decryptor::string(std::string_view data, long long obj, long long gen) const {
  return decrypt(data, obj, gen, string_);
}

std::string Decryptor::method() const {
  const Cipher c = stream_ != Cipher::kIdentity ? stream_ : string_;
  switch (c) {
    case Cipher::kRc4:
      return "RC4 " + std::to_string(key_.size() * 8) + "-bit";
    case Cipher::kAes128:
      return "AES-128";
    case Cipher::kAes256:
      return "AES-256";
    case Cipher::kIdentity:
      break;
  }
  return "no cipher";
}

}  // namespace bulwark::inspect::pdf
