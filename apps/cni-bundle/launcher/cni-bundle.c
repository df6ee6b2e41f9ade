// SPDX-License-Identifier: Apache-2.0
//
// The bundle's one executable. Every plugin name in /opt/cni/bin is a link to it; it starts the
// Node runtime that travels beside it on the bundle's dispatcher, with:
//   - an environment without NODE_* variables: a container runtime's environment must not change
//     plugin code or its speed (NODE_OPTIONS can load code, NODE_EXTRA_CA_CERTS costs a start);
//   - argv[0] kept as the runtime called us, so the dispatcher knows which plugin to run.
// It is C so that nothing runs before the environment is clean: Node reads NODE_OPTIONS before
// any JavaScript could drop it. Nothing here interprets user input; it only passes it on.
//
// Resident mode (docs/resident.md): before starting the runtime, it offers the request to the
// resident daemon (`cni-bundle daemon`) on a Unix socket. If a daemon of the same payload takes
// it, a warm worker runs the plugin and the launcher prints what the worker's run printed and
// exits with its status. Without a daemon (no socket, refused, another payload, busy, a stale
// socket file) it starts the runtime as it always did; a request the daemon lost midway is run
// again here unless it is an ADD (not idempotent: the runtime gets error 11, try again later).
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resident.h"

extern char **environ;

// The error a runtime can read when the runtime itself cannot start: the CNI error JSON, code 999.
static int fail(const char *what, const char *path) {
  const char *reason = strerror(errno);
  printf("{\"cniVersion\":\"1.1.0\",\"code\":999,\"msg\":\"cni-bundle: %s\",\"details\":\"%s: %s\"}\n", what, path, reason);
  fflush(stdout);
  return 1;
}

int main(int argc, char **argv) {
  // The bundle's folder: where this executable really is, links resolved. /proc/self/exe first;
  // without /proc (a bare chroot) the path we were started by.
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
  } else if (argc < 1 || realpath(argv[0], self) == NULL) {
    return fail("cannot find its own executable", argc > 0 ? argv[0] : "");
  }
  char *slash = strrchr(self, '/');
  if (slash == NULL) return fail("cannot find its own folder", self);
  *slash = '\0';

  char node[PATH_MAX], entry[PATH_MAX];
  if (snprintf(node, sizeof node, "%s/node", self) >= (int)sizeof node ||
      snprintf(entry, sizeof entry, "%s/main.cjs", self) >= (int)sizeof entry) {
    errno = ENAMETOOLONG;
    return fail("path too long", self);
  }

  size_t count = 0;
  while (environ[count] != NULL) count++;
  char **env = calloc(count + 1, sizeof *env);
  // argv: [argv0, main.cjs, args...]. No Node options: the V8 code caches are valid only for
  // the flags they were made with. (A user-land startup snapshot of the plugins was measured
  // slower to start than the code caches: 7 MB to deserialize.)
  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (env == NULL || args == NULL) return fail("out of memory", self);
  size_t kept = 0;
  for (size_t i = 0; i < count; i++) {
    if (strncmp(environ[i], "NODE_", 5) != 0) env[kept++] = environ[i];
  }
  env[kept] = NULL;

  int a = 0;
  args[a++] = argc > 0 ? argv[0] : "cni-bundle";
  args[a++] = entry;
  for (int i = 1; i < argc; i++) args[a++] = argv[i];
  args[a] = NULL;

  // The payload folder is `.cni-bundle-<id>`: its id is what the daemon must be running.
  const char *base = strrchr(self, '/');
  base = base == NULL ? self : base + 1;
  const char *name = strrchr(args[0], '/');
  name = name == NULL ? args[0] : name + 1;
  if (strncmp(base, ".cni-bundle-", 12) == 0 && argc <= 1) {
    int code = resident_forward(base + 12, name, env);
    if (code >= 0) return code;
  }

  execve(node, args, env);
  return fail("cannot start its runtime", node);
}
