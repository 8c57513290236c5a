#!/usr/bin/env bash
# build-images.sh — OCI images of the installed runtimes for the Podman
# backend, built without pulling anything: each image is a root filesystem
# assembled from the host's own files and imported with `podman import`.
#
#   scripts/build-images.sh [--push REGISTRY] [--runtimes DIR] [LANGUAGE...]
#
# For each language (default: every runtimes/*.json that names an "image"):
# the Debian packages owning the programs its definition runs, what they
# recommend (gcc: libc6-dev), and their installed dependencies (Depends,
# Pre-Depends, recursively) give the file
# list (docs, man pages and locales left out), with files under /usr its
# environment names (LD_PRELOAD); then the /etc files the
# native boxes bind, a passwd/group, and empty mount points (/box, /tmp,
# /home/box, /proc, /dev, /sys). The image is labelled with a hash of every
# file's path, size and mtime (xxx.content): when an image with the same
# label exists the build is skipped, so a second call costs seconds.
#
# --push REGISTRY also pushes each image to REGISTRY (e.g. localhost:5001,
# Debian's docker-registry) as REGISTRY/<name without localhost/>, where
# other nodes' xxxd --image-registry pulls it from. Needs root (Podman's
# system storage) and podman, dpkg, python3, tar.
#
# CONTAINERS_CONF and CONTAINERS_STORAGE_CONF are honoured as podman does.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNTIMES=$ROOT/runtimes
PUSH=
langs=()
while (($#)); do
  case $1 in
  --push) PUSH=$2; shift 2 ;;
  --runtimes) RUNTIMES=$2; shift 2 ;;
  -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
  -*) echo "build-images.sh: unknown option $1" >&2; exit 2 ;;
  *) langs+=("$1"); shift ;;
  esac
done
if ((${#langs[@]} == 0)); then
  for f in "$RUNTIMES"/*.json; do
    grep -q '"image"' "$f" && langs+=("$(basename "$f" .json)")
  done
fi

WORK=$(mktemp -d /var/tmp/xxx-images.XXXXXX)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT

# plan LANGUAGE: writes $WORK/LANG.list (paths under /, one per line),
# $WORK/LANG.image and $WORK/LANG.hash.
plan() {
  python3 - "$RUNTIMES/$1.json" "$WORK/$1" <<'EOF'
import hashlib, json, os, subprocess, sys

defn = json.load(open(sys.argv[1]))
out = sys.argv[2]
image = defn.get("image")
if not image:
    sys.exit(f"{sys.argv[1]}: no \"image\" field")

# Programs the definition runs (absolute argv[0]s).
progs = set()
for key in ("compile", "run"):
    if defn.get(key) and defn[key][0].startswith("/"):
        progs.add(defn[key][0])
v = defn.get("version", {}).get("command")
if v and v[0].startswith("/"):
    progs.add(v[0])

def owner(path):
    r = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    return r.stdout.split(":")[0].split(",")[0].strip()

installed = {}
recommends = {}
r = subprocess.run(["dpkg-query", "-W", "-f", "${Package}:${Architecture}\t${Status}\t${Depends}, ${Pre-Depends}\t${Recommends}\n"],
                   capture_output=True, text=True, check=True)
for line in r.stdout.splitlines():
    name, status, deps, rec = line.split("\t")
    if "installed" not in status.split()[-1:]:
        continue
    installed[name.split(":")[0]] = deps
    recommends[name.split(":")[0]] = rec

pkgs, todo = set(), []
for p in progs:
    for cand in (p, os.path.realpath(p)):
        o = owner(cand)
        if o:
            todo.append(o.split(":")[0])
# The programs' own packages also bring what they recommend (gcc: libc6-dev,
# the headers); everything below that, only what it depends on.
for p in list(todo):
    for dep in recommends.get(p, "").split(","):
        alts = [a.strip().split(" ")[0].split(":")[0] for a in dep.split("|") if a.strip()]
        todo.extend(a for a in alts[:1] if a in installed)
while todo:
    p = todo.pop()
    if p in pkgs or p not in installed:
        continue
    pkgs.add(p)
    for dep in installed[p].split(","):
        alts = [a.strip().split(" ")[0].split(":")[0] for a in dep.split("|") if a.strip()]
        for a in alts:
            if a in installed:
                todo.append(a)
                break
# The programs the image is for, and anything under /etc the native box binds.
skip = ("/usr/share/doc", "/usr/share/man", "/usr/share/info", "/usr/share/locale", "/usr/share/lintian")
files = set()
def add(path):
    # Canonical directory, file name kept (a link stays a link).
    d, b = os.path.split(path)
    real = os.path.join(os.path.realpath(d), b)
    if real.count("/") == 1:  # top-level entries come from the skeleton
        return
    if real.startswith(skip) or not os.path.lexists(real) or real in files:
        return
    files.add(real)
    if os.path.islink(real):
        t = os.readlink(real)
        add(t if t.startswith("/") else os.path.normpath(os.path.join(os.path.dirname(real), t)))
for p in sorted(pkgs):
    r = subprocess.run(["dpkg", "-L", p], capture_output=True, text=True)
    for f in r.stdout.splitlines():
        if f.startswith("/") and f != "/." and not os.path.isdir(f) or os.path.islink(f):
            add(f)
for p in progs:
    add(p)
# Files the environment names (LD_PRELOAD=/usr/libexec/coreutils/libstdbuf.so, ...).
for val in defn.get("env", {}).values():
    for word in val.replace(":", " ").split():
        if word.startswith("/usr/") and os.path.isfile(word):
            add(word)
etc = ["ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "ssl", "ca-certificates",
       "localtime", "timezone", "protocols", "services", "mime.types"] + defn.get("etc", [])
for e in etc:
    top = "/etc/" + e
    if os.path.isdir(top) and not os.path.islink(top):
        for dp, dn, fn in os.walk(top):
            for n in fn:
                add(os.path.join(dp, n))
    elif os.path.lexists(top):
        add(top)
h = hashlib.sha256(b"xxx-images 1\n")
for f in sorted(files):
    st = os.lstat(f)
    h.update(f"{f}\0{st.st_size}\0{int(st.st_mtime)}\0{st.st_mode}\n".encode())
with open(out + ".list", "w") as fh:
    for f in sorted(files):
        fh.write(f[1:] + "\n")
open(out + ".image", "w").write(image)
open(out + ".hash", "w").write(h.hexdigest()[:32])
print(f"{defn['name']}: {len(pkgs)} packages, {len(files)} files")
EOF
}

build() {
  local lang=$1 image hash have
  plan "$lang"
  image=$(cat "$WORK/$lang.image")
  hash=$(cat "$WORK/$lang.hash")
  have=$(podman image inspect --format '{{index .Labels "xxx.content"}}' "$image" 2>/dev/null || true)
  if [ "$have" == "$hash" ]; then
    echo "$lang: $image is up to date ($hash)"
  else
    # The skeleton: mount points, the box user, the merged-/usr links.
    local skel=$WORK/$lang.skel
    mkdir -p "$skel"/{box,tmp,home/box,proc,dev,sys,etc,run}
    chmod 1777 "$skel/tmp"
    printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nbox:x:1000:1000:box:/home/box:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$skel/etc/passwd"
    printf 'root:x:0:\nbox:x:1000:\nnogroup:x:65534:\n' >"$skel/etc/group"
    for l in bin sbin lib lib32 lib64 libx32; do
      [ -L "/$l" ] && ln -s "$(readlink "/$l")" "$skel/$l"
    done
    tar -C "$skel" -cf "$WORK/$lang.tar" .
    tar -C / --no-recursion -rf "$WORK/$lang.tar" -T "$WORK/$lang.list"
    podman import --change "LABEL xxx.content=$hash" --change "WORKDIR /box" \
      "$WORK/$lang.tar" "$image" >/dev/null
    rm -f "$WORK/$lang.tar"
    # The image this one replaced is left untagged: drop it.
    podman image prune -f --filter label=xxx.content >/dev/null 2>&1 || true
    echo "$lang: built $image ($hash)"
  fi
  if [ -n "$PUSH" ]; then
    podman push --tls-verify=false "$image" "$PUSH/${image#localhost/}" >/dev/null
    echo "$lang: pushed $PUSH/${image#localhost/}"
  fi
}

for l in "${langs[@]}"; do
  build "$l"
done
