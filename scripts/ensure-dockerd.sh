#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine, starting one if needed.
#
# Machines here have no systemd and no daemon running: CI and every new session start cold. So:
#   1. `docker info` answers -> exit 0 at once (the common, fast path).
#   2. dockerd missing -> install Debian's docker.io (root, non-interactive).
#   3. start dockerd detached (own session, survives this shell), logs to $SLIPWAY_DOCKERD_LOG,
#      wait up to $SLIPWAY_DOCKERD_WAIT seconds for `docker info`.
#   4. it died or never answered -> retry once with the vfs storage driver (overlay2 fails when
#      /var/lib/docker itself sits on overlayfs, as in nested containers), then once more without
#      iptables management (kernels without nf_tables/legacy iptables). Print the log tail and exit 1
#      when all fail.
# Measured on the Firecracker VM this project runs on (kernel 6.x, cgroup v1 hybrid, ext4 root):
# plain `dockerd` works with overlay2 and iptables (nf_tables) and answers in ~2 s.
set -euo pipefail

log() { echo "ensure-dockerd: $*" >&2; }

LOG_FILE="${SLIPWAY_DOCKERD_LOG:-/var/log/slipway-dockerd.log}"
WAIT_S="${SLIPWAY_DOCKERD_WAIT:-60}"

answers() { timeout 10 docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && answers; then
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    log "no Docker engine answers and this is not root, so one cannot be started here"
    exit 1
fi

# Two test runs starting at once must not start two daemons.
mkdir -p "$(dirname "$LOG_FILE")"
exec 9>"${LOG_FILE}.lock"
flock -w "$((WAIT_S + 30))" 9 || { log "timed out waiting for another ensure-dockerd"; exit 1; }
if command -v docker >/dev/null 2>&1 && answers; then
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    log "installing Debian's docker.io"
    export DEBIAN_FRONTEND=noninteractive
    # A stale or empty package list is the usual cause of a failed install: refresh once, retry.
    if ! apt-get install -y --no-install-recommends docker.io iptables >&2; then
        apt-get update >&2
        apt-get install -y --no-install-recommends docker.io iptables >&2
    fi
fi

# A daemon that is running but not answering yet (started by someone else a moment ago) is
# waited for, not duplicated.
if pgrep -x dockerd >/dev/null 2>&1; then
    log "dockerd is running but not answering yet; waiting"
    for _ in $(seq 1 "$WAIT_S"); do answers && exit 0; sleep 1; done
    log "the running dockerd (pid $(pgrep -x dockerd | tr '\n' ' ')) never answered; see $LOG_FILE"
    tail -n 40 "$LOG_FILE" >&2 2>/dev/null || true
    exit 1
fi

start_and_wait() {
    log "starting dockerd $* (log: $LOG_FILE)"
    # A pid file left by a daemon that died with the previous machine session blocks a new start.
    if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        rm -f /var/run/docker.pid
    fi
    { echo "---- $(date -u +%FT%TZ) dockerd $*"; } >>"$LOG_FILE"
    setsid nohup dockerd "$@" >>"$LOG_FILE" 2>&1 </dev/null &
    local pid=$! start=$SECONDS
    while [ $((SECONDS - start)) -lt "$WAIT_S" ]; do
        if answers; then
            log "dockerd (pid $pid) answers after $((SECONDS - start)) s: $(docker info --format '{{.ServerVersion}}, storage {{.Driver}}, cgroup {{.CgroupDriver}} v{{.CgroupVersion}}' 2>/dev/null)"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || { log "dockerd exited during start"; return 1; }
        sleep 1
    done
    log "dockerd did not answer within ${WAIT_S} s; stopping it"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 15); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    return 1
}

start_and_wait && exit 0
start_and_wait --storage-driver=vfs && exit 0
start_and_wait --storage-driver=vfs --iptables=false && exit 0

log "no configuration of dockerd came up; last lines of $LOG_FILE:"
tail -n 40 "$LOG_FILE" >&2 || true
exit 1
