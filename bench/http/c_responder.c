/* Minimal single-thread epoll HTTP/1.1 keep-alive responder: the practical limit for bench/http
 * (see README.md), and the server every client program of the client benchmark talks to.
 *
 *   c_responder PORT
 *
 * Listens on 127.0.0.1:PORT and prints "ready" once listening. It does not look at what it is
 * asked: every request head (bytes up to and including an empty line, "\r\n\r\n") gets the same
 * 200 response with the JSON body {"message":"Hello, World!"} and keep-alive. Requests must not
 * carry a body. Pipelined requests are answered in order, all responses for one read going out in
 * as few send() calls as possible. A head split over several reads is kept per connection until it
 * is complete (at most 8 KiB; a longer one closes the connection).
 *
 * Edge-triggered, non-blocking sockets, one shared 64 KiB read buffer; only the unsent rest of a
 * short write is kept per connection and flushed on EPOLLOUT before the connection reads again.
 * The Date header is formatted at most once per second.
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
#include <time.h>
#include <unistd.h>

enum {
  READ_SIZE = 65536,
  MAX_HEAD = 8192,   /* longest request head kept across reads */
  BATCH = 256,       /* responses formatted per send() */
};

static const char BODY[] = "{\"message\":\"Hello, World!\"}";

struct conn {
  int fd;
  char *in;    /* start of an incomplete request head (MAX_HEAD bytes when allocated) */
  size_t inlen;
  char *out;   /* bytes still to be written */
  size_t off, len, cap;
};

static char buf[MAX_HEAD + READ_SIZE];
static char response[256];
static size_t response_len;
static time_t response_time = -1;
static char batch[BATCH * sizeof response];

static void fail(const char *what) {
  fprintf(stderr, "c_responder: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Re-formats the response when the second has changed (the Date header). */
static void refresh_response(void) {
  time_t t = time(NULL);
  if (t == response_time)
    return;
  response_time = t;
  struct tm tm;
  gmtime_r(&t, &tm);
  char date[64];
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  response_len = (size_t)snprintf(response, sizeof response,
                                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                  "Content-Length: %zu\r\nDate: %s\r\n\r\n%s",
                                  sizeof BODY - 1, date, BODY);
  /* Refill the batch so that a run of responses is one memcpy-free send. */
  for (int i = 0; i < BATCH; i++)
    memcpy(batch + (size_t)i * response_len, response, response_len);
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

/* Sends n bytes, or queues what the socket does not take; -1 when the connection is broken. */
static int emit(struct conn *c, const char *p, size_t n) {
  if (c->off < c->len)  /* earlier bytes still queued: keep the order */
    return append(c, p, n);
  ssize_t w;
  do
    w = send(c->fd, p, n, MSG_NOSIGNAL);
  while (w < 0 && errno == EINTR);
  if (w < 0) {
    if (errno != EAGAIN)
      return -1;
    w = 0;
  }
  if ((size_t)w < n)
    return append(c, p + w, n - (size_t)w);
  return 0;
}

/* Answers `count` requests. */
static int respond(struct conn *c, size_t count) {
  refresh_response();
  while (count > 0) {
    size_t k = count < BATCH ? count : BATCH;
    if (emit(c, batch, k * response_len) != 0)
      return -1;
    count -= k;
  }
  return 0;
}

/* Makes all the progress possible on one connection; returns -1 when it should be closed. */
static int serve(struct conn *c) {
  for (;;) {
    while (c->off < c->len) {
      ssize_t w = send(c->fd, c->out + c->off, c->len - c->off, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR)
          continue;
        return errno == EAGAIN ? 0 : -1;  /* still full: wait for EPOLLOUT */
      }
      c->off += (size_t)w;
    }
    c->off = c->len = 0;

    /* The kept partial head goes first, so that a "\r\n\r\n" split by the read is found. */
    size_t have = c->inlen;
    if (have)
      memcpy(buf, c->in, have);
    ssize_t n = read(c->fd, buf + have, READ_SIZE);
    if (n == 0)
      return -1;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno == EAGAIN ? 0 : -1;
    }
    size_t total = have + (size_t)n, start = 0, count = 0;
    /* A terminator may begin up to 3 bytes before the new data. */
    size_t from = have > 3 ? have - 3 : 0;
    for (;;) {
      char *end = memmem(buf + from, total - from, "\r\n\r\n", 4);
      if (!end)
        break;
      count++;
      start = (size_t)(end - buf) + 4;
      from = start;
    }
    size_t rest = total - start;
    if (rest > MAX_HEAD)
      return -1;
    if (rest) {
      if (!c->in && !(c->in = malloc(MAX_HEAD)))
        return -1;
      memmove(c->in, buf + start, rest);
    }
    c->inlen = rest;
    if (count && respond(c, count) != 0)
      return -1;
    if ((size_t)n < READ_SIZE)
      return 0;  /* receive queue drained; the next arrival raises a new edge */
  }
}

static void close_conn(struct conn *c) {
  close(c->fd);  /* also removes it from the epoll set */
  free(c->in);
  free(c->out);
  free(c);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fputs("usage: c_responder PORT\n", stderr);
    return 2;
  }
  char *end;
  long port = strtol(argv[1], &end, 10);
  if (*end || end == argv[1] || port < 0 || port > 65535) {
    fprintf(stderr, "c_responder: bad port '%s'\n", argv[1]);
    return 2;
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
    fprintf(stderr, "c_responder: bind 127.0.0.1:%ld: %s\n", port, strerror(errno));
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
  refresh_response();
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
        if (serve(c) != 0)
          close_conn(c);
        continue;
      }
      /* The listener is level-triggered: accept a batch, epoll reports the rest. */
      for (int a = 0; a < 256; a++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            fprintf(stderr, "c_responder: accept: %s\n", strerror(errno));
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
        struct epoll_event cev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) != 0) {
          close_conn(c);
          continue;
        }
      }
    }
  }
}
