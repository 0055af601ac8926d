#!/usr/bin/env bash
# build-guest-kit.sh builds the test guest ovnrun boots in QEMU: a Debian
# kernel (linux-image-amd64, fetched with apt-get download and unpacked with
# dpkg-deb -x, never installed) and an initramfs of busybox-static plus the
# virtio modules, packed with `busybox cpio -o -H newc`. The guest's init
# brings up every NIC, present at boot or hot-plugged later, and keeps a
# busybox udhcpc running on each, asking again every few seconds until
# OVN answers; it prints "ovnrun-guest: IFACE ADDRESS" on the serial console
# when a lease is bound. It also serves commands from the host on the
# virtio-serial channel org.ovnrun.guest.0 (how ovnrun runs ping() inside
# the guest; the protocol is in builtins/virt/guestexec.go), and runs QEMU's
# guest agent (qemu-ga from Debian's qemu-guest-agent, with the shared
# libraries it loads) on org.qemu.guest_agent.0, the path ovnrun takes first,
# as with a stock cloud image that has the agent installed.
#
#   scripts/build-guest-kit.sh [DIR]     (default $OVNRUN_GUEST_KIT or
#                                         /var/cache/ovnrun/guest-kit)
#
# DIR then holds vmlinuz (the Debian kernel), vmlinux (the same kernel
# uncompressed, which QEMU boots twice as fast), initrd.img and kit.version.
# A kit already built by this revision of the script is reused as it is, so
# calling this again costs nothing. Boot it with vm(..., kernel=DIR/vmlinux,
# initrd=DIR/initrd.img, cmdline="console=ttyS0 quiet"); see docs/vms.md.
set -euo pipefail

KIT_REV=3 # internal/libvirtd.KitRev: what ovnrun expects of the guest
out=${1:-${OVNRUN_GUEST_KIT:-/var/cache/ovnrun/guest-kit}}

if [[ -s $out/vmlinux && -s $out/initrd.img && -f $out/kit.version ]] &&
	grep -qx "rev=$KIT_REV" "$out/kit.version"; then
	echo "build-guest-kit: $out is up to date"
	exit 0
fi

for bin in apt-get apt-cache dpkg-deb; do
	command -v "$bin" >/dev/null || { echo "build-guest-kit: $bin not found (Debian or Ubuntu needed)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/ovnrun-kit.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
chmod 0755 "$work" # apt-get download runs as _apt where it can

# linux-image-amd64 is a metapackage: download the kernel package it names.
kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}
kpkg=$(kernel_package)
if [[ -z $kpkg ]] && ((EUID == 0)); then
	apt-get update -q >/dev/null # fresh machines have no package lists yet
	kpkg=$(kernel_package)
fi
if [[ -z $kpkg ]]; then
	echo "build-guest-kit: apt knows no linux-image-amd64; run apt-get update first" >&2
	exit 1
fi
# qemu-ga's own libraries that a host may lack come with it; the rest of
# what it loads is copied from this machine (the same distribution).
gapkgs=(qemu-guest-agent libglib2.0-0 libnuma1 liburing2 libudev1)
echo "build-guest-kit: fetching $kpkg, busybox-static and ${gapkgs[*]}"
apt-get download -q "$kpkg" busybox-static "${gapkgs[@]}" >download.log 2>&1 || { cat download.log >&2; exit 1; }
mkdir kernel bb ga
dpkg-deb -x "$kpkg"_*.deb kernel
dpkg-deb -x busybox-static_*.deb bb
for p in "${gapkgs[@]}"; do dpkg-deb -x "$p"_*.deb ga; done
kver=${kpkg#linux-image-}
bb=$work/bb/bin/busybox
[[ -x $bb ]] || { echo "build-guest-kit: busybox-static has no bin/busybox" >&2; exit 1; }

root=$work/root
mkdir -p "$root"/{bin,dev,etc,lib/modules,proc,run,sys,tmp,usr/sbin}
cp "$bb" "$root/bin/busybox"
mkdir -p "$root/var" && ln -s /run "$root/var/run"

# qemu-ga and every library the dynamic loader resolves for it, at the
# paths it resolves them to (the loader itself included).
[[ -x ga/usr/sbin/qemu-ga ]] || { echo "build-guest-kit: qemu-guest-agent has no usr/sbin/qemu-ga" >&2; exit 1; }
cp ga/usr/sbin/qemu-ga "$root/usr/sbin/qemu-ga"
ldso=$(readelf -l ga/usr/sbin/qemu-ga | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
libpath=$work/ga/lib/x86_64-linux-gnu:$work/ga/usr/lib/x86_64-linux-gnu
libs=$("$ldso" --library-path "$libpath" --list ga/usr/sbin/qemu-ga | awk '$2 == "=>" && $3 ~ /^\// {print $3}')
for lib in "$ldso" $libs; do
	dst=$root/lib/x86_64-linux-gnu/$(basename "$lib")
	[[ $lib == "$ldso" ]] && dst=$root$ldso
	mkdir -p "$(dirname "$dst")"
	cp -L "$lib" "$dst"
done

# The virtio modules, in load order (dependencies first). Compressed
# modules (newer Debian kernels) are unpacked: busybox insmod reads plain
# ELF only.
mods=(virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
	failover net_failover virtio_net virtio_blk virtio_console)
moddir=kernel/lib/modules/$kver
: >"$root/lib/modules/load"
for m in "${mods[@]}"; do
	f=$(find "$moddir" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n1)
	if [[ -z $f ]]; then
		# Built into this kernel, or absent from it: nothing to load.
		continue
	fi
	case $f in
	*.xz) xz -dc "$f" >"$root/lib/modules/$m.ko" ;;
	*.zst) zstd -qdc "$f" >"$root/lib/modules/$m.ko" ;;
	*) cp "$f" "$root/lib/modules/$m.ko" ;;
	esac
	echo "$m" >>"$root/lib/modules/load"
done

cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /run
# Load the modules, retrying those whose dependencies came later.
left=$(cat /lib/modules/load)
for pass in 1 2 3; do
	again=
	for m in $left; do
		insmod /lib/modules/$m.ko 2>/dev/null || again="$again $m"
	done
	left=$again
done
[ -n "$left" ] && echo "ovnrun-guest: could not load:$left"
ip link set lo up
hostname ovnrun-guest

# run_request runs one request of the host: "ovnrun1 ID SECS xARG..."
# (each argument base64-encoded after an x) and prints the reply
# "ovnrun1 ID STATUS xSTDOUT xSTDERR", both encoded the same way.
run_request() {
	set -- $1
	[ "$1" = ovnrun1 ] && [ $# -ge 4 ] || return 0
	id=$2 secs=$3
	shift 3
	n=$#
	for w; do set -- "$@" "$(echo "${w#x}" | base64 -d)"; done
	shift $n
	timeout -s KILL "$secs" "$@" </dev/null >/run/cmd.out 2>/run/cmd.err
	rc=$?
	echo "ovnrun1 $id $rc x$(base64 /run/cmd.out | tr -d '\n') x$(base64 /run/cmd.err | tr -d '\n')"
}

# vport NAME prints the device of virtio-serial port NAME once it shows up
# (busybox's mdev makes no /dev/virtio-ports links).
vport() {
	port=
	while [ -z "$port" ]; do
		for p in /sys/class/virtio-ports/*; do
			[ "$(cat "$p/name" 2>/dev/null)" = "$1" ] && port=/dev/${p##*/}
		done
		[ -n "$port" ] || sleep 1
	done
	echo "$port"
}

# agent runs QEMU's guest agent on its port, again if it exits; a domain
# without the port never gets one. Once /run/no-agent exists it is not
# restarted: the guest is then as an image without the agent (tests).
agent() {
	port=$(vport org.qemu.guest_agent.0)
	echo "ovnrun-guest: guest agent on $port"
	until [ -e /run/no-agent ]; do
		/usr/sbin/qemu-ga -m virtio-serial -p "$port" -t /run >/dev/null 2>&1
		sleep 1
	done
}

# serve answers requests on the channel, one at a time. A read returns
# nothing while no host is connected: then it waits and reads again.
serve() {
	port=$(vport org.ovnrun.guest.0)
	exec 3<>"$port"
	echo "ovnrun-guest: serving on $port"
	set -f # no pathname expansion of the host's requests (in this subshell)
	while true; do
		if IFS= read -r line <&3; then
			run_request "$line" >&3
		else
			sleep 0.2
		fi
	done
}
serve &
agent &
echo "ovnrun-guest: up"
# Every NIC, present at boot or hot-plugged later, gets a udhcpc that keeps
# its lease; -A 1 retries a second after a failed attempt, forever.
while true; do
	for d in /sys/class/net/*; do
		n=${d##*/}
		[ "$n" = lo ] || [ -e /run/dhcp.$n ] && continue
		: >/run/dhcp.$n
		ip link set "$n" up
		echo "ovnrun-guest: $n $(cat $d/address) dhcp"
		udhcpc -f -i "$n" -s /etc/udhcpc.script -T 1 -A 1 -t 3 >/dev/null 2>&1 &
	done
	sleep 1
done
INIT
chmod 0755 "$root/init"

cat >"$root/etc/udhcpc.script" <<'SCRIPT'
#!/bin/sh
# udhcpc's hook: configure the address and print it on the console; it
# never touches /etc/resolv.conf.
case $1 in
deconfig)
	ip addr flush dev "$interface"
	;;
bound|renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	if [ -n "$router" ]; then
		ip route replace default via "${router%% *}" dev "$interface"
	fi
	echo "ovnrun-guest: $interface $ip/${mask:-24}" >/dev/console
	;;
esac
exit 0
SCRIPT
chmod 0755 "$root/etc/udhcpc.script"

# extract_vmlinux BZIMAGE OUT: the uncompressed ELF kernel inside a bzImage
# (as the kernel's scripts/extract-vmlinux finds it). QEMU boots it
# directly through its PVH entry point, skipping the decompression that
# takes half of a boot under software emulation (2.8 s instead of 5.5 s).
extract_vmlinux() {
	local magic cmd off
	for kind in 'xz -dc:\xfd7zXZ\x00' 'zstd -qdc:\x28\xb5\x2f\xfd' 'gzip -dc:\x1f\x8b\x08'; do
		cmd=${kind%%:*} magic=${kind#*:}
		command -v "${cmd%% *}" >/dev/null || continue
		for off in $(LC_ALL=C grep -obUaP "$magic" "$1" | cut -d: -f1); do
			tail -c +$((off + 1)) "$1" | $cmd >"$2" 2>/dev/null
			[[ $(head -c 4 "$2" | od -An -c | tr -d ' ') == 177ELF ]] && return 0
		done
	done
	rm -f "$2"
	return 1
}

mkdir -p "$out"
(cd "$root" && find . | LC_ALL=C sort | "$bb" cpio -o -H newc 2>/dev/null) | gzip -9 >"$work/initrd.img"
cp "kernel/boot/vmlinuz-$kver" "$work/vmlinuz"
if ! extract_vmlinux "$work/vmlinuz" "$work/vmlinux"; then
	echo "build-guest-kit: no ELF kernel found in vmlinuz-$kver: guests boot the compressed one" >&2
	cp "$work/vmlinuz" "$work/vmlinux"
fi
for f in vmlinuz vmlinux initrd.img; do
	install -m 0644 "$work/$f" "$out/$f.new"
	mv "$out/$f.new" "$out/$f"
done
printf 'rev=%s\nkernel=%s\nbusybox=%s\n' "$KIT_REV" "$kpkg" "$(dpkg-deb -f busybox-static_*.deb Version)" >"$out/kit.version"
echo "qemu-ga=$(dpkg-deb -f qemu-guest-agent_*.deb Version)" >>"$out/kit.version"
echo "build-guest-kit: built $out (kernel $kver)"
