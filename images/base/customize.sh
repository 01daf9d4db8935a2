#!/usr/bin/env bash
# Turns a fresh `debootstrap --variant=minbase` tree into Slipway's base image root.
# Runs on the host against the directory (no chroot needed): file edits only.
# Usage: customize.sh ROOTFS MIRROR SECURITY_MIRROR
set -euo pipefail
root="$1" mirror="$2" security="$3"
[ -x "$root/bin/busybox" ] || { echo "customize: $root has no busybox (debootstrap --include=busybox-static)" >&2; exit 1; }

# Same mirror as the build machine, plus updates and security, so images get patched packages.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC

# Slim later installs the way Debian's own container images do: no docs, man pages, locales or
# recommends, and no service starts inside `docker build`.
cat >"$root/etc/dpkg/dpkg.cfg.d/slipway-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
cat >"$root/etc/apt/apt.conf.d/90slipway" <<'CFG'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Acquire::Retries "3";
CFG
# Downloaded .debs and apt's binary caches would stay in every layer that runs apt-get.
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"

# The healthcheck convention (images/README.md): `wget` on PATH in every image. busybox's applet
# accepts the same `wget -q -O /dev/null URL` as GNU wget and Alpine's busybox.
ln -sf /bin/busybox "$root/usr/local/bin/wget"

find "$root/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/var/log/apt/* \
    "$root"/tmp/* "$root"/var/tmp/*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
# Docker provides these per container; debootstrap copied the build host's.
: >"$root/etc/resolv.conf"
echo localhost >"$root/etc/hostname"
rm -f "$root/etc/machine-id" && : >"$root/etc/machine-id"
