// SSLContext and the TLS errors: Python's ssl module, as asyncio's streams use it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aio/exceptions.hpp"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX
struct ssl_st;      // OpenSSL's SSL

namespace aio {

/// A TLS failure (Python's ssl.SSLError). The message names the reason and the peer:
/// "SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (TLS with 127.0.0.1:443)".
class SSLError : public OSError {
public:
    SSLError(int code, const std::string& message) : OSError(Verbatim{}, code, message) {}
};

/// The peer's certificate was rejected (ssl.SSLCertVerificationError). `verify_code()` is
/// OpenSSL's X509_V_ERR_* value; the message says why and for which host:
/// "SSLCertVerificationError: certificate verify failed: certificate has expired (host
/// example.com)".
class SSLCertVerificationError : public SSLError {
public:
    SSLCertVerificationError(int verify_code, const std::string& reason, const std::string& host);
    [[nodiscard]] int verify_code() const noexcept { return code(); }
};

/// What a context is for (ssl.Purpose): authenticating servers (a client's context) or
/// clients (a server's context).
enum class Purpose { server_auth, client_auth };

/// Whether and how the peer's certificate is checked (ssl.CERT_NONE/OPTIONAL/REQUIRED).
enum class VerifyMode { none, optional, required };

/// Lowest protocol version a context accepts (ssl.TLSVersion).
enum class TLSVersion { tls1_2, tls1_3 };

/// TLS settings shared by many connections (ssl.SSLContext), on OpenSSL 3.
///
/// Cheap to copy: copies share the same OpenSSL context. A connection keeps the context
/// alive as long as it needs it.
/// Thread-safety: configure it before use; using it from several loops is then safe.
class SSLContext {
public:
    /// ssl.create_default_context(purpose): for `server_auth` (a client), certificates are
    /// verified against the system's CA store and the host name is checked; for
    /// `client_auth` (a server), load a certificate chain with load_cert_chain().
    /// TLS 1.2 is the minimum version either way.
    [[nodiscard]] static SSLContext create_default_context(Purpose purpose = Purpose::server_auth);

    /// Loads the certificate (chain, PEM) and its private key; `keyfile` empty means the
    /// key is in `certfile`. Raises FileNotFoundError or SSLError naming the file.
    void load_cert_chain(std::string_view certfile, std::string_view keyfile = {});
    /// Trusts the CA certificates in `cafile` (PEM) and/or the hashed directory `capath`.
    void load_verify_locations(std::string_view cafile, std::string_view capath = {});
    /// Trusts the system's CA store (create_default_context does this for clients).
    void load_default_certs();
    /// The protocols to offer (client) or accept, in preference order (server), e.g.
    /// {"h2", "http/1.1"}.
    void set_alpn_protocols(const std::vector<std::string>& protocols);
    /// OpenSSL cipher list for TLS 1.2 and below.
    void set_ciphers(std::string_view ciphers);
    void set_minimum_version(TLSVersion version);
    /// Client contexts: verify the peer's name against `server_hostname` (default on).
    void set_check_hostname(bool check) noexcept { check_hostname_ = check; }
    [[nodiscard]] bool check_hostname() const noexcept { return check_hostname_; }
    /// Setting `none` on a client needs check_hostname off first, as in Python.
    void set_verify_mode(VerifyMode mode);
    [[nodiscard]] VerifyMode verify_mode() const noexcept { return verify_mode_; }
    [[nodiscard]] bool server_side() const noexcept { return server_side_; }
    [[nodiscard]] ssl_ctx_st* native_handle() const noexcept { return ctx_.get(); }

private:
    SSLContext() = default;
    std::shared_ptr<ssl_ctx_st> ctx_;
    bool server_side_ = false;
    bool check_hostname_ = true;
    VerifyMode verify_mode_ = VerifyMode::required;
};

/// The peer's certificate as `get_extra_info("peercert")` returns it (a small subset of
/// Python's dict): names and validity, as text.
struct PeerCertificate {
    std::string subject;     ///< e.g. "CN=example.com"
    std::string issuer;
    std::string not_before;  ///< e.g. "Nov 22 07:00:00 2026 GMT"
    std::string not_after;
    std::vector<std::string> subject_alt_names;  ///< "DNS:example.com", "IP Address:127.0.0.1"
};

}  // namespace aio
