#include "nginx.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace aio::test {

namespace {

std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("no free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

bool accepting(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

bool NginxServer::available(const std::string& binary) { return ::access(binary.c_str(), X_OK) == 0; }

NginxServer::NginxServer(const std::string& cert, const std::string& key, const std::string& binary) {
    char tmpl[] = "/tmp/aiocpp-nginx-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
    root = dir + "/www";
    std::filesystem::create_directories(root);
    std::filesystem::create_directories(dir + "/logs");
    std::ofstream(root + "/index.html") << "<html><body><a href=\"/big.txt\">big</a></body></html>\n";
    {
        std::ofstream big(root + "/big.txt");
        for (int i = 0; i < 4096; ++i) big << "line " << i << " of a compressible text file, padded to 64 bytes.\n";
    }
    http_port = free_port();
    https_port = free_port();
    std::ofstream conf(dir + "/nginx.conf");
    conf << "daemon off;\nmaster_process off;\nworker_processes 1;\npid " << dir << "/nginx.pid;\n"
         << "error_log " << dir << "/logs/error.log warn;\n"
         << "events { worker_connections 256; }\n"
         << "http {\n"
         << "  access_log off;\n"
         << "  client_body_temp_path " << dir << "/body; proxy_temp_path " << dir << "/proxy;\n"
         << "  fastcgi_temp_path " << dir << "/fcgi; uwsgi_temp_path " << dir << "/uwsgi; scgi_temp_path " << dir << "/scgi;\n"
         << "  default_type text/plain;\n"
         << "  keepalive_timeout 30s;\n"
         << "  gzip on; gzip_types text/plain; gzip_min_length 100; gzip_proxied any;\n"
         << "  server {\n"
         << "    listen 127.0.0.1:" << http_port << ";\n"
         << "    listen 127.0.0.1:" << https_port << " ssl;\n"
         << "    server_name localhost;\n"
         << "    ssl_certificate " << cert << ";\n    ssl_certificate_key " << key << ";\n"
         << "    root " << root << ";\n"
         << "    location = /redirect { return 302 /index.html; }\n"
         << "    location = /status/418 { return 418 \"teapot\"; }\n"
         << "    location = /echo-method { return 200 \"$request_method\"; }\n"
         << "  }\n"
         << "}\n";
    conf.close();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        std::string prefix = dir + "/";
        std::string conf_path = dir + "/nginx.conf";
        ::execl(binary.c_str(), binary.c_str(), "-p", prefix.c_str(), "-c", conf_path.c_str(), "-e",
                (dir + "/logs/error.log").c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!(accepting(http_port) && accepting(https_port))) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_ || std::chrono::steady_clock::now() > deadline) {
            std::string log = read_file(dir + "/logs/error.log");
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
            std::filesystem::remove_all(dir);
            throw std::runtime_error("nginx did not start: " + log);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

NginxServer::~NginxServer() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

}  // namespace aio::test
