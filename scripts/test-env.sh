#!/usr/bin/env bash
# Brings up the container engines and the registry the end-to-end tests use, on a fresh machine
# too: installs Podman (it serves the Docker Engine API), runc, busybox and Debian's
# docker-registry when missing, starts two engines (two sockets, separate storage: a project can
# live on another engine) and a registry on 127.0.0.1, and builds the base test image locally
# (nothing is pulled from the internet). Idempotent: what already answers is left running.
# Prints the variables the tests read, as `export NAME=value` lines, on stdout.
set -euo pipefail

dir=${TEST_ENV_DIR:-/tmp/docker-task-scheduler-test-env}
registry_address=${TEST_REGISTRY_ADDRESS:-127.0.0.1:5000}
mkdir -p "$dir"
log() { printf '%s\n' "$*" >&2; }
die() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

# --- Packages ----------------------------------------------------------------------------------
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || [ -x /usr/sbin/runc ] || missing+=(runc)
[ -x /bin/busybox ] || command -v busybox >/dev/null || missing+=(busybox-static)
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v age >/dev/null || missing+=(age)
if [ ${#missing[@]} -gt 0 ]; then
  log "Installing ${missing[*]} (apt-get)"
  command -v apt-get >/dev/null || die "${missing[*]} missing and apt-get is not available to install them"
  [ "$(id -u)" = 0 ] || die "${missing[*]} missing: installing them needs root (apt-get install ${missing[*]})"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >&2 \
    || die "could not install ${missing[*]} (apt-get install)"
fi

# --- Engine configuration ------------------------------------------------------------------------
# The sandbox refuses the default rlimits and crun's cgroup handling: see notes in the README.
cat >"$dir/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
cat >"$dir/registries.conf" <<EOF
unqualified-search-registries = []
[[registry]]
location = "$registry_address"
insecure = true
EOF
export CONTAINERS_CONF=$dir/containers.conf
export CONTAINERS_REGISTRIES_CONF=$dir/registries.conf

engine_answers() { curl -sf --max-time 3 --unix-socket "$1" http://d/_ping >/dev/null 2>&1; }

podman_of() { # engine name → podman CLI with that engine's own storage
  printf '%s\n' podman --root "$dir/$1/root" --runroot "$dir/$1/run" --tmpdir "$dir/$1/tmp"
}

start_engine() { # name
  local name=$1 socket=$dir/$1.sock
  if engine_answers "$socket"; then return; fi
  mkdir -p "$dir/$name/root" "$dir/$name/run" "$dir/$name/tmp"
  rm -f "$socket"
  log "Starting container engine '$name' (podman system service) on $socket"
  # shellcheck disable=SC2046
  nohup $(podman_of "$name") system service --time=0 "unix://$socket" >"$dir/$name.log" 2>&1 &
  for _ in $(seq 1 60); do engine_answers "$socket" && break; sleep 0.5; done
  engine_answers "$socket" || die "container engine '$name' did not answer on $socket (see $dir/$name.log)"
}

build_base_image() { # name: localhost/busybox:1 from the machine's static busybox
  local name=$1
  # shellcheck disable=SC2046
  if $(podman_of "$name") image exists localhost/busybox:1 2>/dev/null; then return; fi
  log "Building localhost/busybox:1 on engine '$name'"
  local rootfs=$dir/rootfs
  rm -rf "$rootfs" && mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc"
  cp "$(command -v busybox || echo /bin/busybox)" "$rootfs/bin/busybox"
  (cd "$rootfs/bin" && for applet in $(./busybox --list); do [ "$applet" = busybox ] || ln -sf busybox "$applet"; done)
  echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
  echo 'root:x:0:' >"$rootfs/etc/group"
  tar -C "$rootfs" -cf "$dir/busybox.tar" .
  # shellcheck disable=SC2046
  $(podman_of "$name") import --change 'CMD ["/bin/sh"]' "$dir/busybox.tar" localhost/busybox:1 >/dev/null \
    || die "could not import the busybox test image on engine '$name'"
}

for engine in engine-a engine-b; do
  start_engine "$engine"
  build_base_image "$engine"
done

# --- Registry ------------------------------------------------------------------------------------
registry_answers() { curl -sf --max-time 3 "http://$registry_address/v2/" >/dev/null 2>&1; }
if ! registry_answers; then
  mkdir -p "$dir/registry"
  cat >"$dir/registry.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $dir/registry
  delete:
    enabled: true
http:
  addr: $registry_address
EOF
  log "Starting the registry on $registry_address"
  nohup docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 &
  for _ in $(seq 1 30); do registry_answers && break; sleep 0.5; done
  registry_answers || die "the registry did not answer on $registry_address (see $dir/registry.log)"
fi

printf 'export E2E_DOCKER_HOST=%q\n' "unix://$dir/engine-a.sock"
printf 'export E2E_SECOND_DOCKER_HOST=%q\n' "unix://$dir/engine-b.sock"
printf 'export E2E_REGISTRY=%q\n' "$registry_address"
printf 'export E2E_PODMAN=%q\n' "$(podman_of engine-a | tr '\n' ' ')"
printf 'export CONTAINERS_CONF=%q\n' "$CONTAINERS_CONF"
printf 'export CONTAINERS_REGISTRIES_CONF=%q\n' "$CONTAINERS_REGISTRIES_CONF"
