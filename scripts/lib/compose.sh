# Shared by scripts/compose_test.sh and scripts/compose_scale_test.sh:
# making this machine able to run containers, building the images of this
# checkout, waiting, and removing everything of one compose project.
# Sourced, not run. The caller sets, before sourcing:
#   root       the repository
#   log_name   the prefix of every line it prints (compose_test, ...)
# and, before compose_start_project: compose_files (an array of files).

say() { echo "$log_name: $*"; }
fail() { echo "$log_name: FAILED: $*" >&2; exit 1; }

# --- set-up (idempotent: does only what is missing) ---------------------------

compose_install_packages() {
  local wanted=(podman podman-compose runc debootstrap docker-compose) missing=() p
  for p in "${wanted[@]}"; do
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" == installed ]] || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

compose_configure_containers() {
  local conf=/etc/containers/containers.conf
  if [[ -f "$conf" ]] && grep -q '^default_ulimits = \[\]' "$conf" && grep -q '^runtime = "runc"' "$conf"; then
    return 0
  fi
  [[ ! -f "$conf" ]] || cp "$conf" "$conf.before-tollgate"
  say "writing $conf (no default ulimits, runc)"
  install -d /etc/containers
  cat >"$conf" <<'CONF'
# Written by tollgate's scripts/lib/compose.sh.
[containers]
# The sandbox refuses the default rlimits.
default_ulimits = []

[engine]
# crun refuses this machine's hybrid cgroups.
runtime = "runc"
CONF
}

compose_make_base_image() {
  podman image exists docker.io/library/debian:12 && return 0
  # A registry, when one answers, is the normal source.
  if timeout 60 podman pull -q docker.io/library/debian:12 >/dev/null 2>&1; then return 0; fi
  local mirror="${TOLLGATE_DEBIAN_MIRROR:-http://deb.debian.org/debian}" dir
  dir="$(mktemp -d /var/tmp/tollgate-debian12.XXXXXX)"
  say "making debian:12 with debootstrap from $mirror"
  debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$dir.log" 2>&1 \
    || { tail -n 20 "$dir.log" >&2; rm -rf "$dir"; fail "debootstrap failed (log above)"; }
  # Debian's own sources as on the host (updates, security), so that image
  # builds get the same package versions as the host.
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    cp /etc/apt/sources.list.d/debian.sources "$dir/etc/apt/sources.list.d/"
    rm -f "$dir/etc/apt/sources.list"
  fi
  tar -C "$dir" -c . | podman import -q - docker.io/library/debian:12 >/dev/null
  rm -rf "$dir" "$dir.log"
}

# Root, packages, containers.conf, the base image.
compose_setup() {
  [[ "$(id -u)" -eq 0 ]] || fail "needs root (rootful podman, apt-get, debootstrap)"
  compose_install_packages
  compose_configure_containers
  compose_make_base_image
  say "set-up done: podman $(podman --version | awk '{print $3}'), debian:12 present"
}

# --- images of this checkout ------------------------------------------------------

# Images are tagged per checkout, so that two checkouts testing side by side
# never use each other's build.
compose_image_names() {
  local checkout_tag
  checkout_tag="$(printf '%s' "$root" | sha256sum | cut -c1-12)"
  export TOLLGATE_IMAGE="localhost/tollgate:checkout-$checkout_tag"
  export TOLLGATE_POSTGRES_IMAGE="localhost/tollgate-postgres:checkout-$checkout_tag"
  export TOLLGATE_BALANCER_IMAGE="localhost/tollgate-balancer:checkout-$checkout_tag"
}

# compose_build_images TARGET...: runtime, postgres, balancer. The log goes
# to $work/build.log; its tail is printed on failure.
compose_build_images() {
  local ccache_dir="${TOLLGATE_CCACHE_DIR:-$(ccache -k cache_dir 2>/dev/null || echo /root/.cache/ccache)}"
  local target image
  install -d "$ccache_dir"
  for target in "$@"; do
    case "$target" in
      runtime) image="$TOLLGATE_IMAGE" ;;
      postgres) image="$TOLLGATE_POSTGRES_IMAGE" ;;
      balancer) image="$TOLLGATE_BALANCER_IMAGE" ;;
      *) fail "compose_build_images: unknown target $target" ;;
    esac
    say "building $image (log: $work/build.log)"
    nice podman build --volume "$ccache_dir:/ccache" --build-arg TOLLGATE_JOBS="${TOLLGATE_JOBS:-2}" \
        --target "$target" -t "$image" "$root" >>"$work/build.log" 2>&1 \
      || { tail -n 30 "$work/build.log" >&2; fail "image build ($target)"; }
  done
}

# --- one compose project ------------------------------------------------------------

# compose_start_project NAME: sets project and work (a temporary folder)
# and removes both on exit, also on failure; NAME ends in the caller's PID,
# so runs side by side (other checkouts) never meet.
compose_start_project() {
  project="$1"
  work="$(mktemp -d "/tmp/$project.XXXXXX")"
  trap compose_cleanup EXIT
  trap 'exit 130' INT TERM
}

compose() {
  local files=() f
  for f in "${compose_files[@]}"; do files+=(-f "$f"); done
  podman-compose -p "$project" "${files[@]}" "$@"
}
quiet_compose() { compose "$@" >>"$work/compose.log" 2>&1; }

# The container of SERVICE in this project (podman-compose 1.0.3's naming).
container_of() { echo "${project}_$1_1"; }

# Services whose last log lines are printed when the run fails; the caller
# sets it.
compose_services=()

compose_cleanup() {
  local rc=$? service
  if ((rc != 0)); then
    echo "--- $log_name: last log lines of each service ---" >&2
    for service in "${compose_services[@]}"; do
      podman logs --tail 15 "$(container_of "$service")" 2>&1 | sed "s/^/$service | /" >&2 || true
    done
  fi
  # Every service's whole log, kept when asked (TOLLGATE_COMPOSE_LOG_DIR).
  if [[ -n "${TOLLGATE_COMPOSE_LOG_DIR:-}" ]]; then
    install -d "$TOLLGATE_COMPOSE_LOG_DIR"
    for service in "${compose_services[@]}"; do
      podman logs "$(container_of "$service")" >"$TOLLGATE_COMPOSE_LOG_DIR/$service.log" 2>&1 || true
    done
    echo "$log_name: the services' logs are in $TOLLGATE_COMPOSE_LOG_DIR" >&2
  fi
  quiet_compose down -v -t 2 || true
  # Anything of this project that down left (a container made by a failed up).
  podman ps -aq --filter "label=io.podman.compose.project=$project" | xargs -r podman rm -f >/dev/null 2>&1 || true
  podman volume ls -q --filter "label=io.podman.compose.project=$project" | xargs -r podman volume rm -f >/dev/null 2>&1 || true
  # podman-compose 1.0.3's down leaves the project's network.
  podman network rm -f "${project}_default" >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$rc"
}

# --- waiting ------------------------------------------------------------------------

# Waits until "$@" succeeds, up to $1 seconds; fails with $2 otherwise.
wait_for() {
  local seconds="$1" what="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "$what: not within ${seconds}s"
    sleep 1
  done
}
container_state() { podman inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$(container_of "$1")" 2>/dev/null; }
exited_ok() { [[ "$(container_state "$1")" == "exited 0" ]]; }
# 200 on /readyz of a published HTTP port: gRPC health SERVING.
ready() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/readyz"; }
pg_ready() { podman exec "$(container_of postgres)" pg_isready -q -h 127.0.0.1 -U tollgate -d tollgate; }

# N free TCP ports of 127.0.0.1 on one line.
free_ports() {
  /usr/bin/python3 - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
PY
}

# PostgreSQL and the signing key, started and waited for (podman-compose
# 1.0.3 neither waits for depends_on conditions nor runs health checks
# here: no systemd timers).
compose_start_database_and_keys() {
  quiet_compose up -d --no-build postgres keys || fail "podman-compose up postgres keys (see $work/compose.log)"
  wait_for "$timeout_s" "postgres ready (pg_isready)" pg_ready
  wait_for 60 "the keys service to make the signing key and exit 0" exited_ok keys
}
