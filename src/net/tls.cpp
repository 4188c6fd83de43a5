// SSLContext, and TLS on a StreamTransport (see tls_session.hpp for the data flow).
#include "aio/net/tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <optional>

#include "aio/timeouts.hpp"
#include "net/tls_session.hpp"
#include "net/transport.hpp"

namespace aio {

namespace {

/// The reason of the oldest queued OpenSSL error (and clears the queue).
std::string openssl_reason(unsigned long* code_out = nullptr) {
    const unsigned long e = ERR_get_error();
    if (code_out) *code_out = e;
    std::string text;
    if (e != 0) {
        const char* reason = ERR_reason_error_string(e);
        if (reason) {
            text = reason;
        } else {
            char buf[256];
            ERR_error_string_n(e, buf, sizeof buf);
            text = buf;
        }
    }
    ERR_clear_error();
    return text.empty() ? std::string("unknown TLS error") : text;
}

[[noreturn]] void raise_context_error(const std::string& what) {
    unsigned long code = 0;
    std::string reason = openssl_reason(&code);
    throw SSLError(static_cast<int>(ERR_GET_REASON(code)), "SSLError: " + reason + " (" + what + ")");
}

void require_file(std::string_view path, const char* what) {
    std::string p(path);
    if (::access(p.c_str(), R_OK) != 0) raise_os_error(errno, std::string(what) + " " + p);
}

// The server's ALPN preference list lives in the SSL_CTX's ex_data, freed with it.
int alpn_index() {
    static const int index = SSL_CTX_get_ex_new_index(
        0, nullptr, nullptr, nullptr,
        [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<std::vector<unsigned char>*>(ptr); });
    return index;
}

int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void*) {
    auto* prefs = static_cast<std::vector<unsigned char>*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), alpn_index()));
    if (!prefs) return SSL_TLSEXT_ERR_NOACK;
    unsigned char* chosen = nullptr;
    if (SSL_select_next_proto(&chosen, outlen, prefs->data(), static_cast<unsigned>(prefs->size()), in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;  // no protocol in common (RFC 7301 §3.2)
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

}  // namespace

SSLCertVerificationError::SSLCertVerificationError(int verify_code, const std::string& reason, const std::string& host)
    : SSLError(verify_code, "SSLCertVerificationError: certificate verify failed: " + reason + " (host " + host + ")") {}

SSLContext SSLContext::create_default_context(Purpose purpose) {
    SSLContext c;
    const bool server = purpose == Purpose::client_auth;
    SSL_CTX* raw = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!raw) raise_context_error("SSL_CTX_new");
    c.ctx_.reset(raw, SSL_CTX_free);
    SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
    // SSL_MODE_RELEASE_BUFFERS is left off: giving the record buffers back after every
    // read costs ~20% CPU per small request (bench/echo --tls), for ~34 KB per idle
    // connection. A program holding many idle TLS connections can set it on
    // native_handle().
    c.server_side_ = server;
    if (server) {
        c.check_hostname_ = false;
        c.verify_mode_ = VerifyMode::none;
        SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nullptr);
        SSL_CTX_set_options(raw, SSL_OP_CIPHER_SERVER_PREFERENCE);
    } else {
        SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, nullptr);
        c.load_default_certs();
    }
    return c;
}

void SSLContext::load_cert_chain(std::string_view certfile, std::string_view keyfile) {
    require_file(certfile, "certificate file");
    const std::string cert(certfile);
    const std::string key = keyfile.empty() ? cert : std::string(keyfile);
    if (!keyfile.empty()) require_file(keyfile, "key file");
    if (SSL_CTX_use_certificate_chain_file(ctx_.get(), cert.c_str()) != 1)
        raise_context_error("loading certificate chain " + cert);
    if (SSL_CTX_use_PrivateKey_file(ctx_.get(), key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx_.get()) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
            ERR_clear_error();
            throw SSLError(X509_R_KEY_VALUES_MISMATCH,
                           "SSLError: the private key in " + key + " does not match the certificate in " + cert);
        }
        raise_context_error("loading private key " + key);
    }
}

void SSLContext::load_verify_locations(std::string_view cafile, std::string_view capath) {
    if (cafile.empty() && capath.empty()) throw ValueError("ValueError: cafile and capath cannot both be empty");
    if (!cafile.empty()) require_file(cafile, "CA file");
    const std::string file(cafile), path(capath);
    if (SSL_CTX_load_verify_locations(ctx_.get(), file.empty() ? nullptr : file.c_str(),
                                      path.empty() ? nullptr : path.c_str()) != 1)
        raise_context_error("loading CA certificates from " + (file.empty() ? path : file));
}

void SSLContext::load_default_certs() {
    if (SSL_CTX_set_default_verify_paths(ctx_.get()) != 1) raise_context_error("loading the system CA store");
}

void SSLContext::set_alpn_protocols(const std::vector<std::string>& protocols) {
    std::vector<unsigned char> wire;
    for (const std::string& p : protocols) {
        if (p.empty() || p.size() > 255)
            throw ValueError("ValueError: ALPN protocol names must be 1 to 255 bytes, got '" + p + "'");
        wire.push_back(static_cast<unsigned char>(p.size()));
        wire.insert(wire.end(), p.begin(), p.end());
    }
    if (server_side_) {
        SSL_CTX_set_ex_data(ctx_.get(), alpn_index(), new std::vector<unsigned char>(std::move(wire)));
        SSL_CTX_set_alpn_select_cb(ctx_.get(), &select_alpn, nullptr);
    } else if (SSL_CTX_set_alpn_protos(ctx_.get(), wire.data(), static_cast<unsigned>(wire.size())) != 0) {
        raise_context_error("setting ALPN protocols");
    }
}

void SSLContext::set_ciphers(std::string_view ciphers) {
    const std::string list(ciphers);
    if (SSL_CTX_set_cipher_list(ctx_.get(), list.c_str()) != 1) raise_context_error("no cipher matches '" + list + "'");
}

void SSLContext::set_minimum_version(TLSVersion version) {
    SSL_CTX_set_min_proto_version(ctx_.get(), version == TLSVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
}

void SSLContext::set_verify_mode(VerifyMode mode) {
    if (mode == VerifyMode::none && !server_side_ && check_hostname_)
        throw ValueError("ValueError: Cannot set verify_mode to none when check_hostname is enabled.");
    int flags = SSL_VERIFY_NONE;
    if (mode == VerifyMode::optional) flags = SSL_VERIFY_PEER;
    if (mode == VerifyMode::required) flags = SSL_VERIFY_PEER | (server_side_ ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    SSL_CTX_set_verify(ctx_.get(), flags, nullptr);
    verify_mode_ = mode;
}

namespace detail {

namespace {
constexpr std::size_t kCipherScratch = 64 * 1024;
thread_local char tl_cipher[kCipherScratch];  // ciphertext on its way to OpenSSL

std::string name_text(X509_NAME* name) {
    BIO* bio = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    return out;
}

std::string time_text(const ASN1_TIME* t) {
    BIO* bio = BIO_new(BIO_s_mem());
    ASN1_TIME_print(bio, t);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    return out;
}

PeerCertificate describe_certificate(X509* cert) {
    PeerCertificate pc;
    pc.subject = name_text(X509_get_subject_name(cert));
    pc.issuer = name_text(X509_get_issuer_name(cert));
    pc.not_before = time_text(X509_get0_notBefore(cert));
    pc.not_after = time_text(X509_get0_notAfter(cert));
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
        if (n->type == GEN_DNS) {
            const ASN1_STRING* s = n->d.dNSName;
            pc.subject_alt_names.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                                                static_cast<std::size_t>(ASN1_STRING_length(s))));
        } else if (n->type == GEN_IPADD) {
            const ASN1_OCTET_STRING* ip = n->d.iPAddress;
            if (ASN1_STRING_length(ip) == 4 || ASN1_STRING_length(ip) == 16) {
                char buf[64] = {};
                const int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
                ::inet_ntop(family, ASN1_STRING_get0_data(ip), buf, sizeof buf);
                pc.subject_alt_names.push_back(std::string("IP Address:") + buf);
            }
        }
    }
    GENERAL_NAMES_free(names);
    return pc;
}
}  // namespace

Coro<> StreamTransport::start_tls(const SSLContext& ctx, std::string host, std::chrono::milliseconds timeout) {
    if (tls_) throw RuntimeError("RuntimeError: the connection already uses TLS");
    if (state_ != State::open) throw RuntimeError("RuntimeError: start_tls() on a closed connection");
    if (lost_errno_ != 0) raise_lost();
    const bool client = !ctx.server_side();
    const std::optional<SocketAddress> ip = SocketAddress::parse(host, 0);
    if (client && host.empty() && ctx.check_hostname())
        throw ValueError("ValueError: check_hostname requires server_hostname");
    auto s = std::make_unique<TlsSession>();
    s->ssl = SSL_new(ctx.native_handle());
    if (!s->ssl) raise_context_error("SSL_new");
    s->rbio = BIO_new(BIO_s_mem());
    s->wbio = BIO_new(BIO_s_mem());
    // An empty input BIO means "wait for more", not end of stream.
    BIO_set_mem_eof_return(s->rbio, -1);
    SSL_set_bio(s->ssl, s->rbio, s->wbio);
    s->host = host;
    if (client) {
        SSL_set_connect_state(s->ssl);
        if (!host.empty() && !ip) {
            // SNI; SSL_set_tlsext_host_name is a macro with a C cast g++ warns about.
            SSL_ctrl(s->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
        }
        if (!host.empty() && ctx.check_hostname()) {
            const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), ip->host().c_str())
                              : SSL_set1_host(s->ssl, host.c_str());
            if (ok != 1) throw ValueError("ValueError: cannot verify host name '" + host + "'");
        }
    } else {
        SSL_set_accept_state(s->ssl);
    }
    // Bytes the reader already took from the socket belong to the TLS stream.
    if (!buffered().empty()) {
        BIO_write(s->rbio, buffered().data(), static_cast<int>(buffered().size()));
        drop(buffered().size());
    }
    tls_ = std::move(s);
    bool timed_out = false;
    try {
        co_await wait_for(tls_handshake(), timeout);
    } catch (const TimeoutError&) {
        timed_out = true;
    }
    if (timed_out) {
        throw TimeoutError("TimeoutError: TLS handshake with " + describe_peer() + " did not finish within " +
                           std::to_string(timeout.count()) + " ms");
    }
}

Coro<> StreamTransport::tls_handshake() {
    for (;;) {
        ERR_clear_error();
        const int r = SSL_do_handshake(tls_->ssl);
        pump_tls_output();
        if (r == 1) {
            tls_->established = true;
            co_return;
        }
        if (SSL_get_error(tls_->ssl, r) != SSL_ERROR_WANT_READ) raise_tls_error(r, "handshake");
        const std::size_t n = co_await recv_raw(tl_cipher, "TLS handshake");
        if (n == 0)
            throw ConnectionResetError(ECONNRESET, "TLS handshake with " + describe_peer() +
                                                       ": the peer closed the connection");
        BIO_write(tls_->rbio, tl_cipher, static_cast<int>(n));
    }
}

Coro<std::size_t> StreamTransport::tls_recv(const char* what) {
    for (;;) {
        ERR_clear_error();
        const int n = SSL_read(tls_->ssl, scratch_buffer(), static_cast<int>(kCipherScratch));
        if (n > 0) {
            pump_tls_output();
            co_return static_cast<std::size_t>(n);
        }
        const int err = SSL_get_error(tls_->ssl, n);
        pump_tls_output();
        if (err == SSL_ERROR_ZERO_RETURN) {  // the peer's close_notify
            eof_ = true;
            co_return 0;
        }
        if (err != SSL_ERROR_WANT_READ) raise_tls_error(n, "read");
        // A TCP end without close_notify also ends the stream (as asyncio does); message
        // framing (Content-Length, chunking) is what detects truncation.
        if (eof_) co_return 0;
        const std::size_t raw = co_await recv_raw(tl_cipher, what);
        if (raw == 0) co_return 0;
        BIO_write(tls_->rbio, tl_cipher, static_cast<int>(raw));
    }
}

void StreamTransport::tls_write(std::string_view data) {
    if (!tls_->established) throw RuntimeError("RuntimeError: write() before the TLS handshake finished");
    while (!data.empty()) {
        ERR_clear_error();
        const int chunk = data.size() > INT_MAX ? INT_MAX : static_cast<int>(data.size());
        const int n = SSL_write(tls_->ssl, data.data(), chunk);
        if (n <= 0) raise_tls_error(n, "write");
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    pump_tls_output();
}

void StreamTransport::tls_close_notify() noexcept {
    if (!tls_->established || tls_->close_notify_sent || lost_errno_ != 0) return;
    tls_->close_notify_sent = true;
    ERR_clear_error();
    SSL_shutdown(tls_->ssl);
    ERR_clear_error();
    pump_tls_output();
}

void StreamTransport::pump_tls_output() {
    char* data = nullptr;
    const long len = BIO_get_mem_data(tls_->wbio, &data);
    if (len <= 0) return;
    write_raw(std::string_view(data, static_cast<std::size_t>(len)));
    (void)BIO_reset(tls_->wbio);
}

void StreamTransport::raise_tls_error(int ret, const char* during) {
    const long verify = SSL_get_verify_result(tls_->ssl);
    if (!tls_->established && verify != X509_V_OK) {
        ERR_clear_error();
        throw SSLCertVerificationError(static_cast<int>(verify), X509_verify_cert_error_string(verify),
                                       tls_->host.empty() ? describe_peer() : tls_->host);
    }
    const int err = SSL_get_error(tls_->ssl, ret);
    unsigned long code = 0;
    std::string reason = openssl_reason(&code);
    if (code == 0 && err == SSL_ERROR_SYSCALL) reason = "unexpected end of the connection";
    throw SSLError(static_cast<int>(ERR_GET_REASON(code)),
                   "SSLError: " + reason + " (TLS " + during + " with " + describe_peer() + ")");
}

std::any StreamTransport::tls_info(std::string_view name) const {
    if (!tls_) return {};
    SSL* ssl = tls_->ssl;
    if (name == "ssl_object") return ssl;
    if (name == "peercert") {
        X509* cert = SSL_get0_peer_certificate(ssl);
        if (!cert) return {};
        return describe_certificate(cert);
    }
    if (name == "cipher") return std::string(SSL_get_cipher_name(ssl));
    if (name == "tls_version") return std::string(SSL_get_version(ssl));
    if (name == "alpn_protocol") {
        const unsigned char* p = nullptr;
        unsigned len = 0;
        SSL_get0_alpn_selected(ssl, &p, &len);
        if (!p || len == 0) return {};
        return std::string(reinterpret_cast<const char*>(p), len);
    }
    return {};
}

}  // namespace detail
}  // namespace aio
