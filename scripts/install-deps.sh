#!/usr/bin/env bash
# install-deps.sh installs the system packages ovnrun's tests and labs run for
# real: OVN central and host daemons, Open vSwitch, sshd and the small network
# tools the emulated hypervisors use. Run it as root on Debian or Ubuntu.
# It is idempotent, and returns at once when every binary is already present,
# so CI and developers can call it unconditionally.
set -euo pipefail

packages=(
	ovn-central ovn-host openvswitch-switch openssh-server
	iproute2 ethtool tcpdump busybox-static graphviz sudo
)

# One binary per package: when all are present there is nothing to do.
binaries=(
	ovsdb-server ovsdb-tool ovs-appctl ovs-vsctl ovs-vswitchd
	ovn-northd ovn-nbctl ovn-sbctl ovn-controller
	sshd ip ethtool tcpdump busybox dot sudo
)

# sbin directories are not on every PATH (non-login shells, sudo -E),
# so look there too rather than reinstall needlessly.
have() {
	command -v "$1" >/dev/null 2>&1 && return 0
	local dir
	for dir in /usr/sbin /sbin /usr/local/sbin /usr/bin /bin; do
		[[ -x "$dir/$1" ]] && return 0
	done
	return 1
}

missing=()
for bin in "${binaries[@]}"; do
	have "$bin" || missing+=("$bin")
done
if ((${#missing[@]} == 0)); then
	echo "install-deps: all binaries present, nothing to do"
	exit 0
fi
echo "install-deps: missing ${missing[*]}; installing packages"

if ((EUID != 0)); then
	echo "install-deps: must run as root" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"

still=()
for bin in "${binaries[@]}"; do
	have "$bin" || still+=("$bin")
done
if ((${#still[@]} > 0)); then
	echo "install-deps: still missing after install: ${still[*]}" >&2
	exit 1
fi
echo "install-deps: done"
