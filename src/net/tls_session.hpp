// One connection's TLS state (private to src/net): an OpenSSL SSL object working over two
// memory BIOs, so the transport keeps doing the socket I/O itself:
//
//   socket ──recv──► rbio ──SSL_read──► plaintext for the reader
//   writer ──SSL_write──► wbio ──BIO_read──► write buffer ──send──► socket
#pragma once

#include <openssl/ssl.h>

#include <string>

namespace aio::detail {

struct TlsSession {
    SSL* ssl = nullptr;
    BIO* rbio = nullptr;  // owned by `ssl`
    BIO* wbio = nullptr;  // owned by `ssl`
    std::string host;     // verified name (clients), for errors
    bool established = false;
    bool close_notify_sent = false;

    TlsSession() = default;
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;
    ~TlsSession() {
        if (ssl) SSL_free(ssl);
    }
};

}  // namespace aio::detail
