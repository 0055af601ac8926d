#!/usr/bin/env bash
# install-virt-deps.sh installs what ovnrun's VM driver and its tests run for
# real: libvirtd and virtlogd, QEMU (software emulation is enough), qemu-img,
# virsh and virt-xml-validate, and what scripts/build-guest-kit.sh needs to
# make the test guest from Debian packages (busybox-static, and binutils'
# readelf to find qemu-ga's loader; the kernel and qemu-ga are fetched there
# with apt-get download, not installed). Run it as root on
# Debian or Ubuntu. It is idempotent and returns at once when every binary
# is already present, so CI and developers can call it unconditionally.
#
# Nothing starts here: machines without systemd start virtlogd and libvirtd
# by hand (internal/libvirttest does, for the tests; docs/vms.md says how).
set -euo pipefail

packages=(
	libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils
	libxml2-utils busybox-static xz-utils zstd cpio curl ca-certificates binutils
)

binaries=(
	libvirtd virtlogd virsh virt-xml-validate xmllint
	qemu-system-x86_64 qemu-img busybox xz zstd curl readelf
)

have() {
	command -v "$1" >/dev/null 2>&1 && return 0
	local dir
	for dir in /usr/sbin /sbin /usr/local/sbin /usr/bin /bin; do
		[[ -x "$dir/$1" ]] && return 0
	done
	return 1
}

fix_kvm() {
	# With a root-only /dev/kvm, libvirt re-probes QEMU's capabilities on
	# every call (30-45 s per define); the kvm group makes it ~10 ms.
	if [[ -e /dev/kvm ]] && getent group kvm >/dev/null; then
		chgrp kvm /dev/kvm 2>/dev/null || true
		chmod 0660 /dev/kvm 2>/dev/null || true
	fi
}

missing=()
for bin in "${binaries[@]}"; do
	have "$bin" || missing+=("$bin")
done
if ((${#missing[@]} == 0)); then
	fix_kvm
	echo "install-virt-deps: all binaries present, nothing to do"
	exit 0
fi
echo "install-virt-deps: missing ${missing[*]}; installing packages"

if ((EUID != 0)); then
	echo "install-virt-deps: must run as root" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
fix_kvm

still=()
for bin in "${binaries[@]}"; do
	have "$bin" || still+=("$bin")
done
if ((${#still[@]} > 0)); then
	echo "install-virt-deps: still missing after install: ${still[*]}" >&2
	exit 1
fi
echo "install-virt-deps: done"
