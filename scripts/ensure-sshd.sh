#!/usr/bin/env bash
# Make sure OpenSSH's server and client are installed (Debian's openssh-server), for the tests that
# deploy through a real sshd (test/integration/sshd.ts starts one per test on a loopback port).
# Starts nothing: each test runs its own sshd with its own config and keys.
set -euo pipefail
if [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "ensure-sshd: /usr/sbin/sshd is missing and this is not root: apt-get install openssh-server openssh-client" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Debian's maintainer scripts would start the service: there is no init system here, and we want none.
if ! apt-get install -y -q --no-install-recommends openssh-server openssh-client >&2; then
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends openssh-server openssh-client >&2
fi
