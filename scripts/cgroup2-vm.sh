#!/usr/bin/env bash
# Runs the box suites on a pure cgroup v2 host: a KVM guest whose only
# cgroup mount is cgroup2 at /sys/fs/cgroup (the development hosts are v1
# hybrid, so the v2 code of src/box/cgroup.c never runs there).
#
#   scripts/cgroup2-vm.sh [BUILD]        (make test-cgroup2; BUILD: build)
#
# The guest boots Debian's stock kernel (downloaded with apt-get download,
# unpacked under BUILD/cgroup2-vm, never installed into /boot) with a tiny
# busybox initramfs, mounts this host's / read-only over virtio-9p, puts a
# fresh proc, sysfs, devtmpfs, tmpfs /run and /tmp and cgroup2 on it,
# switch_roots into it and runs this same script with --guest: box check,
# then the box suites, then power off. The host side reads the verdict from
# the serial console. Needs root and the Debian mirrors (first run only);
# uses KVM where it can (see below), else emulation. Exits 0 only when
# every suite passed.
#
# Not built here: the binaries. Run `make all` first (make test-cgroup2 does).
set -uo pipefail

# ---- guest side: runs as pid 1 of the guest, after switch_root -----------
if [ "${1:-}" = --guest ]; then
  repo=$2 build=$3
  export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
  cd "$repo" || exit 1
  echo "== guest: $(uname -r), cgroup mounts:"
  grep -E ' - cgroup2? ' /proc/self/mountinfo
  echo "== guest: cgroup.controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
  echo "== $build/xxxd box check"
  "./$build/xxxd" box check
  echo "box check exit status: $?"
  pass=0 fail=0
  for t in "$build"/tests/box/test_*; do
    [ -x "$t" ] || continue
    echo "== $t"
    if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)) && echo "SUITE FAILED: $t"; fi
  done
  for t in tests/box/test_*.sh; do
    echo "== $t"
    if BUILD="$build" bash "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)) && echo "SUITE FAILED: $t"; fi
  done
  if [ "$fail" -ne 0 ]; then
    echo "== kernel log (last 40 lines)"
    dmesg | tail -n 40
  fi
  echo "cgroup2-vm: $pass passed, $fail failed"
  sync
  # pid 1 must not exit (that panics); busybox-static is on the host root.
  busybox poweroff -f
  echo o >/proc/sysrq-trigger
  sleep 10
  exit 1
fi

# ---- host side -------------------------------------------------------------
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
self="$repo/scripts/$(basename "$0")"
work="$repo/$build/cgroup2-vm"
die() {
  echo "cgroup2-vm: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (apt-get, and the suites build real boxes)"
[ -x "$repo/$build/xxxd" ] || die "$build/xxxd is missing: run make all first"

# Host tools: qemu (no recommends: no GUI), busybox-static (initramfs and
# the guest's poweroff).
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] && /bin/busybox --list | grep -qx switch_root || need+=(busybox-static)
if [ "${#need[@]}" -gt 0 ]; then
  echo "cgroup2-vm: installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null ||
    die "apt-get install ${need[*]} failed"
fi

# The kernel: whatever linux-image-amd64 depends on today (no version here).
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1)
[ -n "$pkg" ] || die "apt-cache finds no linux-image-amd64 dependency (apt-get update?)"
kdir="$work/$pkg"
if [ ! -d "$kdir/lib/modules" ]; then
  echo "cgroup2-vm: fetching $pkg"
  tmp=$(mktemp -d) || die "mktemp failed"
  # apt drops privileges to _apt for downloads: give it a directory it can write.
  chown _apt "$tmp" 2>/dev/null
  (cd "$tmp" && apt-get download -q "$pkg" >/dev/null) || die "apt-get download $pkg failed"
  rm -rf "$kdir.part"
  # Only the kernel and the module folders 9p over virtio can need (about
  # 50 MB of the package's 400): disks may be small.
  if ! mkdir -p "$kdir.part" ||
    ! dpkg-deb --fsys-tarfile "$tmp"/"$pkg"_*.deb | tar -x -C "$kdir.part" --wildcards \
      './boot/vmlinuz-*' './lib/modules/*/kernel/fs/*' './lib/modules/*/kernel/net/9p/*' \
      './lib/modules/*/kernel/drivers/virtio/*' './lib/modules/*/kernel/lib/*' ||
    ! mv "$kdir.part" "$kdir"; then
    die "cannot unpack $pkg"
  fi
  rm -rf "$tmp"
fi
kver=$(basename "$(echo "$kdir"/lib/modules/*)")
vmlinuz="$kdir/boot/vmlinuz-$kver"
[ -f "$vmlinuz" ] || die "no $vmlinuz"

# The initramfs: static busybox, the modules that 9p over virtio-pci needs
# (with what they depend on, read from each module's modinfo, in load
# order) and /init. Rebuilt each run: it takes well under a second.
mods="$kdir/lib/modules/$kver/kernel"
declare -A seen=()
order=()
add_module() { # name: appends its dependencies, then itself
  local name=$1 file dep
  [ -n "${seen[$name]:-}" ] && return
  seen[$name]=1
  file=$(find "$mods" -name "$name.ko" -o -name "${name//_/-}.ko" | head -n 1)
  [ -n "$file" ] || return 0 # built in
  for dep in $(tr '\0' '\n' <"$file" | sed -n 's/^depends=//p' | tr ',' ' '); do
    add_module "$dep"
  done
  order+=("$file")
}
for m in virtio_pci 9pnet_virtio 9p; do add_module "$m"; done

initrd_dir=$(mktemp -d) || die "mktemp failed"
trap 'rm -rf "$initrd_dir"' EXIT
mkdir -p "$initrd_dir"/{bin,dev,proc,sys,newroot,modules}
cp /bin/busybox "$initrd_dir/bin/busybox"
for f in "${order[@]}"; do
  cp "$f" "$initrd_dir/modules/"
  basename "$f" >>"$initrd_dir/modules/order"
done
cat >"$initrd_dir/init" <<'EOF'
#!/bin/busybox sh
# argv: the guest command, run with /bin/bash from the host root.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t devtmpfs dev /dev
for m in $(cat /modules/order); do insmod "/modules/$m" || echo "init: insmod $m failed"; done
r=/newroot
mount -t 9p -o ro,trans=virtio,version=9p2000.L,cache=loose,msize=524288 hostroot $r ||
  { echo "init: cannot mount the host root"; poweroff -f; }
mount -t proc proc $r/proc
mount -t sysfs sysfs $r/sys
mount -t cgroup2 cgroup2 $r/sys/fs/cgroup
mount -t devtmpfs dev $r/dev
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts devpts $r/dev/pts
mount -t tmpfs -o mode=1777 shm $r/dev/shm
case "$3" in
/tmp/* | /run/*) mkdir -p /hold && mount --bind "$r$3" /hold ;;
esac
mount -t tmpfs -o mode=755 run $r/run
mount -t tmpfs -o mode=1777 tmp $r/tmp
# A checkout under /tmp or /run (CI clones anywhere) was set aside before
# the fresh tmpfs hid it: put it back where it was.
if [ -d /hold ]; then mkdir -p "$r$3" && mount --move /hold "$r$3"; fi
ip link set lo up # the suites check that host ports are reachable from the host
umount /proc /dev
exec switch_root $r /bin/bash "$@"
echo "init: switch_root failed"
poweroff -f
EOF
chmod 755 "$initrd_dir/init"
initrd="$work/initrd.gz"
(cd "$initrd_dir" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$initrd" ||
  die "cannot build the initramfs"

# Accelerator: KVM where the CPU offers hardware virtualisation (vmx/svm).
# Without it /dev/kvm may still exist (kvm_pvm, the page-table based
# nested KVM of these development VMs) but runs only PVM-enabled guest
# kernels: Debian's stops before its first console line. Then emulate (TCG,
# one host thread per vCPU). CGROUP2_VM_ACCEL=kvm|tcg overrides.
accel=${CGROUP2_VM_ACCEL:-}
if [ -z "$accel" ]; then
  accel=tcg
  [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo && accel=kvm
fi
case $accel in
  kvm) accel_args=(-accel kvm -cpu host) ;;
  tcg) accel_args=(-accel 'tcg,thread=multi' -cpu max) ;;
  *) die "CGROUP2_VM_ACCEL must be kvm or tcg" ;;
esac

# Boot. Arguments after "--" on the kernel command line become /init's argv.
log="$work/console.log"
echo "cgroup2-vm: booting $pkg with $accel (console: $log)"
start=$(date +%s)
timeout 600 qemu-system-x86_64 "${accel_args[@]}" -m 4G -smp 2 -nographic -no-reboot \
  -kernel "$vmlinuz" -initrd "$initrd" \
  -append "console=ttyS0 loglevel=3 panic=-1 -- $self --guest $repo $build" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -nic none </dev/null 2>&1 | tr -d '\r' | tee "$log"
qemu_rc=${PIPESTATUS[0]}
echo "cgroup2-vm: guest ran $(($(date +%s) - start)) s, qemu exit status $qemu_rc"

# (no ^: a kernel message may share the line)
verdict=$(grep -oE 'cgroup2-vm: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
[ -n "$verdict" ] || die "the guest gave no verdict (see $log)"
echo "$verdict"
[[ "$verdict" =~ ^cgroup2-vm:\ ([0-9]+)\ passed,\ 0\ failed ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]
