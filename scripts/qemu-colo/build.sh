#!/usr/bin/env bash
# Builds the lab's COLO-capable QEMU: Debian bookworm's own qemu source package (the same 7.2
# as the distribution's qemu-system-x86, with Debian's patches), plus Orbit's fixes for COLO bugs
# of QEMU 7.2: three TCG-only, one in virtio's state loading, one that lets a migration with
# pause-before-switchover enter COLO (scripts/qemu-colo/patches/*.patch, applied in name order).
# Only x86_64-softmmu is built. Output in $ORBIT_CACHE/qemu-colo/ (default <repo>/.cache/qemu-colo/):
#   install/bin/qemu-system-x86_64   the binary (firmware comes from the system: /usr/share/qemu,
#                                    /usr/share/seabios, /usr/lib/ipxe/qemu, as for Debian's QEMU)
#   manifest.json                    cache key, Debian source version, patches, build time, size
#   build.log                        output of the last configure/build
# A second run with the same inputs (Debian source version, patches, configure options) only
# checks the installed binary. ORBIT_QEMU_COLO_REBUILD=1 forces a rebuild.
# Other knobs: ORBIT_QEMU_COLO_VERSION (a Debian source version of qemu; default: the source
# version of the qemu-system-x86 package apt would install), ORBIT_QEMU_COLO_JOBS (default 2),
# ORBIT_QEMU_COLO_KEEP_TREE=1 (keep the unpacked, built source tree under work/).
# Heavy steps run under `nice -n 19` (and `ionice -c3`): the machines' 2 cores are shared.
set -eEuo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache_root=${ORBIT_CACHE:-$repo/.cache}
out=$cache_root/qemu-colo
dl=$out/dl
work=$out/work
install_dir=$out/install
log=$out/build.log
manifest=$out/manifest.json
binary=$install_dir/bin/qemu-system-x86_64
jobs=${ORBIT_QEMU_COLO_JOBS:-2}
codename=bookworm
deb_src_file=/etc/apt/sources.list.d/orbit-deb-src.sources
python=/usr/bin/python3 # Debian's; a python3 earlier on PATH (pyenv, venv) is not used

# What the build needs from Debian, and nothing more (not `apt-get build-dep qemu`).
build_deps=(
  gcc libc6-dev make pkg-config   # toolchain (build-essential may be absent)
  ninja-build meson python3       # QEMU 7.2's build system; bookworm's meson is 1.0.1
  libglib2.0-dev                  # required by QEMU
  libpixman-1-dev                 # required for system emulation
  zlib1g-dev                      # required (qcow2, migration)
  libfdt-dev                      # x86_64-softmmu requires libfdt in 7.2
  dpkg-dev patch xz-utils         # dpkg-source -x, our patches, the .orig.tar.xz
)
# Firmware and option ROMs the binary loads at run time (it is configured with Debian's
# firmware path). These come with Debian's qemu-system-x86, so a lab host normally has them.
firmware_pkgs=(qemu-system-data seabios ipxe-qemu)
firmware_files=(/usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin
  /usr/share/qemu/linuxboot_dma.bin /usr/lib/ipxe/qemu/efi-virtio.rom)

# Only what COLO and Orbit's tests need: TCG (and KVM, for real hosts), tap networking and
# virtio (both built in), the replication and quorum block drivers, NBD, qcow2; no GUI, no
# audio, no docs, no tools, no guest agent, no slirp (the lab uses taps), no debug info.
configure_opts=(
  --target-list=x86_64-softmmu
  --without-default-features
  --enable-tcg --enable-kvm
  --enable-replication
  --disable-docs --disable-tools --disable-guest-agent
  --disable-install-blobs --disable-debug-info
  --firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu
  --with-git-submodules=ignore
)

say() { echo "qemu-colo: $*" >&2; }
die() {
  echo "qemu-colo: ERROR: $*" >&2
  exit 1
}
trap 'rc=$?; echo "qemu-colo: ERROR: command failed (exit $rc) at build.sh line $LINENO: $BASH_COMMAND" >&2; exit $rc' ERR

[ "$(uname -m)" = x86_64 ] || die "this builds an x86_64 QEMU on an x86_64 Debian machine; this is $(uname -m)."
[ -r /etc/os-release ] || die "/etc/os-release is missing; this script needs Debian $codename."
os_codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ "$os_codename" = "$codename" ] || die "this is Debian '${os_codename:-unknown}', not $codename: the patches are for $codename's QEMU 7.2."
for tool in apt-get apt-cache dpkg-query sha256sum flock; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed; this script needs a Debian system with apt."
done
is_root() { [ "$(id -u)" = 0 ]; }

mkdir -p "$out" "$dl"
exec 9>"$out/.lock"
flock 9

patches=()
while IFS= read -r p; do patches+=("$p"); done < <(find "$here/patches" -maxdepth 1 -name '*.patch' -type f | LC_ALL=C sort)
[ "${#patches[@]}" -gt 0 ] || die "no patches in $here/patches."

# ---------------------------------------------------------------------------------------------
# apt: deb-src entries for bookworm, bookworm-updates and bookworm-security.

# Prints the Debian source version of qemu that apt's deb-src lists know (empty if none).
have_source() { { apt-cache showsrc --only-source qemu 2>/dev/null || true; } | awk '/^Version:/ { print $2 }'; }

# Writes $deb_src_file: for each deb entry of this machine's apt sources (deb822 *.sources or
# one-line *.list / sources.list) for the bookworm suites, the same entry with Types: deb-src.
write_deb_src() {
  "$python" - "$codename" "$deb_src_file" <<'EOF'
import glob, os, re, sys
codename, target = sys.argv[1], sys.argv[2]
wanted = {codename, codename + "-updates", codename + "-security"}
entries = []  # (uris, suites, signed_by)

def add(uris, suites, signed_by):
    suites = [s for s in suites if s in wanted]
    if uris and suites:
        entries.append((uris, suites, signed_by))

for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    if os.path.abspath(path) == os.path.abspath(target):
        continue
    text = open(path).read()
    for stanza in re.split(r"\n\s*\n", text):
        fields, key = {}, None
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key:
                fields[key] += "\n" + line.strip()
                continue
            if ":" in line:
                key, value = line.split(":", 1)
                key = key.strip().lower()
                fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        if "main" not in fields.get("components", "").split():
            continue
        add(fields.get("uris", "").split(), fields.get("suites", "").split(), fields.get("signed-by"))

one_line = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
for path in one_line:
    if not os.path.exists(path):
        continue
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        m = re.match(r"^deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$", line)
        if not m or "main" not in m.group(4).split():
            continue
        signed_by = None
        if m.group(1):
            o = re.search(r"signed-by=(\S+?)\s*(\]|$)", m.group(1))
            signed_by = o.group(1) if o else None
        add([m.group(2)], [m.group(3)], signed_by)

if not entries:
    sys.exit("no 'deb' entry for %s (main) found in /etc/apt/sources.list(.d)" % " / ".join(sorted(wanted)))
out = ["# Written by Orbit's scripts/qemu-colo/build.sh: source packages (apt-get source qemu)",
       "# for the Debian entries of this machine's apt sources."]
for uris, suites, signed_by in entries:
    out += ["", "Types: deb-src", "URIs: " + " ".join(uris), "Suites: " + " ".join(suites),
            "Components: main"]
    if signed_by:
        if "\n" in signed_by:  # an inline key block
            out.append("Signed-By: " + signed_by.replace("\n", "\n "))
        else:
            out.append("Signed-By: " + signed_by)
tmp = target + ".tmp"
with open(tmp, "w") as f:
    f.write("\n".join(out) + "\n")
os.replace(tmp, target)
EOF
}

# The Debian source version to build: the one behind the qemu-system-x86 package apt would
# install, so the lab's QEMU is the distribution's QEMU plus our patches.
candidate_version() {
  { apt-cache show --no-all-versions qemu-system-x86 2>/dev/null || true; } | awk '
    /^Source:/ { if (match($0, /\(.*\)/)) src = substr($0, RSTART + 1, RLENGTH - 2) }
    /^Version:/ { v = $2 }
    END { if (src != "") print src; else if (v != "") print v }'
}

version=${ORBIT_QEMU_COLO_VERSION:-}
if [ -z "$version" ]; then
  version=$(candidate_version)
  if [ -z "$version" ]; then
    is_root || die "apt knows no qemu-system-x86 package and only root can run 'apt-get update'."
    say "apt knows no qemu-system-x86; running apt-get update"
    apt-get update -q >&2 || die "apt-get update failed; check the Debian mirrors in /etc/apt/sources.list(.d)."
    version=$(candidate_version)
  fi
  [ -n "$version" ] || die "cannot tell which Debian qemu version to build: apt has no candidate for qemu-system-x86. Are $codename's apt sources configured?"
fi
case $version in 1:7.2+dfsg-*) ;; *) die "Debian qemu source version '$version' is not 7.2; the patches in $here/patches are for QEMU 7.2." ;; esac

patch_hashes=$(for p in "${patches[@]}"; do printf '%s  %s\n' "$(sha256sum <"$p" | cut -d' ' -f1)" "$(basename "$p")"; done)
# How the binary is installed: with its symbol table, so a gdb backtrace of a stuck COLO QEMU names QEMU's functions.
install_mode='symbols kept'
key=$(printf 'debian-source=qemu_%s\npatches:\n%s\nconfigure: %s\ninstall: %s\n' "$version" "$patch_hashes" "${configure_opts[*]}" "$install_mode" | sha256sum | cut -d' ' -f1)

# The installed binary must answer these, whatever the cache says.
verify() {
  local bin=$1 out_text
  out_text=$("$bin" -version) || die "$bin -version failed."
  grep -q "QEMU emulator version 7\.2" <<<"$out_text" || die "$bin -version does not report QEMU 7.2: $out_text"
  "$bin" -object colo-compare,help >/dev/null 2>&1 || die "$bin has no colo-compare object (-object colo-compare,help failed)."
  out_text=$("$bin" -object help 2>&1) || die "$bin -object help failed."
  for o in colo-compare filter-mirror filter-redirector filter-rewriter iothread; do
    grep -qw -- "$o" <<<"$out_text" || die "$bin does not list the '$o' object type (-object help)."
  done
  # QEMU 7.2 lists block drivers with -drive format=help (-drive driver=help is not an option).
  out_text=$("$bin" -drive format=help 2>&1) || die "$bin -drive format=help failed."
  for d in quorum replication nbd qcow2; do
    grep -qw -- "$d" <<<"$out_text" || die "$bin does not list the '$d' block driver (-drive format=help)."
  done
  # Starts a machine (paused) with the firmware and a virtio NIC ROM, then quits over QMP:
  # proves that the system firmware path is right.
  out_text=$(printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"quit"}' |
    timeout 60 "$bin" -machine pc -accel tcg -m 64 -nodefaults -display none -S \
      -device virtio-net-pci -qmp stdio 2>&1) ||
    die "$bin could not start a paused pc machine with a virtio-net NIC (firmware under /usr/share/qemu, /usr/share/seabios, /usr/lib/ipxe/qemu?): $out_text"
  grep -q '"return"' <<<"$out_text" || die "$bin did not answer QMP: $out_text"
}

firmware_missing() {
  local f
  for f in "${firmware_files[@]}"; do [ -e "$f" ] || return 0; done
  return 1
}
install_packages() {
  is_root || die "missing Debian packages: $*; run this script as root (or install them) and try again."
  say "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 ||
    die "apt-get install $* failed."
}
if firmware_missing; then install_packages "${firmware_pkgs[@]}"; fi
if firmware_missing; then die "firmware is still missing after installing ${firmware_pkgs[*]}: ${firmware_files[*]}"; fi

if [ "${ORBIT_QEMU_COLO_REBUILD:-0}" != 1 ] && [ -x "$binary" ] && [ -f "$manifest" ] &&
  grep -q "\"key\": \"$key\"" "$manifest"; then
  verify "$binary"
  say "up to date: $binary (Debian qemu $version + ${#patches[@]} patches, key ${key:0:12})"
  exit 0
fi

say "building QEMU for COLO: Debian qemu $version + ${#patches[@]} patches (key ${key:0:12})"

# ---------------------------------------------------------------------------------------------
# Build dependencies.
missing=()
for p in "${build_deps[@]}"; do
  [ "$(dpkg-query -W -f '${Status}' "$p" 2>/dev/null)" = 'install ok installed' ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then install_packages "${missing[@]}"; fi
[ -x "$python" ] || die "$python is missing (Debian's python3 package)."

# ---------------------------------------------------------------------------------------------
# The source package: qemu_<upstream>.orig.tar.xz + .debian.tar.xz + .dsc, kept in dl/.
upstream_version=${version#*:}
upstream_version=${upstream_version%-*}
dsc=$dl/qemu_${version#*:}.dsc
orig=$dl/qemu_${upstream_version}.orig.tar.xz
if [ ! -s "$dsc" ] || [ ! -s "$orig" ]; then
  if ! grep -qxF "$version" <<<"$(have_source)"; then
    if [ ! -f "$deb_src_file" ]; then
      is_root || die "apt has no deb-src entry for qemu $version; run as root so that this script can add $deb_src_file."
      say "adding deb-src entries for $codename, $codename-updates, $codename-security: $deb_src_file"
      write_deb_src || die "could not derive deb-src entries from this machine's apt sources."
    fi
    is_root || die "apt's source lists lack qemu $version and only root can run 'apt-get update'."
    say "apt-get update (for the source lists)"
    apt-get update -q >&2 || die "apt-get update failed; check the Debian mirrors in /etc/apt/sources.list(.d)."
    grep -qxF "$version" <<<"$(have_source)" ||
      die "apt has no source package qemu $version (known: $(have_source | tr '\n' ' ')). Is $codename-security/-updates in $deb_src_file?"
  fi
  say "downloading the Debian source package qemu $version"
  rm -f "$dl"/qemu_*
  # As root, download as root: apt's _apt sandbox user may not be able to enter $dl.
  sandbox=()
  if is_root; then sandbox=(-o APT::Sandbox::User=root); fi
  (cd "$dl" && apt-get source "${sandbox[@]}" --download-only -q "qemu=$version" >&2) ||
    die "apt-get source --download-only qemu=$version failed."
  [ -s "$dsc" ] || die "apt-get source did not produce $dsc."
fi

# ---------------------------------------------------------------------------------------------
# Unpack (dpkg-source applies Debian's patches), apply ours, configure, build.
unpack_start=$(date +%s)
rm -rf "$work"
mkdir -p "$work"
: >"$log"
say "unpacking $(basename "$dsc") with Debian's patches"
dpkg-source --no-copy -x "$dsc" "$work/src" >>"$log" 2>&1 || {
  tail -20 "$log" >&2
  die "dpkg-source -x $dsc failed (log: $log)."
}
for p in "${patches[@]}"; do
  say "applying $(basename "$p")"
  patch -d "$work/src" -p1 --batch --forward --fuzz=0 --no-backup-if-mismatch -i "$p" >>"$log" 2>&1 || {
    tail -20 "$log" >&2
    die "patch $(basename "$p") does not apply cleanly to Debian qemu $version (log: $log)."
  }
done

heavy() { nice -n 19 ionice -c3 "$@"; }
mkdir -p "$work/src/build"
start=$(date +%s)
say "configure: ${configure_opts[*]}"
# Debian's python3 and meson first on PATH: 7.2's configure takes the first python3 it finds
# (--python would need the meson copy that Debian's source package does not ship).
(cd "$work/src/build" && PATH=/usr/bin:/bin:$PATH heavy ../configure --prefix="$install_dir" \
  --with-pkgversion="Debian ${version}, Orbit COLO ${key:0:12}" "${configure_opts[@]}") >>"$log" 2>&1 || {
  tail -30 "$log" >&2
  die "configure failed (log: $log)."
}
grep -q 'replication support *: YES' "$work/src/build/meson-logs/meson-log.txt" "$log" 2>/dev/null ||
  die "configure did not enable replication (needed for COLO); see $log."
say "compiling with ninja -j$jobs under nice -n 19 (output in $log)"
PATH=/usr/bin:/bin:$PATH heavy ninja -C "$work/src/build" -j"$jobs" qemu-system-x86_64 >>"$log" 2>&1 || {
  grep -E 'error|Error|FAILED' "$log" | tail -30 >&2 || true
  die "the QEMU build failed (log: $log)."
}
build_seconds=$(($(date +%s) - start))

# Install: only the binary (not modular; every block driver is built in). Firmware and ROMs
# are the system's, through --firmwarepath.
rm -rf "$install_dir.new"
mkdir -p "$install_dir.new/bin"
cp "$work/src/build/qemu-system-x86_64" "$install_dir.new/bin/"
verify "$install_dir.new/bin/qemu-system-x86_64"
rm -rf "$install_dir"
mv "$install_dir.new" "$install_dir"
# The binary's built-in paths point at $install_dir (--prefix); nothing there is needed at run
# time except the binary itself.

installed_bytes=$(du -sb "$install_dir" | cut -f1)
total_seconds=$(($(date +%s) - unpack_start))
qemu_version=$("$binary" -version | head -1)
KEY=$key VERSION=$version PATCHES=$patch_hashes CONFIGURE="${configure_opts[*]}" BINARY=$binary \
  QEMU_VERSION=$qemu_version BUILD_SECONDS=$build_seconds TOTAL_SECONDS=$total_seconds JOBS=$jobs \
  INSTALLED_BYTES=$installed_bytes "$python" - "$manifest" <<'EOF'
import datetime, json, os, sys
e = os.environ
data = {
    "key": e["KEY"],
    "debianSource": "qemu " + e["VERSION"],
    "patches": [dict(zip(("sha256", "name"), l.split("  ", 1))) for l in e["PATCHES"].splitlines()],
    "configure": e["CONFIGURE"].split(" "),
    "binary": e["BINARY"],
    "qemuVersion": e["QEMU_VERSION"],
    "buildSeconds": int(e["BUILD_SECONDS"]),  # configure + compile, under nice -n 19
    "totalSeconds": int(e["TOTAL_SECONDS"]),  # unpack + patch + configure + compile + install
    "buildJobs": int(e["JOBS"]),
    "cores": os.cpu_count(),
    "loadAverage1m": round(os.getloadavg()[0], 2),
    "installedBytes": int(e["INSTALLED_BYTES"]),
    "builtAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
}
tmp = sys.argv[1] + ".tmp"
with open(tmp, "w") as f:
    json.dump(data, f, indent=2)
    f.write("\n")
os.replace(tmp, sys.argv[1])
EOF
if [ "${ORBIT_QEMU_COLO_KEEP_TREE:-0}" != 1 ]; then rm -rf "$work"; fi
say "built $binary: configure + compile ${build_seconds}s, all ${total_seconds}s (-j$jobs, nice 19); installed size $((installed_bytes / 1024 / 1024)) MiB"
say "$qemu_version"
