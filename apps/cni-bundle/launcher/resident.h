// SPDX-License-Identifier: Apache-2.0
// The launcher's side of resident mode: offer the request to the daemon, relay its answer.
// The frame format is written down in docs/resident.md and in src/daemon/protocol.ts.
#ifndef CNI_BUNDLE_RESIDENT_H
#define CNI_BUNDLE_RESIDENT_H

// Where the daemon listens unless CNI_BUNDLE_SOCKET says otherwise (empty: resident mode off).
#ifndef CNI_BUNDLE_DEFAULT_SOCKET
#define CNI_BUNDLE_DEFAULT_SOCKET "/run/cni-bundle/daemon.sock"
#endif

/*
 * Hand the request of plugin `name` (environment `env`, NODE_* already removed; stdin; the
 * working folder) to a daemon running payload `payload_id`. Returns the exit status to end with
 * once the daemon's run was relayed (or an ADD it lost was answered with error 11), or -1 when
 * the caller must start the runtime itself; stdin then still reads the request's bytes from the
 * start (they are put back in a memory file when this function had read them).
 */
int resident_forward(const char *payload_id, const char *name, char **env);

#endif
