// Certificates for TLS tests, made with OpenSSL in a temporary directory: a CA, a server
// certificate it signed for localhost/127.0.0.1/::1, an expired one, a self-signed one and
// a client certificate.
#pragma once

#include <string>

namespace aio::test {

struct CertPair {
    std::string cert;  // PEM file
    std::string key;   // PEM file
};

class TestCertificates {
public:
    TestCertificates();
    ~TestCertificates();
    TestCertificates(const TestCertificates&) = delete;
    TestCertificates& operator=(const TestCertificates&) = delete;

    std::string dir;
    std::string ca_file;  // the CA certificate
    CertPair server;      // signed by the CA; DNS:localhost, IP:127.0.0.1, IP:::1
    CertPair expired;     // signed by the CA, expired a day ago
    CertPair self_signed; // CN=localhost, signed by itself
    CertPair client;      // signed by the CA, for client authentication
};

}  // namespace aio::test
