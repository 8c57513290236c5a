/* fs.c — the box's files, from the host's side.
 *
 * The host never follows a symlink inside a box directory: every access
 * below a workspace goes component by component through openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS (O_NOFOLLOW where openat2 is
 * missing), and nothing is ever chowned by path or recursively. That is the
 * class of bug behind Judge0's host takeovers (CVE-2024-28185, where the
 * worker wrote through a planted symlink, and CVE-2024-28189, where cleanup
 * chowned through one). A workspace is thrown away by detaching its tmpfs,
 * never by walking it. */
#include "box/internal.h"

#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static int plan_add(root_plan *p, plan_kind kind, const char *dst, const char *src, char *err,
                    size_t errlen)
{
    plan_op *ops = realloc(p->ops, (p->n + 1) * sizeof *ops);
    if (!ops)
        return box_fail(err, errlen, "out of memory");
    p->ops = ops;
    plan_op *op = &ops[p->n++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    snprintf(op->dst, sizeof op->dst, "%s", dst);
    snprintf(op->src, sizeof op->src, "%s", src ? src : "");
    if (kind == PLAN_BIND_RO) {
        struct stat st;
        struct statvfs sv;
        if (stat(src, &st) < 0 || statvfs(src, &sv) < 0)
            return box_fail(err, errlen, "cannot stat %s:", src);
        op->is_dir = S_ISDIR(st.st_mode);
        /* A read-only remount of a bind must keep the flags the kernel locked
         * from the source mount, or it fails with EPERM in a user namespace. */
        static const struct {
            unsigned long st, ms;
        } map[] = {{ST_NOSUID, MS_NOSUID},         {ST_NODEV, MS_NODEV},
                   {ST_NOEXEC, MS_NOEXEC},         {ST_NOATIME, MS_NOATIME},
                   {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME}};
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (sv.f_flag & map[i].st)
                op->locked |= map[i].ms;
    }
    return 0;
}

const char *const box_default_etc[] = {
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "ssl",        "ca-certificates",
    "localtime",   "timezone",   "protocols",    "services",     "mime.types", NULL,
};

int fs_plan_build(root_plan *plan, const char *const *etc, char *err, size_t errlen)
{
    memset(plan, 0, sizeof *plan);
    if (plan_add(plan, PLAN_BIND_RO, "usr", "/usr", err, errlen) < 0)
        return -1;
    /* /bin, /lib, ...: links into /usr on a merged-/usr host, directories elsewhere. */
    static const char *const top[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) {
        char path[64], target[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof path, "/%s", top[i]);
        if (lstat(path, &st) < 0)
            continue;
        if (S_ISLNK(st.st_mode)) {
            ssize_t n = readlink(path, target, sizeof target - 1);
            if (n <= 0)
                continue;
            target[n] = 0;
            if (plan_add(plan, PLAN_SYMLINK, top[i], target, err, errlen) < 0)
                return -1;
        } else if (S_ISDIR(st.st_mode)) {
            if (plan_add(plan, PLAN_BIND_RO, top[i], path, err, errlen) < 0)
                return -1;
        }
    }
    if (plan_add(plan, PLAN_DIR, "etc", NULL, err, errlen) < 0)
        return -1;
    for (const char *const *e = etc ? etc : box_default_etc; *e; e++) {
        char src[PATH_MAX], dst[256];
        if (strchr(*e, '/') || strcmp(*e, "..") == 0 || strcmp(*e, ".") == 0)
            return box_fail(err, errlen, "bad /etc entry '%s': a plain name is expected", *e);
        snprintf(src, sizeof src, "/etc/%s", *e);
        snprintf(dst, sizeof dst, "etc/%s", *e);
        if (access(src, F_OK) != 0)
            continue;
        bool dup = false;
        for (size_t i = 0; i < plan->n; i++)
            dup |= strcmp(plan->ops[i].dst, dst) == 0;
        if (!dup && plan_add(plan, PLAN_BIND_RO, dst, src, err, errlen) < 0)
            return -1;
    }
    char passwd[256], group[128];
    snprintf(passwd, sizeof passwd,
             "%s:x:%d:%d:%s:%s:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
             BOX_USER, BOX_INSIDE_UID, BOX_INSIDE_UID, BOX_USER, BOX_HOME);
    snprintf(group, sizeof group, "%s:x:%d:\nnogroup:x:65534:\n", BOX_USER, BOX_INSIDE_UID);
    if (plan_add(plan, PLAN_FILE, "etc/passwd", passwd, err, errlen) < 0 ||
        plan_add(plan, PLAN_FILE, "etc/group", group, err, errlen) < 0 ||
        plan_add(plan, PLAN_FILE, "etc/hosts", "127.0.0.1 localhost box\n::1 localhost\n", err,
                 errlen) < 0 ||
        plan_add(plan, PLAN_FILE, "etc/hostname", "box\n", err, errlen) < 0 ||
        plan_add(plan, PLAN_FILE, "etc/nsswitch.conf",
                 "passwd: files\ngroup: files\nhosts: files\n", err, errlen) < 0)
        return -1;
    return 0;
}

int fs_check_relpath(const char *path, char *err, size_t errlen)
{
    size_t len = strlen(path);
    if (len == 0 || len >= 1024)
        return box_fail(err, errlen, "file name must be 1 to 1023 bytes");
    if (path[0] == '/')
        return box_fail(err, errlen, "file name '%s' must be relative", path);
    const char *p = path;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || n > 255 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return box_fail(err, errlen, "file name '%s' has an empty, '.', '..' or too long part",
                            path);
        p += n;
        if (*p == '/' && !*++p)
            return box_fail(err, errlen, "file name '%s' ends with '/'", path);
    }
    return 0;
}

int fs_open_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
        .mode = (flags & O_CREAT) ? mode : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
    };
    int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS)
        return fd;
    /* Before Linux 5.6: callers pass one component at a time, so O_NOFOLLOW
     * on the last one is the whole walk. */
    if (strchr(path, '/')) {
        errno = EXDEV;
        return -1;
    }
    return openat(dirfd, path, flags | O_NOFOLLOW | O_CLOEXEC, mode);
}

/* Mount options for a workspace of the given size. Inodes scale with the
 * size, so that "fill the inodes" ends at a cap too. */
static void workspace_opts(uint64_t bytes, char *opts, size_t len)
{
    uint64_t inodes = bytes / 8192;
    inodes = inodes < 1024 ? 1024 : inodes > 65536 ? 65536 : inodes;
    snprintf(opts, len, "size=%" PRIu64 ",nr_inodes=%" PRIu64 ",mode=0755", bytes, inodes);
}

int fs_workspace_resize(const char *dir, uint64_t bytes)
{
    char opts[128];
    workspace_opts(bytes, opts, sizeof opts);
    return mount(NULL, dir, NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV, opts);
}

int fs_workspace_mount(const char *dir, uint64_t bytes, uid_t uid, int *dirfd, char *err,
                       size_t errlen)
{
    char opts[128];
    workspace_opts(bytes, opts, sizeof opts);
    if (mount("xxx-box", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
        return box_fail(err, errlen, "cannot mount the workspace at %s:", dir);
    *dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (*dirfd < 0) {
        box_fail(err, errlen, "cannot open the workspace %s:", dir);
        umount2(dir, MNT_DETACH);
        return -1;
    }
    static const struct {
        const char *name;
        mode_t mode;
    } dirs[] = {{"box", 0755}, {"home", 0755}, {"tmp", 01777}, {"shm", 01777}};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        /* A fresh tmpfs holds nothing a box made: fchownat cannot be tricked. */
        if (mkdirat(*dirfd, dirs[i].name, dirs[i].mode) < 0 ||
            fchownat(*dirfd, dirs[i].name, uid, uid, AT_SYMLINK_NOFOLLOW) < 0 ||
            fchmodat(*dirfd, dirs[i].name, dirs[i].mode, 0) < 0) {
            box_fail(err, errlen, "cannot prepare the workspace directory %s:", dirs[i].name);
            fs_workspace_umount(dir, dirfd);
            return -1;
        }
    }
    return 0;
}

void fs_workspace_umount(const char *dir, int *dirfd)
{
    cleanup_closep(dirfd);
    *dirfd = -1;
    umount2(dir, MNT_DETACH);
}

void fs_umount_below(const char *prefix)
{
    size_t plen = strlen(prefix);
    for (int pass = 0; pass < 64; pass++) {
        FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
            return;
        char line[4096], best[PATH_MAX] = "";
        while (fgets(line, sizeof line, f)) {
            char mnt[PATH_MAX];
            if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
                continue;
            if (strncmp(mnt, prefix, plen) == 0 && (mnt[plen] == '/' || mnt[plen] == 0) &&
                strlen(mnt) > strlen(best))
                snprintf(best, sizeof best, "%s", mnt);
        }
        fclose(f);
        if (!best[0] || umount2(best, MNT_DETACH) < 0)
            return;
    }
}
