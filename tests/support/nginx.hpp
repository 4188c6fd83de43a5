// A real nginx for client tests: started on private ports in a temporary directory, with
// a plain and a TLS listener, serving static files, gzip, redirects and chunked bodies.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace aio::test {

class NginxServer {
public:
    /// Starts nginx (from `binary`) with TLS from `cert`/`key` (PEM). Throws
    /// std::runtime_error with nginx's error log when it does not come up.
    NginxServer(const std::string& cert, const std::string& key, const std::string& binary = "/usr/sbin/nginx");
    ~NginxServer();  // stops nginx and removes the directory
    NginxServer(const NginxServer&) = delete;
    NginxServer& operator=(const NginxServer&) = delete;

    /// Whether an nginx binary exists to start.
    static bool available(const std::string& binary = "/usr/sbin/nginx");

    std::uint16_t http_port = 0;
    std::uint16_t https_port = 0;
    std::string root;  // the document root; tests may add files
    std::string dir;

    /// Serves the files under `root` (index.html, and big.txt: 256 KiB of text, sent gzip-
    /// compressed and therefore chunked to a client that accepts gzip), /redirect (302 to
    /// /index.html), /status/418 and /echo-method (the request method as the body).

private:
    pid_t pid_ = -1;
};

}  // namespace aio::test
