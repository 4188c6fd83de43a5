/* Minimal single-thread epoll TCP echo server: the practical limit for bench/echo (see README.md).
 *
 *   c_server PORT
 *   c_server PORT --tls CERT KEY
 *
 * Listens on 127.0.0.1:PORT and prints "ready" once listening. Edge-triggered, non-blocking
 * sockets; each connection reads into one shared 64 KiB buffer and writes the bytes straight
 * back. Only when a write is short is the rest copied into a per-connection buffer, which is
 * flushed on EPOLLOUT before the connection reads again.
 *
 * With --tls (built with -DECHO_TLS -lssl -lcrypto) the same over OpenSSL on the non-blocking
 * socket: SSL_accept until the handshake is done, then SSL_read until OpenSSL wants more input,
 * writing every chunk straight back with SSL_write (partial writes on).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef ECHO_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

struct conn {
  int fd;
  char *out;  /* bytes still to be written */
  size_t off, len, cap;
#ifdef ECHO_TLS
  SSL *ssl;   /* --tls */
  int ready;  /* handshake complete */
#endif
};

static char buf[65536];

static void fail(const char *what) {
  fprintf(stderr, "c_server: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int append(struct conn *c, const char *p, size_t n) {
  if (c->len + n > c->cap) {
    size_t cap = c->cap ? c->cap : 4096;
    while (cap < c->len + n)
      cap *= 2;
    char *q = realloc(c->out, cap);
    if (!q)
      return -1;
    c->out = q;
    c->cap = cap;
  }
  memcpy(c->out + c->len, p, n);
  c->len += n;
  return 0;
}

/* Makes all the progress possible on one connection; returns -1 when it should be closed. */
static int serve(struct conn *c) {
  for (;;) {
    if (c->off < c->len) {
      ssize_t w = send(c->fd, c->out + c->off, c->len - c->off, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR)
          continue;
        return errno == EAGAIN ? 0 : -1;
      }
      c->off += (size_t)w;
      if (c->off < c->len)
        return 0;  /* still full: wait for EPOLLOUT */
      c->off = c->len = 0;
    }
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n == 0)
      return -1;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno == EAGAIN ? 0 : -1;
    }
    ssize_t w = send(c->fd, buf, (size_t)n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno != EAGAIN && errno != EINTR)
        return -1;
      w = 0;
    }
    if (w < n && append(c, buf + w, (size_t)(n - w)) != 0)
      return -1;
    if ((size_t)n < sizeof buf)
      return 0;  /* receive queue drained; the next arrival raises a new edge */
  }
}

#ifdef ECHO_TLS
static SSL_CTX *tls_ctx;  /* non-NULL with --tls */

/* 1: done; 0: OpenSSL waits for the socket; -1: failed, close the connection. */
static int tls_status(struct conn *c, int rc) {
  int err = SSL_get_error(c->ssl, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
    return 0;
  ERR_clear_error();
  return -1;
}

/* serve() for a TLS connection. */
static int serve_tls(struct conn *c) {
  if (!c->ready) {
    int rc = SSL_accept(c->ssl);
    if (rc != 1)
      return tls_status(c, rc) == 0 ? 0 : -1;
    c->ready = 1;
  }
  for (;;) {
    size_t w;
    while (c->off < c->len) {
      if (!SSL_write_ex(c->ssl, c->out + c->off, c->len - c->off, &w))
        return tls_status(c, 0);  /* the retry presents the same bytes, as OpenSSL requires */
      c->off += w;
    }
    c->off = c->len = 0;
    size_t n;
    if (!SSL_read_ex(c->ssl, buf, sizeof buf, &n))
      return tls_status(c, 0);  /* WANT_READ: drained; ZERO_RETURN or an error: close */
    size_t done = 0;
    while (done < n && SSL_write_ex(c->ssl, buf + done, n - done, &w))
      done += w;
    if (done < n) {
      if (tls_status(c, 0) != 0 || append(c, buf + done, n - done) != 0)
        return -1;
      return 0;  /* wait for the socket before reading more */
    }
  }
}
#endif

static void close_conn(struct conn *c) {
#ifdef ECHO_TLS
  if (c->ssl)
    SSL_free(c->ssl);
#endif
  close(c->fd);  /* also removes it from the epoll set */
  free(c->out);
  free(c);
}

int main(int argc, char **argv) {
  if (argc != 2 && !(argc == 5 && strcmp(argv[2], "--tls") == 0)) {
    fputs("usage: c_server PORT [--tls CERT KEY]\n", stderr);
    return 2;
  }
  char *end;
  long port = strtol(argv[1], &end, 10);
  if (*end || end == argv[1] || port < 0 || port > 65535) {
    fprintf(stderr, "c_server: bad port '%s'\n", argv[1]);
    return 2;
  }
  if (argc == 5) {
#ifdef ECHO_TLS
    tls_ctx = SSL_CTX_new(TLS_server_method());
    if (!tls_ctx || SSL_CTX_use_certificate_chain_file(tls_ctx, argv[3]) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls_ctx, argv[4], SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(tls_ctx) != 1) {
      char why[256];
      ERR_error_string_n(ERR_get_error(), why, sizeof why);
      fprintf(stderr, "c_server: loading certificate %s and key %s: %s\n", argv[3], argv[4], why);
      return 1;
    }
    SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#else
    fputs("c_server: --tls: built without TLS (build with -DECHO_TLS -lssl -lcrypto)\n", stderr);
    return 2;
#endif
  }
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0)
    fail("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    fprintf(stderr, "c_server: bind 127.0.0.1:%ld: %s\n", port, strerror(errno));
    return 1;
  }
  if (listen(lfd, 4096) != 0)
    fail("listen");

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0)
    fail("epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};  /* NULL marks the listener */
  if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0)
    fail("epoll_ctl");
  puts("ready");
  fflush(stdout);

  struct epoll_event evs[1024];
  for (;;) {
    int k = epoll_wait(ep, evs, 1024, -1);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      fail("epoll_wait");
    }
    for (int e = 0; e < k; e++) {
      struct conn *c = evs[e].data.ptr;
      if (c) {
#ifdef ECHO_TLS
        if (c->ssl) {
          if (serve_tls(c) != 0)
            close_conn(c);
          continue;
        }
#endif
        if (serve(c) != 0)
          close_conn(c);
        continue;
      }
      /* The listener is level-triggered: accept a batch, epoll reports the rest. */
      for (int a = 0; a < 256; a++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            fprintf(stderr, "c_server: accept: %s\n", strerror(errno));
            usleep(1000);
          } else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
            fail("accept");
          }
          break;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c = calloc(1, sizeof *c);
        if (!c) {
          close(fd);
          continue;
        }
        c->fd = fd;
#ifdef ECHO_TLS
        if (tls_ctx && (!(c->ssl = SSL_new(tls_ctx)) || !SSL_set_fd(c->ssl, fd))) {
          close_conn(c);
          continue;
        }
#endif
        struct epoll_event cev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) != 0) {
          close_conn(c);
          continue;
        }
      }
    }
  }
}
