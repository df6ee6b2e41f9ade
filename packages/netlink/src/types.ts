// SPDX-License-Identifier: Apache-2.0

/** Picks a link by its name, its index, or its alias (`ip link set dev X alias A`). */
export type LinkSelector = { readonly name: string } | { readonly index: number } | { readonly alias: string };

/**
 * A network namespace to act in or move a link to: the path of its nsfs file
 * (`/var/run/netns/c1`, `/proc/123/ns/net`) or an open file descriptor of one.
 */
export type NetnsRef = string | number;
