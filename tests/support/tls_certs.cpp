#include "tls_certs.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace aio::test {
namespace {

EVP_PKEY* make_key() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    if (!key) throw std::runtime_error("EVP_EC_gen failed");
    return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext) throw std::runtime_error(std::string("bad extension ") + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

/// A certificate for `cn` and `key`, valid from now + `from_days` for `days`, signed by
/// `issuer`/`issuer_key` (itself when null).
X509* make_cert(const char* cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, long from_days, long days,
                const char* san, bool ca, long serial) {
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert), from_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(cert), (from_days + days) * 86400);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
    X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
    X509* signer = issuer ? issuer : cert;
    add_ext(cert, signer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (ca) add_ext(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    if (san) add_ext(cert, signer, NID_subject_alt_name, san);
    if (!X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256())) throw std::runtime_error("X509_sign failed");
    return cert;
}

void write_pair(const std::string& base, X509* cert, EVP_PKEY* key, CertPair& out) {
    out.cert = base + ".crt";
    out.key = base + ".key";
    FILE* f = std::fopen(out.cert.c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
    f = std::fopen(out.key.c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
}

}  // namespace

TestCertificates::TestCertificates() {
    char tmpl[] = "/tmp/aiocpp-tls-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
    EVP_PKEY* ca_key = make_key();
    X509* ca = make_cert("aiocpp test CA", ca_key, nullptr, nullptr, -1, 30, nullptr, true, 1);
    CertPair ca_pair;
    write_pair(dir + "/ca", ca, ca_key, ca_pair);
    ca_file = ca_pair.cert;

    const char* san = "DNS:localhost,IP:127.0.0.1,IP:::1";
    struct Spec {
        const char* file;
        CertPair* out;
        long from;
        long days;
        bool self;
        const char* cn;
    } specs[] = {
        {"server", &server, -1, 30, false, "localhost"},
        {"expired", &expired, -30, 29, false, "localhost"},
        {"self_signed", &self_signed, -1, 30, true, "localhost"},
        {"client", &client, -1, 30, false, "aiocpp test client"},
    };
    long serial = 2;
    for (const Spec& s : specs) {
        EVP_PKEY* key = make_key();
        X509* cert = make_cert(s.cn, key, s.self ? nullptr : ca, s.self ? nullptr : ca_key, s.from, s.days, san, false,
                               serial++);
        write_pair(dir + "/" + s.file, cert, key, *s.out);
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    X509_free(ca);
    EVP_PKEY_free(ca_key);
}

TestCertificates::~TestCertificates() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

}  // namespace aio::test
