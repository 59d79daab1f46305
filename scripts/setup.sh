#!/usr/bin/env bash
# Installs everything Orbit needs on a fresh Debian bookworm machine (run as root):
# system packages, npm dependencies, the test guest and the lab's COLO QEMU. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  qemu-system-x86 qemu-utils   # the hypervisor and disk tools (7.2, COLO built in)
  openssh-server openssh-client  # every lab host runs its own sshd
  etcd-server etcd-client      # runtime coordination
  iproute2 util-linux procps   # namespaces, bridges, unshare, ps
  busybox-static cpio          # the test guest's userland and initramfs packing
  socat openssl                # QMP by hand in tests; the lab etcd's certificates
  gdb                          # backtraces of a stuck QEMU when a COLO test round fails
  tcpdump                      # what a silent guest's tap carries, when a COLO test round fails
  python3                      # a unit test's process whose main thread exits before its others
  cloud-image-utils            # cloud-localds: a VM's cloud-init (NoCloud) seed, built on its host
  mmdebstrap fdisk e2fsprogs   # the real OS image (scripts/real-os/build.sh): a root filesystem, a partition table, ext4
)
binaries=(qemu-system-x86_64 qemu-img /usr/sbin/sshd ssh-keygen etcd etcdctl ip unshare nsenter cpio socat openssl gdb tcpdump python3 cloud-localds mmdebstrap sfdisk mkfs.ext4)

missing=()
for b in "${binaries[@]}"; do command -v "$b" >/dev/null 2>&1 || missing+=("$b"); done
if [ "${#missing[@]}" -gt 0 ] || ! dpkg -s busybox-static >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing ${missing[*]:-busybox-static}; run this script as root so it can apt-get install them." >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${packages[@]}"
fi
for b in "${binaries[@]}"; do
  command -v "$b" >/dev/null 2>&1 || { echo "setup: $b is still missing after apt-get install" >&2; exit 1; }
done

if ! command -v terraform >/dev/null 2>&1; then
  echo "setup: terraform (1.11.x) is not on PATH. It cannot be downloaded here; install it at /usr/local/bin/terraform." >&2
  exit 1
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then echo "setup: Node.js 20 or newer is required (found $(node -v))." >&2; exit 1; fi

# npm ci (which wipes node_modules) only when the installed tree is older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi

bash scripts/guest/build.sh
# The lab's COLO-capable QEMU (stock 7.2 cannot run COLO under TCG): ~4-5 min the first time,
# about 1 s when the cached build is current. labUp points the lab's hosts at it.
bash scripts/qemu-colo/build.sh
# A Debian 12 disk image that boots like a published cloud image, for the real-OS lab tests:
# 1.5-2.5 min the first time (mmdebstrap downloads from the Debian mirror), then cached.
bash scripts/real-os/build.sh
echo "setup: done"
