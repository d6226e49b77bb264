#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs the Debian packages that building cftcp, booting its test VMs and
# decoding their captures need, and names the target kernel.
#
#   scripts/install-deps.sh              install what is missing (no-op if none)
#   scripts/install-deps.sh --print-kver print the target kernel version
#
# The target kernel version is the newest /lib/modules/*-amd64 that has a
# matching /boot/vmlinuz-*; everything else asks this script for it.
set -euo pipefail

PACKAGES=(
	# kernel to boot and build against
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	# module and test program build
	gcc make libc6-dev bc flex bison libelf-dev libssl-dev dwarves
	sparse perl python3 xz-utils
	# the tc eBPF bridge to Linux TCP
	clang
	# VMs and their initramfs
	qemu-system-x86 seabios ipxe-qemu busybox-static cpio gzip kmod
	iproute2 ethtool file coreutils util-linux
	# host policy tests (selftests/policy.sh)
	nftables
	# capture decoding
	tshark
	# packaging: the DKMS build of the module
	dkms
	# unmodified programs run over cftcp (the guest runs the host's)
	curl iperf3 redis-server redis-tools
)

print_kver()
{
	local dir kver best=""

	for dir in /lib/modules/*-amd64; do
		[ -d "$dir" ] || continue
		kver=${dir##*/}
		[ -e "/boot/vmlinuz-$kver" ] || continue
		if [ -z "$best" ] ||
		   [ "$(printf '%s\n%s\n' "$best" "$kver" | sort -V | tail -n1)" = "$kver" ]; then
			best=$kver
		fi
	done
	if [ -z "$best" ]; then
		echo "install-deps: no /lib/modules/*-amd64 with a /boot/vmlinuz" >&2
		return 1
	fi
	echo "$best"
}

missing_packages()
{
	local pkg status

	for pkg in "${PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) || status=""
		[ "$status" = "installed" ] || echo "$pkg"
	done
}

install_missing()
{
	local missing

	mapfile -t missing < <(missing_packages)
	if [ "${#missing[@]}" -eq 0 ]; then
		return 0
	fi
	echo "install-deps: installing ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: must run as root to install packages" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# tshark asks whether non-root users may capture; answer no.
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
		debconf-set-selections
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
}

case "${1:-}" in
--print-kver)
	print_kver
	;;
"")
	install_missing
	kver=$(print_kver)
	if [ ! -d "/lib/modules/$kver/build" ]; then
		PACKAGES=("linux-headers-$kver")
		install_missing
	fi
	;;
*)
	echo "usage: $0 [--print-kver]" >&2
	exit 2
	;;
esac
