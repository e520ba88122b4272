# Sourced by .ci/install-tools and the heavy RobustMQ scripts: the one way
# this repository installs Debian packages and Python packages, and the one
# pin of each Python tool.

# Python packages, pinned once.
PIP_PROMETHEUS_CLIENT='prometheus-client==0.21.1'
PIP_KUBERNETES_VALIDATE='kubernetes-validate==1.37.0'
PIP_GO_JSONNET='pup-go-jsonnet==0.21.0'

# apt_install PACKAGE...: installs the packages that are not installed yet,
# without starting any packaged service (policy-rc.d exiting 101: tests run
# Prometheus and the brokers themselves, as children on loopback). Uses sudo
# when not root.
apt_install() {
  local need=() p sudo=""
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  [ ${#need[@]} -gt 0 ] || return 0
  [ "$(id -u)" = 0 ] || sudo=sudo
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod 755 /usr/sbin/policy-rc.d
  local status=0
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" ||
    status=$?
  # Removed whatever happened: a left-over policy-rc.d would stop every
  # service the machine installs later.
  $sudo rm -f /usr/sbin/policy-rc.d
  return "$status"
}

# pip_install MODULE SPEC: installs SPEC (a pinned requirement above) unless
# MODULE imports.
pip_install() {
  python3 -c "import $1" 2>/dev/null || python3 -m pip install -q "$2"
}

# What RobustMQ's build needs (docs: ../shared/ROBUSTMQ.md): clang + lld (its
# .cargo/config.toml links with them), protoc and the well-known .proto
# files, libclang for bindgen, cmake, OpenSSL.
RMQ_BUILD_PACKAGES=(clang lld protobuf-compiler libprotobuf-dev libclang-dev cmake pkg-config libssl-dev)
