# SPDX-License-Identifier: Apache-2.0
# Shared set-up of the README's two commands: system packages through apt-get when missing,
# pnpm at the version package.json pins, and the workspace's npm dependencies.

# What the tests and the demo need from Debian. Kept in one place so the two commands agree.
CNI_TEST_APT_PACKAGES=(
  iproute2 nftables iptables conntrack iputils-ping
  libnl-3-200 libnl-route-3-200
  containernetworking-plugins
  qemu-system-x86 linux-image-cloud-amd64 busybox-static e2fsprogs cpio kmod
  firewalld
  dnsmasq-base
  podman runc
  containerd
  patchelf strace
  gcc libc6-dev
  linux-headers-cloud-amd64 linux-source-6.1 make xz-utils
  etcd-server etcd-client
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
)
CNI_DEMO_APT_PACKAGES=(
  iproute2 nftables iptables iputils-ping libnl-3-200 libnl-route-3-200
  patchelf gcc libc6-dev
)

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nerror: %s\n' "$*" >&2; exit 1; }

setup_system_packages() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    fail "missing Debian packages (${missing[*]}); run as root so they can be installed"
  fi
  step "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Daemons among these (firewalld, later dnsmasq) must not start on the machine's own network:
  # tests start their own copies inside namespaces they make. A policy-rc.d that refuses every
  # start is what Debian provides for that; one is put in place for the install if none exists.
  local policy=/usr/sbin/policy-rc.d placed=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && placed=1
  fi
  command -v systemctl >/dev/null && systemctl mask firewalld.service >/dev/null 2>&1
  apt-get update -q || fail "apt-get update failed"
  apt-get install -y -q --no-install-recommends "${missing[@]}" || { [ -n "$placed" ] && rm -f "$policy"; fail "apt-get install failed"; }
  [ -n "$placed" ] && rm -f "$policy"
  return 0
}

setup_node_dependencies() {
  local want
  want=$(node -p "require('./package.json').packageManager.split('@')[1]")
  if ! command -v pnpm >/dev/null || [ "$(pnpm --version 2>/dev/null)" != "$want" ]; then
    step "npm install -g pnpm@$want"
    npm install -g --no-fund --no-audit "pnpm@$want" >/dev/null || fail "could not install pnpm $want"
  fi
  step "pnpm install"
  pnpm install --frozen-lockfile || fail "pnpm install failed"
}
