// SPDX-License-Identifier: Apache-2.0
// Resident mode, the launcher's half (see resident.h and docs/resident.md).
//
// Every wait here has a deadline, so a stale socket file, a daemon that hangs or dies, never
// makes a plugin hang: before the daemon confirmed it runs the request ("go" was sent), any
// failure means "run it here"; after, an ADD is answered with error 11 and the other verbs
// (idempotent) run here.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "resident.h"

#define MAX_STDIN (10u * 1024u * 1024u)
// The daemon's first answer (accepted, or refused) comes as soon as it read the request; a daemon
// that has not answered by then is hung, or starved of CPU: either way the exec path is better.
#define ACK_TIMEOUT_MS 5000
// Sending the request: a daemon that stops reading for this long is not serving.
#define SEND_TIMEOUT_MS 5000
// After the daemon's announced deadline (its queue wait plus its run limit): it has hung.
#define GRACE_MS 5000
#define MAX_REPLY_FIELD (64u * 1024u * 1024u)

struct buf {
  unsigned char *data;
  size_t len, cap;
};

static int buf_reserve(struct buf *b, size_t more) {
  if (b->len + more <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more) cap *= 2;
  unsigned char *data = realloc(b->data, cap);
  if (data == NULL) return -1;
  b->data = data;
  b->cap = cap;
  return 0;
}

static int buf_put(struct buf *b, const void *data, size_t len) {
  if (buf_reserve(b, len) != 0) return -1;
  memcpy(b->data + b->len, data, len);
  b->len += len;
  return 0;
}

static int buf_u32(struct buf *b, uint32_t v) {
  unsigned char le[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
  return buf_put(b, le, 4);
}

static int buf_field(struct buf *b, const void *data, size_t len) {
  return buf_u32(b, (uint32_t)len) || buf_put(b, data, len);
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Wait for `events` on fd until the absolute deadline; 1 ready, 0 timed out, -1 error.
static int wait_fd(int fd, short events, long long deadline) {
  for (;;) {
    long long left = deadline - now_ms();
    if (left <= 0) return 0;
    struct pollfd p = {.fd = fd, .events = events};
    int r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) continue;
    return 1;
  }
}

static int send_all(int fd, const unsigned char *data, size_t len, long long deadline) {
  while (len > 0) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      len -= (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (wait_fd(fd, POLLOUT, deadline) != 1) return -1;
      continue;
    }
    return -1;
  }
  return 0;
}

static int recv_all(int fd, unsigned char *data, size_t len, long long deadline) {
  while (len > 0) {
    ssize_t n = recv(fd, data, len, 0);
    if (n > 0) {
      data += n;
      len -= (size_t)n;
      continue;
    }
    if (n == 0) return -1;  // the daemon closed: it went away
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (wait_fd(fd, POLLIN, deadline) != 1) return -1;
      continue;
    }
    return -1;
  }
  return 0;
}

// A reply frame: "CNB1", type, a number, two byte fields.
struct reply {
  char type;
  uint32_t number;
  unsigned char *one, *two;
  uint32_t one_len, two_len;
};

static void reply_free(struct reply *r) {
  free(r->one);
  free(r->two);
  r->one = r->two = NULL;
}

static int recv_field(int fd, unsigned char **out, uint32_t *len, long long deadline) {
  unsigned char le[4];
  if (recv_all(fd, le, 4, deadline) != 0) return -1;
  *len = get_u32(le);
  if (*len > MAX_REPLY_FIELD) return -1;
  *out = malloc(*len + 1);
  if (*out == NULL) return -1;
  if (recv_all(fd, *out, *len, deadline) != 0) return -1;
  (*out)[*len] = '\0';
  return 0;
}

static int recv_reply(int fd, struct reply *r, long long deadline) {
  unsigned char head[9];
  memset(r, 0, sizeof *r);
  if (recv_all(fd, head, sizeof head, deadline) != 0) return -1;
  if (memcmp(head, "CNB1", 4) != 0) return -1;
  r->type = (char)head[4];
  r->number = get_u32(head + 5);
  if (recv_field(fd, &r->one, &r->one_len, deadline) != 0) return -1;
  if (recv_field(fd, &r->two, &r->two_len, deadline) != 0) return -1;
  return 0;
}

static int write_all(int fd, const unsigned char *data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n > 0) {
      data += n;
      len -= (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      poll(&p, 1, -1);
    } else {
      return -1;
    }
  }
  return 0;
}

// Put the bytes read from stdin back, so that the runtime started next reads them from the start.
static int restore_stdin(const struct buf *in, int consumed) {
  if (!consumed) return 0;
  int fd = memfd_create("cni-bundle-stdin", MFD_CLOEXEC);
  if (fd < 0) return -1;
  if (write_all(fd, in->data, in->len) != 0 || lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, 0) != 0) {
    close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

// The CNI error an ADD gets when the daemon lost it midway, as upstream prints errors.
static int lost_add(const char *what) {
  printf("{\n    \"code\": 11,\n    \"msg\": \"cni-bundle: the resident daemon lost this ADD, try again later\",\n    \"details\": \"");
  for (const unsigned char *p = (const unsigned char *)what; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  printf("\"\n}");
  fflush(stdout);
  return 1;
}

static int connect_daemon(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) return -1;
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  // A Unix socket connects at once, or fails: no file, nobody listening, backlog full (EAGAIN).
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  // Only a daemon of root (or of our own user) may answer for a plugin.
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || (cred.uid != 0 && cred.uid != geteuid())) {
    close(fd);
    return -1;
  }
  return fd;
}

int resident_forward(const char *payload_id, const char *name, char **env) {
  const char *path = getenv("CNI_BUNDLE_SOCKET");
  if (path == NULL) path = CNI_BUNDLE_DEFAULT_SOCKET;
  if (*path == '\0' || strcmp(name, "cni-bundle") == 0 || name[0] == '.' || name[0] == '\0') return -1;

  int fd = connect_daemon(path);
  if (fd < 0) return -1;

  const char *verb = getenv("CNI_COMMAND");
  if (verb == NULL) verb = "";
  // The plugin reads stdin for every verb but VERSION (and the about text, without a verb).
  int consumed = verb[0] != '\0' && strcmp(verb, "VERSION") != 0;
  struct buf in = {0}, frame = {0};
  if (consumed) {
    // Up to one byte past the cap: the worker answers an oversized request as the plugin would.
    while (in.len <= MAX_STDIN) {
      if (buf_reserve(&in, 65536) != 0) goto local;
      size_t want = in.cap - in.len;
      if (want > MAX_STDIN + 1 - in.len) want = MAX_STDIN + 1 - in.len;
      ssize_t n = read(0, in.data + in.len, want);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      in.len += (size_t)n;
    }
  }

  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == NULL) cwd[0] = '\0';
  // The network namespace the plugin would run in: its "host". The daemon serves only callers in
  // its own (a runtime that runs plugins inside another namespace, `ip netns exec`, rootless
  // podman, gets the exec path).
  char netns[64] = "";
  struct stat ns;
  if (stat("/proc/self/ns/net", &ns) == 0) snprintf(netns, sizeof netns, "%lu:%lu", (unsigned long)ns.st_dev, (unsigned long)ns.st_ino);
  struct buf envs = {0};
  for (char **e = env; *e != NULL; e++) {
    if (buf_put(&envs, *e, strlen(*e) + 1) != 0) goto local;
  }
  if (buf_put(&frame, "CNB1", 4) || buf_u32(&frame, 0) ||
      buf_field(&frame, payload_id, strlen(payload_id)) || buf_field(&frame, name, strlen(name)) ||
      buf_field(&frame, cwd, strlen(cwd)) || buf_field(&frame, netns, strlen(netns)) || buf_field(&frame, envs.data, envs.len) ||
      buf_field(&frame, in.data, in.len)) {
    free(envs.data);
    goto local;
  }
  free(envs.data);
  uint32_t body = (uint32_t)(frame.len - 8);
  unsigned char le[4] = {body & 0xff, (body >> 8) & 0xff, (body >> 16) & 0xff, (body >> 24) & 0xff};
  memcpy(frame.data + 4, le, 4);

  struct reply r;
  if (send_all(fd, frame.data, frame.len, now_ms() + SEND_TIMEOUT_MS) != 0) goto local;
  if (recv_reply(fd, &r, now_ms() + ACK_TIMEOUT_MS) != 0 || r.type != 'A') {
    // Refused (another payload, busy, draining), or no answer in time: nothing ran.
    reply_free(&r);
    goto local;
  }
  long long deadline = now_ms() + (long long)r.number + GRACE_MS;
  reply_free(&r);
  // "Go": from here the daemon may run the request.
  if (send_all(fd, (const unsigned char *)"G", 1, now_ms() + SEND_TIMEOUT_MS) != 0) goto local;
  if (recv_reply(fd, &r, deadline) != 0) {
    reply_free(&r);
    r.type = 'F';
    r.one = (unsigned char *)strdup("the daemon closed the connection or stopped answering");
  }
  close(fd);
  fd = -1;
  if (r.type == 'D') {
    signal(SIGPIPE, SIG_IGN);
    write_all(2, r.two, r.two_len);
    write_all(1, r.one, r.one_len);
    int code = (int)r.number;
    reply_free(&r);
    free(in.data);
    free(frame.data);
    return code;
  }
  if (r.type == 'F' && strcmp(verb, "ADD") == 0) {
    int code = lost_add(r.one ? (const char *)r.one : "unknown");
    reply_free(&r);
    return code;
  }
  // 'R' (nothing ran), or an idempotent verb the daemon lost: run it here.
  reply_free(&r);

local:
  if (fd >= 0) close(fd);
  free(frame.data);
  if (restore_stdin(&in, consumed) != 0) {
    free(in.data);
    fprintf(stderr, "cni-bundle: cannot hand the request's stdin to the runtime: %s\n", strerror(errno));
    return lost_add("cannot restore stdin after the daemon declined");
  }
  free(in.data);
  return -1;
}
