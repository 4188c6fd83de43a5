/* TCP echo load generator for bench/echo (see README.md).
 *
 *   loadgen HOST PORT CONNECTIONS SIZE SECONDS
 *       Closed loop: every connection sends a SIZE-byte message and waits for all SIZE bytes of
 *       its echo before sending the next one. After a 1 s warm-up, prints "start", counts
 *       completed round trips for SECONDS, prints "end" and then one JSON line.
 *
 *   loadgen --tls HOST PORT CONNECTIONS SIZE SECONDS
 *       The same over TLS 1.3 (OpenSSL; TLS_AES_128_GCM_SHA256 only; the server's certificate is
 *       not verified). Each connection's handshake runs non-blocking in the epoll loop during
 *       the warm-up, which lasts until every handshake is done.
 *
 *   loadgen --idle HOST PORT N
 *       Opens N connections that stay idle and prints {"opened":N}. On a stdin line "check",
 *       sends 16 bytes on every connection, waits (at most 30 s) for the echoes, prints
 *       {"served":K}, closes everything and exits.
 *
 * Single thread, epoll, non-blocking sockets with TCP_NODELAY. Any failure is fatal: a message on
 * stderr and exit status 1. TLS needs building with -DECHO_TLS -lssl -lcrypto.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef ECHO_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

enum {
  WARMUP_SECONDS = 1,
  ECHO_TIMEOUT_SECONDS = 10,   /* a round trip that makes no progress this long is fatal */
  CONNECT_TIMEOUT_SECONDS = 60,
  CHECK_TIMEOUT_SECONDS = 30,
  CHECK_SIZE = 16,
  MAX_CONNECTING = 512,        /* non-blocking connects in flight at once */
  MAX_EVENTS = 512,
};

static char target[300];  /* "HOST:PORT", for messages */

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("loadgen: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long parse_long(const char *s, const char *what, long min, long max) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < min || v > max)
    die("bad %s '%s' (expected an integer in [%ld, %ld])", what, s, min, max);
  return v;
}

static void raise_nofile(long need) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < need)
    die("need about %ld file descriptors but RLIMIT_NOFILE is %ld (raise the hard limit, e.g. ulimit -Hn)",
        need, (long)rl.rlim_cur);
}

static void resolve(const char *host, const char *port, struct sockaddr_storage *addr, socklen_t *len) {
  struct addrinfo hints, *res;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0)
    die("cannot resolve %s: %s", target, gai_strerror(rc));
  memcpy(addr, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  freeaddrinfo(res);
}

struct conn {
  int fd;
  size_t sent;   /* bytes of the current message written so far */
  size_t recvd;  /* bytes of its echo read back so far */
  double since;  /* start of the current round trip, or its last progress */
  int done;      /* --idle check: echo complete or connection failed */
#ifdef ECHO_TLS
  SSL *ssl;      /* --tls: the connection's TLS state */
  int ready;     /* --tls: handshake complete */
#endif
};

static int socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
    return errno;
  return err;
}

#ifdef ECHO_TLS
static SSL_CTX *tls_ctx;  /* non-NULL with --tls */

/* OpenSSL's queued error, or errno for SSL_ERROR_SYSCALL, as text. */
static const char *tls_reason(int err) {
  static char text[256];
  unsigned long e = ERR_get_error();
  if (e) {
    ERR_error_string_n(e, text, sizeof text);
    return text;
  }
  if (err == SSL_ERROR_SYSCALL)
    return errno ? strerror(errno) : "unexpected end of stream";
  snprintf(text, sizeof text, "SSL error %d", err);
  return text;
}

static void tls_init(void) {
  tls_ctx = SSL_CTX_new(TLS_client_method());
  if (!tls_ctx)
    die("SSL_CTX_new: %s", tls_reason(0));
  /* The same record protection for every server: TLS 1.3 with AES-128-GCM only. */
  if (!SSL_CTX_set_min_proto_version(tls_ctx, TLS1_3_VERSION) ||
      !SSL_CTX_set_max_proto_version(tls_ctx, TLS1_3_VERSION) ||
      !SSL_CTX_set_ciphersuites(tls_ctx, "TLS_AES_128_GCM_SHA256"))
    die("configuring TLS 1.3: %s", tls_reason(0));
  SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);  /* a self-signed test certificate */
  SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/* Advances the handshake; returns 1 once it is complete. */
static int tls_handshake(struct conn *c, int i, double t) {
  if (c->ready)
    return 1;
  ERR_clear_error();
  int rc = SSL_connect(c->ssl);
  if (rc == 1) {
    c->ready = 1;
    c->since = t;
    return 1;
  }
  int err = SSL_get_error(c->ssl, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
    return 0;
  die("connection %d: TLS handshake with %s failed: %s", i + 1, target, tls_reason(err));
  return 0;
}
#endif

/* Opens n connections with non-blocking connects (at most MAX_CONNECTING in flight). */
static void open_all(const struct sockaddr_storage *addr, socklen_t addrlen, struct conn *c, int n) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0)
    die("epoll_create1: %s", strerror(errno));
  struct epoll_event evs[MAX_EVENTS];
  int next = 0, inflight = 0, opened = 0;
  double deadline = now() + CONNECT_TIMEOUT_SECONDS;
  while (opened < n) {
    while (next < n && inflight < MAX_CONNECTING) {
      int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0)
        die("socket() for connection %d of %d: %s", next + 1, n, strerror(errno));
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      c[next].fd = fd;
      if (connect(fd, (const struct sockaddr *)addr, addrlen) == 0) {
        opened++;
      } else if (errno == EINPROGRESS) {
        struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (unsigned)next};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
          die("epoll_ctl: %s", strerror(errno));
        inflight++;
      } else {
        die("connect to %s (connection %d of %d): %s", target, next + 1, n, strerror(errno));
      }
      next++;
    }
    if (inflight == 0)
      continue;
    int ms = (int)((deadline - now()) * 1000);
    if (ms <= 0)
      die("timed out: only %d of %d connections to %s open after %d s", opened, n, target,
          CONNECT_TIMEOUT_SECONDS);
    int k = epoll_wait(ep, evs, MAX_EVENTS, ms);
    if (k < 0 && errno != EINTR)
      die("epoll_wait: %s", strerror(errno));
    for (int e = 0; e < k; e++) {
      int i = (int)evs[e].data.u32;
      int err = socket_error(c[i].fd);
      if (err)
        die("connect to %s (connection %d of %d): %s", target, i + 1, n, strerror(err));
      epoll_ctl(ep, EPOLL_CTL_DEL, c[i].fd, NULL);
      inflight--;
      opened++;
    }
  }
  close(ep);
}

/* ---- closed-loop throughput ---------------------------------------------------------------- */

static char *msg;      /* the message every connection sends */
static char *rbuf;     /* scratch for reads */
static size_t msg_size;

static void pump_send(struct conn *c, int i) {
#ifdef ECHO_TLS
  if (c->ssl) {
    while (c->sent < msg_size) {
      ERR_clear_error();
      size_t n = 0;
      if (SSL_write_ex(c->ssl, msg + c->sent, msg_size - c->sent, &n)) {
        c->sent += n;
        continue;
      }
      int err = SSL_get_error(c->ssl, 0);
      if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ)
        return;  /* the next readiness event resumes */
      die("connection %d: SSL_write: %s", i + 1, tls_reason(err));
    }
    return;
  }
#endif
  while (c->sent < msg_size) {
    ssize_t n = send(c->fd, msg + c->sent, msg_size - c->sent, MSG_NOSIGNAL);
    if (n > 0) {
      c->sent += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;  /* the socket buffer is full: EPOLLOUT resumes */
    } else {
      die("connection %d: send: %s", i + 1, n < 0 ? strerror(errno) : "wrote 0 bytes");
    }
  }
}

/* Reads what has arrived; returns 1 when the echo of the current message is complete. */
static int pump_recv(struct conn *c, int i, double t) {
#ifdef ECHO_TLS
  if (c->ssl) {
    /* Until the echo is complete or OpenSSL wants more from the socket: a record it has
       read may hold more plaintext than one call returns. */
    while (c->recvd < msg_size) {
      size_t want = msg_size - c->recvd, n = 0;
      ERR_clear_error();
      if (SSL_read_ex(c->ssl, rbuf, want, &n)) {
        if (c->recvd + n > c->sent)
          die("connection %d: the server sent bytes that were not sent to it", i + 1);
        if (memcmp(rbuf, msg + c->recvd, n) != 0)
          die("connection %d: the echoed bytes differ from the bytes sent", i + 1);
        c->recvd += n;
        c->since = t;
        continue;
      }
      int err = SSL_get_error(c->ssl, 0);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        break;
      if (err == SSL_ERROR_ZERO_RETURN)
        die("connection %d closed by the server (%zu of %zu echo bytes received)", i + 1, c->recvd, msg_size);
      die("connection %d: SSL_read: %s", i + 1, tls_reason(err));
    }
    return c->recvd == msg_size;
  }
#endif
  while (c->recvd < msg_size) {
    size_t want = msg_size - c->recvd;
    ssize_t n = read(c->fd, rbuf, want);
    if (n > 0) {
      if (c->recvd + (size_t)n > c->sent)
        die("connection %d: the server sent bytes that were not sent to it", i + 1);
      if (memcmp(rbuf, msg + c->recvd, (size_t)n) != 0)
        die("connection %d: the echoed bytes differ from the bytes sent", i + 1);
      c->recvd += (size_t)n;
      c->since = t;
      if ((size_t)n < want)
        break;  /* the receive queue is empty; edge-triggered epoll reports the next arrival */
    } else if (n == 0) {
      die("connection %d closed by the server (%zu of %zu echo bytes received)", i + 1, c->recvd, msg_size);
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN) {
      break;
    } else {
      die("connection %d: read: %s", i + 1, strerror(errno));
    }
  }
  return c->recvd == msg_size;
}

static int run_bench(const struct sockaddr_storage *addr, socklen_t addrlen, int nconn, size_t size, int seconds) {
  msg_size = size;
  msg = malloc(size);
  rbuf = malloc(size);
  struct conn *conns = calloc((size_t)nconn, sizeof *conns);
  if (!msg || !rbuf || !conns)
    die("out of memory");
  for (size_t i = 0; i < size; i++)
    msg[i] = (char)('a' + (i * 7 + i / 26) % 26);

  open_all(addr, addrlen, conns, nconn);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0)
    die("epoll_create1: %s", strerror(errno));
  for (int i = 0; i < nconn; i++) {
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = (unsigned)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) != 0)
      die("epoll_ctl: %s", strerror(errno));
  }

  double t = now();
  int handshaking = 0;  /* --tls: connections whose handshake is not complete */
#ifdef ECHO_TLS
  if (tls_ctx) {
    for (int i = 0; i < nconn; i++) {
      SSL *ssl = SSL_new(tls_ctx);
      if (!ssl || !SSL_set_fd(ssl, conns[i].fd) || !SSL_set_tlsext_host_name(ssl, "localhost"))
        die("SSL_new: %s", tls_reason(0));
      conns[i].ssl = ssl;
      handshaking++;
    }
  }
#endif
  for (int i = 0; i < nconn; i++) {
    conns[i].since = t;
#ifdef ECHO_TLS
    if (conns[i].ssl) {
      if (!tls_handshake(&conns[i], i, t))
        continue;
      handshaking--;
    }
#endif
    pump_send(&conns[i], i);
  }

  int measuring = 0;
  double phase_end = t + WARMUP_SECONDS, t_start = 0, t_end = 0, next_check = t + 1;
  long long requests = 0;
  struct epoll_event evs[MAX_EVENTS];
  for (;;) {
    t = now();
    if (t >= phase_end && (measuring || handshaking == 0)) {
      if (measuring) {
        t_end = t;
        break;
      }
      measuring = 1;
      requests = 0;
      t_start = t;
      phase_end = t + seconds;
      fputs("start\n", stdout);
      fflush(stdout);
    }
    if (t >= next_check) {
      for (int i = 0; i < nconn; i++)
        if (t - conns[i].since > ECHO_TIMEOUT_SECONDS) {
#ifdef ECHO_TLS
          if (conns[i].ssl && !conns[i].ready)
            die("connection %d: TLS handshake with %s not done after %d s", i + 1, target, ECHO_TIMEOUT_SECONDS);
#endif
          die("connection %d: no echo progress for %d s (sent %zu of %zu bytes, got %zu back)", i + 1,
              ECHO_TIMEOUT_SECONDS, conns[i].sent, size, conns[i].recvd);
        }
      next_check = t + 1;
    }
    double wake = phase_end < next_check && (measuring || handshaking == 0) ? phase_end : next_check;
    int ms = (int)((wake - t) * 1000) + 1;
    int k = epoll_wait(ep, evs, MAX_EVENTS, ms);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      die("epoll_wait: %s", strerror(errno));
    }
    if (k > 0)
      t = now();
    for (int e = 0; e < k; e++) {
      int i = (int)evs[e].data.u32;
      struct conn *c = &conns[i];
      if (evs[e].events & EPOLLERR) {
        int err = socket_error(c->fd);
        die("connection %d: %s", i + 1, err ? strerror(err) : "socket error");
      }
#ifdef ECHO_TLS
      if (c->ssl && !c->ready) {
        if (!tls_handshake(c, i, t))
          continue;
        handshaking--;  /* a handshake finished: start the first message */
        pump_send(c, i);
      }
      if (c->ssl) {
        /* OpenSSL may need either direction for either operation: try both on any event. */
        if (c->sent < size)
          pump_send(c, i);
        if (pump_recv(c, i, t)) {
          requests++;
          c->sent = c->recvd = 0;
          c->since = t;
          pump_send(c, i);
        }
        continue;
      }
#endif
      if ((evs[e].events & EPOLLOUT) && c->sent < size)
        pump_send(c, i);
      if ((evs[e].events & (EPOLLIN | EPOLLHUP)) && pump_recv(c, i, t)) {
        requests++;
        c->sent = c->recvd = 0;
        c->since = t;
        pump_send(c, i);
      }
    }
  }
  fputs("end\n", stdout);
  double elapsed = t_end - t_start;
  printf("{\"connections\":%d,\"size\":%zu,\"seconds\":%d,\"requests\":%lld,\"rps\":%.1f,\"elapsed\":%.4f}\n",
         nconn, size, seconds, requests, (double)requests / elapsed, elapsed);
  fflush(stdout);
  for (int i = 0; i < nconn; i++) {
#ifdef ECHO_TLS
    if (conns[i].ssl) {
      SSL_shutdown(conns[i].ssl);  /* sends close_notify (non-blocking, not waited for) */
      SSL_free(conns[i].ssl);
    }
#endif
    close(conns[i].fd);
  }
  close(ep);
  return 0;
}

/* ---- idle connections (C10K) ----------------------------------------------------------------- */

static int check_idle(struct conn *conns, int n) {
  static const char probe[CHECK_SIZE] = "0123456789abcdef";
  char buf[CHECK_SIZE];
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0)
    die("epoll_create1: %s", strerror(errno));
  int served = 0, failed = 0, done = 0;
  for (int i = 0; i < n; i++) {
    struct conn *c = &conns[i];
    c->recvd = 0;
    c->done = 0;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = (unsigned)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
      die("epoll_ctl: %s", strerror(errno));
    ssize_t w = send(c->fd, probe, CHECK_SIZE, MSG_NOSIGNAL);
    if (w != CHECK_SIZE) {
      c->done = 1;
      failed++;
      done++;
    }
  }
  double deadline = now() + CHECK_TIMEOUT_SECONDS;
  struct epoll_event evs[MAX_EVENTS];
  while (done < n) {
    int ms = (int)((deadline - now()) * 1000);
    if (ms <= 0)
      break;
    int k = epoll_wait(ep, evs, MAX_EVENTS, ms);
    if (k < 0 && errno != EINTR)
      die("epoll_wait: %s", strerror(errno));
    for (int e = 0; e < k; e++) {
      int i = (int)evs[e].data.u32;
      struct conn *c = &conns[i];
      while (!c->done) {
        ssize_t r = read(c->fd, buf, CHECK_SIZE - c->recvd);
        if (r > 0 && memcmp(buf, probe + c->recvd, (size_t)r) == 0) {
          c->recvd += (size_t)r;
          if (c->recvd == CHECK_SIZE) {
            c->done = 1;
            served++;
            done++;
          }
        } else if (r < 0 && errno == EINTR) {
          continue;
        } else if (r < 0 && errno == EAGAIN) {
          break;
        } else {  /* closed, reset, or wrong bytes */
          c->done = 1;
          failed++;
          done++;
        }
      }
    }
  }
  if (served < n)
    fprintf(stderr, "loadgen: check: %d of %d served, %d closed/reset/wrong, %d no echo within %d s\n", served, n,
            failed, n - served - failed, CHECK_TIMEOUT_SECONDS);
  close(ep);
  return served;
}

static int run_idle(const struct sockaddr_storage *addr, socklen_t addrlen, int n) {
  struct conn *conns = calloc((size_t)n, sizeof *conns);
  if (!conns)
    die("out of memory");
  open_all(addr, addrlen, conns, n);
  printf("{\"opened\":%d}\n", n);
  fflush(stdout);
  char line[256];
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "check", 5) == 0) {
      int served = check_idle(conns, n);
      printf("{\"served\":%d}\n", served);
      fflush(stdout);
      break;
    }
  }
  for (int i = 0; i < n; i++)
    close(conns[i].fd);
  return 0;
}

static void usage(void) {
  fputs("usage: loadgen [--tls] HOST PORT CONNECTIONS SIZE SECONDS\n"
        "       loadgen --idle HOST PORT N\n",
        stderr);
  exit(2);
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  struct sockaddr_storage addr;
  socklen_t addrlen;
  if (argc == 5 && strcmp(argv[1], "--idle") == 0) {
    snprintf(target, sizeof target, "%s:%s", argv[2], argv[3]);
    int n = (int)parse_long(argv[4], "N", 1, 10000000);
    raise_nofile(n + 16L);
    resolve(argv[2], argv[3], &addr, &addrlen);
    return run_idle(&addr, addrlen, n);
  }
  if (argc == 7 && strcmp(argv[1], "--tls") == 0) {
#ifdef ECHO_TLS
    tls_init();
    argv++;
    argc--;
#else
    die("--tls: this loadgen was built without TLS (build with -DECHO_TLS -lssl -lcrypto)");
#endif
  }
  if (argc != 6)
    usage();
  snprintf(target, sizeof target, "%s:%s", argv[1], argv[2]);
  int nconn = (int)parse_long(argv[3], "CONNECTIONS", 1, 10000000);
  size_t size = (size_t)parse_long(argv[4], "SIZE", 1, 64L << 20);
  int seconds = (int)parse_long(argv[5], "SECONDS", 1, 86400);
  raise_nofile(nconn + 16L);
  resolve(argv[1], argv[2], &addr, &addrlen);
  return run_bench(&addr, addrlen, nconn, size, seconds);
}
