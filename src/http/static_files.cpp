// App::add_static: files under a directory, served by Response::file().
#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "aio/http/app.hpp"

namespace aio::http {

namespace {

/// The canonical absolute path of `path` (symlinks resolved), or nullopt.
std::optional<std::string> real_path(const std::string& path) {
    char* resolved = ::realpath(path.c_str(), nullptr);
    if (!resolved) return std::nullopt;
    std::string out(resolved);
    std::free(resolved);
    return out;
}

/// Whether every segment of the relative path `rel` is a plain name.
bool safe_relative(std::string_view rel) {
    if (rel.find('\0') != std::string_view::npos || rel.find('\\') != std::string_view::npos) return false;
    while (!rel.empty()) {
        const auto slash = rel.find('/');
        const std::string_view seg = rel.substr(0, slash);
        if (seg == "." || seg == "..") return false;
        if (slash == std::string_view::npos) break;
        rel.remove_prefix(slash + 1);
    }
    return true;
}

struct StaticDirectory {
    std::string root;  // canonical, no trailing slash
    std::string index;
    bool follow_symlinks;

    // Within the root, after resolving symlinks (unless they may lead anywhere).
    [[nodiscard]] bool contained(const std::string& path) const {
        if (follow_symlinks) return true;
        auto real = real_path(path);
        return real && (*real == root || (real->size() > root.size() && real->compare(0, root.size(), root) == 0 &&
                                           (*real)[root.size()] == '/'));
    }

    Response operator()(const Request& req) const {
        const std::string_view rel = req.path_param("path");
        if (!safe_relative(rel)) throw HTTPException(404, "Not Found");
        std::string path = root;
        path.append("/").append(rel);
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0 || !contained(path)) throw HTTPException(404, "Not Found");
        if (S_ISDIR(st.st_mode)) {
            if (index.empty()) throw HTTPException(404, "Not Found");
            if (!req.path().ends_with('/')) {
                std::string location = quote(req.path() + "/");
                if (!req.query_string().empty()) location.append("?").append(req.query_string());
                return Response::redirect(location, 301);
            }
            path.append(path.ends_with('/') ? "" : "/").append(index);
            if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || !contained(path)) {
                throw HTTPException(404, "Not Found");
            }
        }
        return Response::file(std::move(path));
    }
};

}  // namespace

App& App::add_static(std::string_view prefix, std::string_view directory, StaticOptions options) {
    auto root = real_path(std::string(directory));
    struct stat st {};
    if (!root || ::stat(root->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        throw ValueError(fmt::format("ValueError: add_static('{}', '{}'): '{}' is not a directory", prefix, directory,
                                     directory));
    }
    while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
    std::string pattern(prefix == "/" ? "" : prefix);
    pattern.append("/{path:path}");
    StaticDirectory serve{*root, std::string(options.index), options.follow_symlinks};
    add_route("GET", pattern, [serve = std::move(serve)](Request& req) -> Coro<Response> { co_return serve(req); });
    return *this;
}

}  // namespace aio::http
