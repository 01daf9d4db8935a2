#!/usr/bin/env bash
# Build Slipway's local images without any registry, cached by content hash.
#
#   scripts/build-images.sh [base|postgres|caddy|prometheus|alertmanager|api|pebble|pgbackup|versitygw|valkey|go ...]
#   (default: all but go, the Go toolchain image only the package-gateway test builds with)
#
# Every tag ends in a hash of everything that went into the image (recipe files, base tag, binary),
# so an unchanged image is found by `docker image inspect` and nothing is rebuilt: a warm run takes
# seconds. The base is `debootstrap --variant=minbase bookworm` from the mirror this machine's apt
# uses, imported with `docker import`; the others are `docker build`s FROM it (images/*/Dockerfile).
# Go binaries (API, Caddy, Pebble) are built on the host, since no golang image can be pulled.
#
# Output: a summary of tags on stdout and KEY=VALUE lines in $SLIPWAY_CACHE/images.env:
#   SLIPWAY_IMAGE_BASE, SLIPWAY_IMAGE_POSTGRES, SLIPWAY_IMAGE_CADDY, SLIPWAY_IMAGE_PROMETHEUS,
#   SLIPWAY_IMAGE_ALERTMANAGER, SLIPWAY_IMAGE_API, SLIPWAY_IMAGE_PEBBLE (the ACME test's CA), SLIPWAY_IMAGE_PGBACKUP (FROM
#   postgres, plus age and rclone), SLIPWAY_IMAGE_VERSITYGW (an S3 server for tests), SLIPWAY_IMAGE_VALKEY (ManagedCache: Valkey
#   and its exporter), SLIPWAY_IMAGE_GO. Caches (rootfs tarball, binaries, build logs) live in $SLIPWAY_CACHE.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SLIPWAY_CACHE:-$HOME/.cache/slipway}"
IMG_CACHE="$CACHE/images"
LOGS="$IMG_CACHE/logs"
ENV_FILE="$CACHE/images.env"
# Debian's docker.io (20.10) has no BuildKit plugin; the classic builder needs nothing extra.
export DOCKER_BUILDKIT=0
T0=$SECONDS

log() { echo "build-images: $*" >&2; }
die() { log "$*"; exit 1; }
short() { sha256sum | cut -c1-12; }

ALL=(base postgres caddy prometheus alertmanager api pebble pgbackup versitygw valkey go)
DEFAULT=(base postgres caddy prometheus alertmanager api pebble pgbackup versitygw valkey)
if [ "$#" -eq 0 ]; then WANT=("${DEFAULT[@]}"); else WANT=("$@"); fi
for w in "${WANT[@]}"; do
    case " ${ALL[*]} " in *" $w "*) ;; *) die "unknown image '$w' (known: ${ALL[*]})" ;; esac
done
wants() { case " ${WANT[*]} " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

mkdir -p "$IMG_CACHE" "$LOGS"
# One build at a time per cache: two test runs starting together would race on the same tags.
exec 8>"$IMG_CACHE/.lock"
flock -w 1200 8 || die "another build-images.sh holds $IMG_CACHE/.lock"

bash "$REPO/scripts/ensure-dockerd.sh"

# ---- mirrors: the ones this machine's apt already uses (the only Debian hosts reachable) ----
detect_mirrors() {
    local files=() f
    for f in /etc/apt/sources.list.d/*.sources; do [ -f "$f" ] && files+=("$f"); done
    MIRROR="" SECURITY_MIRROR=""
    if [ "${#files[@]}" -gt 0 ]; then
        # deb822 stanzas: the first URI of the stanza whose Suites name bookworm / bookworm-security.
        read -r MIRROR SECURITY_MIRROR < <(awk '
            function flush() { if (uri != "" && types ~ /(^| )deb( |$)/) {
                    if (suites ~ /(^| )bookworm( |$)/ && m == "") m = uri
                    if (suites ~ /(^| )bookworm-security( |$)/ && s == "") s = uri }
                uri = ""; suites = ""; types = "" }
            /^[ \t]*$/ { flush(); next }
            /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
            /^URIs:/ { sub(/^URIs:[ \t]*/, ""); split($0, u, /[ \t]+/); uri = u[1] }
            /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
            END { flush(); print (m == "" ? "-" : m), (s == "" ? "-" : s) }' "${files[@]}")
        [ "$MIRROR" = "-" ] && MIRROR=""
        [ "$SECURITY_MIRROR" = "-" ] && SECURITY_MIRROR=""
    fi
    if [ -z "$MIRROR" ] && [ -f /etc/apt/sources.list ]; then
        MIRROR="$(awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
            if ($(i+1) == "bookworm") { print $i; exit } }' /etc/apt/sources.list)"
        SECURITY_MIRROR="$(awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
            if ($(i+1) == "bookworm-security") { print $i; exit } }' /etc/apt/sources.list)"
    fi
    MIRROR="${SLIPWAY_DEBIAN_MIRROR:-${MIRROR:-http://deb.debian.org/debian}}"
    SECURITY_MIRROR="${SLIPWAY_DEBIAN_SECURITY_MIRROR:-${SECURITY_MIRROR:-${MIRROR%/debian}/debian-security}}"
}

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "$@" >"$LOGS/apt.log" 2>&1; then
        apt-get update >>"$LOGS/apt.log" 2>&1
        apt-get install -y --no-install-recommends "$@" >>"$LOGS/apt.log" 2>&1 || { tail -n 30 "$LOGS/apt.log" >&2; die "apt-get install $* failed"; }
    fi
}

declare -A TAG=() HOW=()

# ---- base ----
BASE_INCLUDE="ca-certificates,busybox-static"
build_base() {
    detect_mirrors
    local key tag tarball root
    # SLIPWAY_IMAGES_EPOCH (e.g. a month, set by CI) forces a fresh debootstrap and so fresh
    # security updates; without it the base is rebuilt only when its recipe changes.
    key="$({ echo "bookworm minbase include=$BASE_INCLUDE mirror=$MIRROR security=$SECURITY_MIRROR epoch=${SLIPWAY_IMAGES_EPOCH:-}"
             cat "$REPO/images/base/customize.sh"; } | short)"
    tag="slipway/base:bookworm-$key"
    TAG[base]="$tag"
    if docker image inspect "$tag" >/dev/null 2>&1; then HOW[base]="cached"; return; fi
    tarball="$IMG_CACHE/base-$key.tar"
    if [ ! -s "$tarball" ]; then
        command -v debootstrap >/dev/null 2>&1 || { log "installing debootstrap"; apt_install debootstrap; }
        root="$IMG_CACHE/base-$key.rootfs"
        rm -rf "$root"
        log "debootstrap bookworm (minbase) from $MIRROR"
        debootstrap --variant=minbase --include="$BASE_INCLUDE" bookworm "$root" "$MIRROR" >"$LOGS/debootstrap.log" 2>&1 \
            || { tail -n 30 "$LOGS/debootstrap.log" >&2; rm -rf "$root"; die "debootstrap failed (log: $LOGS/debootstrap.log)"; }
        bash "$REPO/images/base/customize.sh" "$root" "$MIRROR" "$SECURITY_MIRROR"
        tar --numeric-owner --sort=name -C "$root" -cf "$tarball.tmp" .
        mv -f "$tarball.tmp" "$tarball"
        rm -rf "$root"
        HOW[base]="built (debootstrap)"
    else
        HOW[base]="imported (cached rootfs)"
    fi
    docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["/bin/bash"]' \
        --change "LABEL slipway.image=base slipway.hash=$key" \
        "$tarball" "$tag" >/dev/null
}

# ---- host-built binaries ----
build_api_binary() {
    local src key dir
    src="$REPO/examples/api"
    key="$({ go version; go env GOOS GOARCH
             cd "$src" && find . -type f \( -name '*.go' ! -name '*_test.go' -o -name go.mod -o -name go.sum \) -print0 \
                 | sort -z | xargs -0 sha256sum; } | short)"
    dir="$CACHE/api-bin-$key"
    if [ ! -x "$dir/api" ]; then
        mkdir -p "$dir"
        log "building the example API binary"
        (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$dir/api.tmp" .) >"$LOGS/api-go.log" 2>&1 \
            || { tail -n 30 "$LOGS/api-go.log" >&2; return 1; }
        mv -f "$dir/api.tmp" "$dir/api"
    fi
    echo "$dir/api"
}

# Pins and recipe: docker/caddy (versions.env, build.sh), shared with the published image.
build_caddy_binary() {
    bash "$REPO/scripts/build-caddy.sh" | tail -n 1
}

# ---- docker build of images/<name> FROM the base ----
# build_image NAME TAG_PREFIX [FILE_TO_ADD ...]; FROM_TAG=<image> builds FROM it instead of the base.
build_image() {
    local name="$1" prefix="$2" from="${FROM_TAG:-${TAG[base]}}" key tag ctx f
    local extras=("${@:3}")
    # Recipes a stranger builds too ship in docker/ (the npm package); the tests' own in images/.
    local dir="$REPO/images/$name"
    [ -d "$dir" ] || dir="$REPO/docker/$name"
    key="$({ echo "$from"
             cd "$dir" && find . -type f -print0 | sort -z | xargs -0 stat -c '%n %a' \
                 && find . -type f -print0 | sort -z | xargs -0 sha256sum
             for f in "${extras[@]}"; do sha256sum <"$f"; done; } | short)"
    tag="$prefix$key"
    TAG[$name]="$tag"
    if docker image inspect "$tag" >/dev/null 2>&1; then HOW[$name]="cached"; return; fi
    ctx="$(mktemp -d "$IMG_CACHE/ctx-$name.XXXXXX")"
    cp -a "$dir/." "$ctx/"
    for f in "${extras[@]}"; do cp "$f" "$ctx/"; done
    log "docker build $tag"
    local t=$SECONDS
    # Host networking: apt inside the build reaches the mirror exactly as this machine does.
    if ! docker build --force-rm --network host --build-arg BASE="$from" \
            --label slipway.image="$name" --label slipway.hash="$key" \
            -t "$tag" "$ctx" >"$LOGS/$name-build.log" 2>&1; then
        tail -n 40 "$LOGS/$name-build.log" >&2
        rm -rf "$ctx"
        die "docker build of $name failed (log: $LOGS/$name-build.log)"
    fi
    rm -rf "$ctx"
    HOW[$name]="built in $((SECONDS - t)) s"
}

# ---- go: the host's Go toolchain on the base, standing in for golang:<version>-bookworm ----
build_go_image() {
    local caddy_bin="$1" goroot version key tag ctx t
    goroot="$(go env GOROOT)"
    version="$(go env GOVERSION)"
    # The toolchain is named by its version (a release tree does not change under one version), and
    # by the Caddy build whose Go build cache it carries (an optimisation only: the cache is
    # content-addressed, so a stale entry is never used for other sources).
    key="$({ echo "${TAG[base]}"; echo "$version"; go env GOOS GOARCH; cat "$REPO/images/go/Dockerfile"; sha256sum <"$caddy_bin"; } | short)"
    tag="slipway/go:${version#go}-$key"
    TAG[go]="$tag"
    if docker image inspect "$tag" >/dev/null 2>&1; then HOW[go]="cached"; return; fi
    ctx="$(mktemp -d "$IMG_CACHE/ctx-go.XXXXXX")"
    cp "$REPO/images/go/Dockerfile" "$ctx/"
    cp -a "$goroot" "$ctx/go"
    mkdir -p "$ctx/gocache"
    if [ -d "$CACHE/caddy-gocache" ]; then cp -a "$CACHE/caddy-gocache/." "$ctx/gocache/"; fi
    log "docker build $tag (context: $goroot)"
    t=$SECONDS
    if ! docker build --force-rm --build-arg BASE="${TAG[base]}" --label slipway.image=go --label slipway.hash="$key" \
            -t "$tag" "$ctx" >"$LOGS/go-build.log" 2>&1; then
        tail -n 40 "$LOGS/go-build.log" >&2
        rm -rf "$ctx"
        die "docker build of go failed (log: $LOGS/go-build.log)"
    fi
    rm -rf "$ctx"
    HOW[go]="built in $((SECONDS - t)) s"
}

# The Go builds are CPU-bound and need no base: run them beside debootstrap and apt (I/O-bound).
pids=()
if wants caddy || wants go; then
    ( build_caddy_binary >"$LOGS/caddy-bin.path" 2>"$LOGS/caddy-bin.log" ) & pids+=("caddy:$!")
fi
if wants versitygw; then
    ( bash "$REPO/scripts/build-go-tool.sh" versitygw >"$LOGS/versitygw-bin.path" 2>"$LOGS/versitygw-bin.log" ) & pids+=("versitygw:$!")
fi
if wants api; then
    ( build_api_binary >"$LOGS/api-bin.path" 2>"$LOGS/api-bin.log" ) & pids+=("api:$!")
fi
if wants pebble; then
    ( bash "$REPO/scripts/build-go-tool.sh" pebble >"$LOGS/pebble-bin.path" 2>"$LOGS/pebble-bin.log" ) & pids+=("pebble:$!")
fi

build_base
if wants postgres || wants pgbackup; then build_image postgres "slipway/postgres:15-"; fi
wants pgbackup && FROM_TAG="${TAG[postgres]}" build_image pgbackup "slipway/pgbackup:15-"
wants prometheus && build_image prometheus "slipway/prometheus:"
wants alertmanager && build_image alertmanager "slipway/alertmanager:"
wants valkey && build_image valkey "slipway/valkey:8-"

for p in "${pids[@]}"; do
    what="${p%%:*}" pid="${p#*:}"
    if ! wait "$pid"; then
        tail -n 40 "$LOGS/$what-bin.log" >&2
        die "building the $what binary failed (log: $LOGS/$what-bin.log)"
    fi
done
if wants caddy; then
    bin="$(tail -n 1 "$LOGS/caddy-bin.path")"
    [ -x "$bin" ] || die "the Caddy build printed no usable binary path (got '$bin')"
    build_image caddy "slipway/caddy:" "$bin"
fi
if wants go; then build_go_image "$(tail -n 1 "$LOGS/caddy-bin.path")"; fi
if wants api; then
    bin="$(tail -n 1 "$LOGS/api-bin.path")"
    [ -x "$bin" ] || die "the API build printed no usable binary path (got '$bin')"
    build_image api "slipway/example-api:" "$bin"
fi
if wants pebble; then
    dir="$(tail -n 1 "$LOGS/pebble-bin.path")"
    [ -x "$dir/pebble" ] && [ -x "$dir/pebble-challtestsrv" ] || die "the Pebble build printed no usable directory (got '$dir')"
    build_image pebble "slipway/pebble:" "$dir/pebble" "$dir/pebble-challtestsrv"
fi

if wants versitygw; then
    dir="$(tail -n 1 "$LOGS/versitygw-bin.path")"
    [ -x "$dir/versitygw" ] || die "the versitygw build printed no usable directory (got '$dir')"
    build_image versitygw "slipway/versitygw:" "$dir/versitygw"
fi

# ---- images.env: merge, so building one image keeps the others' lines ----
declare -A ENV=()
if [ -f "$ENV_FILE" ]; then
    while IFS='=' read -r k v; do [[ "$k" =~ ^SLIPWAY_IMAGE_[A-Z]+$ ]] && ENV[$k]="$v"; done <"$ENV_FILE"
fi
for name in "${!TAG[@]}"; do ENV["SLIPWAY_IMAGE_${name^^}"]="${TAG[$name]}"; done
tmp="$ENV_FILE.tmp.$$"
for k in $(printf '%s\n' "${!ENV[@]}" | sort); do echo "$k=${ENV[$k]}"; done >"$tmp"
mv -f "$tmp" "$ENV_FILE"

# ---- :local aliases: the refs Pulumi.dev.yaml names (slipway/<name>:local), so a real
# `npm run up -- dev` finds the images this run built. Tests map refs to the hash tags instead.
for name in "${!TAG[@]}"; do
    docker tag "${TAG[$name]}" "${TAG[$name]%%:*}:local"
done

echo "Slipway images ($((SECONDS - T0)) s; env file: $ENV_FILE; aliases slipway/<name>:local)"
for name in "${ALL[@]}"; do
    [ -n "${TAG[$name]:-}" ] || continue
    size="$(docker image inspect -f '{{.Size}}' "${TAG[$name]}" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
    printf '  %-12s %-44s %-8s %s\n' "$name" "${TAG[$name]}" "$size" "${HOW[$name]}"
done
