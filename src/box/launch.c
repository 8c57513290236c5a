/* launch.c — starting a box's init: xxx-init (src/boxinit) from a sealed
 * memfd, cloned into the box's namespaces without a copy of the server.
 *
 * The clone shares the server's memory (CLONE_VM | CLONE_VFORK, as
 * posix_spawn does) for the few system calls between clone and execve:
 * placing its fds and closing the rest. The cloning thread waits meanwhile,
 * with every signal blocked, so no handler of the server's can run in the
 * child. What the init needs after that comes down the sync pipe: the conf
 * (encoded here once per pool) and, per step, the spec. */
#include "box/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define XXX_MFD_EXEC 0x0010u /* MFD_EXEC, missing from older headers */
/* umount2's flags: <sys/mount.h>, which clashes with <linux/mount.h> on glibc 2.36. */
#define XXX_MNT_DETACH 2
#define XXX_UMOUNT_NOFOLLOW 8

/* xxx-init itself, linked in by init_image.S. */
extern const unsigned char box_init_image[], box_init_image_end[];

int init_image_open(char *err, size_t errlen)
{
    /* MFD_EXEC (Linux 6.3): where vm.memfd_noexec=1 a memfd is otherwise
     * made non-executable; older kernels do not know the flag. */
    int fd = memfd_create("xxx-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | XXX_MFD_EXEC);
    if (fd < 0 && errno == EINVAL)
        fd = memfd_create("xxx-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 && errno == EACCES)
        return box_fail(err, errlen,
                        "cannot create an executable memfd for xxx-init "
                        "(vm.memfd_noexec=2 forbids them):");
    if (fd < 0)
        return box_fail(err, errlen, "cannot create the memfd for xxx-init:");
    size_t len = (size_t)(box_init_image_end - box_init_image);
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, box_init_image + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            box_fail(err, errlen, "cannot write the init image:");
            close(fd);
            return -1;
        }
        off += (size_t)n;
    }
    /* Sealed: nothing can change what every box starts as. */
    if (fchmod(fd, 0555) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
        box_fail(err, errlen, "cannot seal the init image:");
        close(fd);
        return -1;
    }
    return fd;
}

enum { LAUNCH_NFDS = BOXINIT_NFDS + 3 };

int launch_reserve(box_pool *p, char *err, size_t errlen)
{
    for (int i = 0; i < LAUNCH_NFDS; i++)
        p->launch_fds[i] = -1;
    p->launch_null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (p->launch_null < 0)
        return box_fail(err, errlen, "cannot open /dev/null:");
    for (int i = 0; i < LAUNCH_NFDS; i++)
        if ((p->launch_fds[i] = fcntl(p->launch_null, F_DUPFD_CLOEXEC, 3)) < 0)
            return box_fail(err, errlen, "cannot reserve fds for the boxes' clones:");
    pthread_mutex_init(&p->launch_mu, NULL);
    return 0;
}

void launch_release(box_pool *p)
{
    for (int i = 0; i < LAUNCH_NFDS; i++)
        if (p->launch_fds[i] >= 0)
            close(p->launch_fds[i]);
    if (p->launch_null >= 0)
        close(p->launch_null);
    p->launch_null = -1;
}

int init_conf_encode(box_pool *p, char *err, size_t errlen)
{
    size_t flen = p->filter.len * sizeof *p->filter.filter, n = flen;
    for (size_t i = 0; i < p->plan.n; i++)
        n += sizeof(boxinit_op) + strlen(p->plan.ops[i].dst) + strlen(p->plan.ops[i].src) + 2;
    if (p->plan.n > BOXINIT_MAX_OPS || p->filter.len > BOXINIT_MAX_FILTER ||
        n + 2 * sizeof p->slots[0].root > BOXINIT_CONF_MAX)
        return box_fail(err, errlen, "the box's root plan is too large for xxx-init");
    char *b = malloc(n);
    if (!b)
        return box_fail(err, errlen, "out of memory");
    memcpy(b, p->filter.filter, flen);
    char *q = b + flen;
    for (size_t i = 0; i < p->plan.n; i++) {
        const plan_op *op = &p->plan.ops[i];
        boxinit_op o = {.kind = op->kind, .is_dir = op->is_dir, .locked = op->locked};
        memcpy(q, &o, sizeof o);
        q = stpcpy(stpcpy(q + sizeof o, op->dst) + 1, op->src) + 1;
    }
    p->init_conf = b;
    p->init_conf_len = n;
    return 0;
}

int init_message(int status_r, int timeout_ms, char want, char *err, size_t errlen,
                 const char *otherwise)
{
    struct pollfd pfd = {.fd = status_r, .events = POLLIN};
    boxinit_msg m;
    if (poll(&pfd, 1, timeout_ms) == 1 && read(status_r, &m, sizeof m) == (ssize_t)sizeof m) {
        if (want && m.kind == want)
            return 0;
        if (m.kind == 'E') {
            m.what[sizeof m.what - 1] = 0;
            return box_fail(err, errlen, "box setup failed at %s: %s", m.what,
                            strerrordesc_np(m.value));
        }
    }
    return box_fail(err, errlen, "%s", otherwise);
}

int init_failure(int status_r, char *err, size_t errlen, const char *otherwise)
{
    return init_message(status_r, 0, 0, err, errlen, otherwise);
}

int init_conf_send(const box_slot *s, int fd, uint32_t mode)
{
    const box_pool *p = s->pool;
    size_t root = strlen(s->root) + 1;
    /* A box needs only the filter: the plan is the template's. */
    size_t part =
        mode == BOXINIT_TEMPLATE ? p->init_conf_len : p->filter.len * sizeof *p->filter.filter;
    boxinit_conf h = {
        .magic = BOXINIT_MAGIC,
        .len = (uint32_t)(part + root),
        .cap_last = p->cap_last,
        .nfilter = p->filter.len,
        .nops = mode == BOXINIT_TEMPLATE ? (uint32_t)p->plan.n : 0,
        .mode = mode,
    };
    struct iovec iov[] = {{&h, sizeof h}, {p->init_conf, part}, {(void *)s->root, root}};
    size_t total = sizeof h + h.len;
    /* Less than a pipe holds after the first write, and the init reads it
     * at once: a short write only continues. */
    for (size_t done = 0, i = 0; done < total;) {
        ssize_t n = writev(fd, iov + i, (int)(sizeof iov / sizeof iov[0] - i));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
        for (; i < sizeof iov / sizeof iov[0] && (size_t)n >= iov[i].iov_len; i++)
            n -= (ssize_t)iov[i].iov_len;
        if (i < sizeof iov / sizeof iov[0]) {
            iov[i].iov_base = (char *)iov[i].iov_base + n;
            iov[i].iov_len -= (size_t)n;
        }
    }
    return 0;
}

int box_spec_encode(const box_spec *sp, const box_limits *l, char **blob, size_t *len, char *err,
                    size_t errlen)
{
    spec_hdr h = {.flags = sp->flags,
                  .cpu_ms = l->cpu_ms,
                  .file_bytes = l->file_bytes,
                  .open_files = l->open_files};
    size_t n = 0;
    for (const char *const *a = sp->argv; *a; a++, h.argc++)
        n += strlen(*a) + 1;
    for (const char *const *e = sp->envp; *e; e++, h.envc++)
        n += strlen(*e) + 1;
    const char *cwd = sp->cwd ? sp->cwd : "";
    n += strlen(cwd) + 1;
    if (n > SPEC_MAX || h.argc + h.envc > SPEC_MAX_STRINGS)
        return box_fail(err, errlen, "argv and environment exceed %d bytes or %d entries", SPEC_MAX,
                        SPEC_MAX_STRINGS);
    h.len = (uint32_t)n;
    char *b = malloc(sizeof h + n);
    if (!b)
        return box_fail(err, errlen, "out of memory");
    memcpy(b, &h, sizeof h);
    char *p = b + sizeof h;
    for (const char *const *a = sp->argv; *a; a++)
        p = stpcpy(p, *a) + 1;
    for (const char *const *e = sp->envp; *e; e++)
        p = stpcpy(p, *e) + 1;
    stpcpy(p, cwd);
    *blob = b;
    *len = sizeof h + n;
    return 0;
}

typedef struct launch_args {
    int fds[BOXINIT_NFDS]; /* go to BOXINIT_SYNC_FD ... in this order */
    int image_fd;
    int tmpl_fd, work_fd; /* a box's (-1: a template) */
    int cap_last;
    unsigned copy_below; /* the fds the child's own table starts with */
} launch_args;

/* The child's failure, said on the status pipe as the init says its own. */
__attribute__((no_sanitize("address"), noreturn)) static void child_fail(const char *what)
{
    boxinit_msg m = {.kind = 'E', .value = errno};
    for (size_t i = 0; what[i] && i < sizeof m.what - 1; i++)
        m.what[i] = what[i];
    syscall(SYS_write, BOXINIT_STATUS_FD, &m, sizeof m);
    syscall(SYS_exit, 127);
    __builtin_unreachable();
}

/* The places a box writes: binds of its slot's workspace, which outlives a
 * step (a compile step leaves its binary for the run step). */
static const struct {
    const char *src, *dst;
    uint64_t attr;
} box_binds[] = {
    {"box", "/box", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV},
    {"tmp", "/tmp", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV},
    {"home", "/home/box", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC},
    {"shm", "/dev/shm", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC},
};
#define BOX_NBINDS (sizeof box_binds / sizeof box_binds[0])

/* A box's mounts, as host root, before its user namespace exists: the
 * workspace binds taken from the server's mount namespace, then a private
 * copy of the slot's template (so the box's mounts belong to the host's
 * user namespace, and nothing in the box may change them), the binds and a
 * /proc for its pid namespace put in, its host name set. Then the user
 * namespace: every capability in it, over none of the box's other
 * namespaces. */
/* Detached copies of the workspace's places, each with its mount flags, in
 * tree[]: -1 on error (those made are closed). System calls only: the
 * clone calls it too. */
__attribute__((no_sanitize("address"))) static int workspace_trees(int work_fd,
                                                                   int tree[BOX_NBINDS])
{
    for (size_t i = 0; i < BOX_NBINDS; i++) {
        tree[i] = (int)syscall(SYS_open_tree, work_fd, box_binds[i].src,
                               OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
        struct mount_attr attr = {.attr_set = box_binds[i].attr};
        if (tree[i] < 0 ||
            syscall(SYS_mount_setattr, tree[i], "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
            for (size_t j = 0; j <= i; j++)
                if (tree[j] >= 0)
                    syscall(SYS_close, tree[j]);
            return -1;
        }
    }
    return 0;
}

/* Puts tree[i] at the box's places, in the caller's mount namespace. */
__attribute__((no_sanitize("address"))) static int workspace_place(const int tree[BOX_NBINDS])
{
    for (size_t i = 0; i < BOX_NBINDS; i++)
        if (syscall(SYS_move_mount, tree[i], "", AT_FDCWD, box_binds[i].dst,
                    MOVE_MOUNT_F_EMPTY_PATH) < 0)
            return -1;
    return 0;
}

/* A box's mounts, as host root, before its user namespace exists: the
 * workspace binds taken from the server's mount namespace, then a private
 * copy of the slot's template (so the box's mounts belong to the host's
 * user namespace, and nothing in the box may change them), the binds and a
 * /proc for its pid namespace put in, its host name set. Then the user
 * namespace: every capability in it, over none of the box's other
 * namespaces. */
__attribute__((no_sanitize("address"))) static void enter_box(int tmpl_fd, int work_fd)
{
    int tree[BOX_NBINDS];
    if (workspace_trees(work_fd, tree) < 0)
        child_fail("bind the workspace");
    if (syscall(SYS_setns, tmpl_fd, CLONE_NEWNS) < 0)
        child_fail("enter the slot's root");
    if (syscall(SYS_unshare, CLONE_NEWNS) < 0)
        child_fail("copy the slot's root");
    if (workspace_place(tree) < 0)
        child_fail("place the workspace");
    if (syscall(SYS_mount, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        child_fail("mount /proc");
    if (syscall(SYS_sethostname, "box", 3) < 0 || syscall(SYS_setdomainname, "box", 3) < 0)
        child_fail("hostname");
    if (syscall(SYS_close_range, BOXINIT_SYNC_FD + BOXINIT_NFDS + 1, ~0U, 0) < 0)
        child_fail("close_range");
    if (syscall(SYS_unshare, CLONE_NEWUSER) < 0)
        child_fail("user namespace");
}

int box_rebind(box_slot *s, pid_t init, char *err, size_t errlen)
{
    int tree[BOX_NBINDS];
    if (workspace_trees(s->work_fd, tree) < 0)
        return box_fail(err, errlen, "cannot bind the new workspace:");
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)init);
    int ns = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
    if (ns < 0 || setns(ns, CLONE_NEWNS) < 0) {
        box_fail(err, errlen, "cannot enter the box's mount namespace:");
    } else {
        /* The places are directories of the slot's read-only root (and
         * /dev): nothing the box ran can have changed the paths. */
        rc = 0;
        for (size_t i = 0; i < BOX_NBINDS && rc == 0; i++)
            if (syscall(SYS_umount2, box_binds[i].dst, XXX_MNT_DETACH | XXX_UMOUNT_NOFOLLOW) < 0)
                rc = box_fail(err, errlen, "cannot detach the box's %s:", box_binds[i].dst);
        if (rc == 0 && workspace_place(tree) < 0)
            rc = box_fail(err, errlen, "cannot place the new workspace:");
        ns_return(s->pool->host_mntns_fd, CLONE_NEWNS, "mount");
    }
    if (ns >= 0)
        close(ns);
    for (size_t i = 0; i < BOX_NBINDS; i++)
        close(tree[i]);
    return rc;
}

/* In the clone, on its own stack, in the server's memory: system calls
 * only, writing nothing but its own stack. */
__attribute__((no_sanitize("address"))) static int launch_child(void *arg)
{
    const launch_args *l = arg;
    /* Until this the fd table is the server's: an fd of ours to its own. */
    if (syscall(SYS_close_range, l->copy_below, ~0U, CLOSE_RANGE_UNSHARE) < 0)
        syscall(SYS_exit, 127);
    enum { TOP = BOXINIT_SYNC_FD + BOXINIT_NFDS }; /* first fd number we do not place */
    enum { NLIFT = LAUNCH_NFDS };                  /* the fds, the image, template, workspace */
    bool box = l->tmpl_fd >= 0;
    int lifted[NLIFT];
    for (int i = 0; i < NLIFT; i++) {
        int fd = i < BOXINIT_NFDS        ? l->fds[i]
                 : i == BOXINIT_NFDS     ? l->image_fd
                 : i == BOXINIT_NFDS + 1 ? l->tmpl_fd
                                         : l->work_fd;
        lifted[i] = box || i <= BOXINIT_NFDS
                        ? (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, TOP + NLIFT)
                        : -1;
        if (lifted[i] < 0 && (box || i <= BOXINIT_NFDS))
            syscall(SYS_exit, 127);
    }
    /* dup3 with no flags: the placed fds survive the execve. The image,
     * template and workspace go right above them, close-on-exec. */
    for (int i = 0; i < BOXINIT_NFDS; i++)
        if (syscall(SYS_dup3, lifted[i], BOXINIT_SYNC_FD + i, 0) < 0)
            syscall(SYS_exit, 127);
    for (int i = BOXINIT_NFDS; i < NLIFT; i++)
        if (lifted[i] >= 0 && syscall(SYS_dup3, lifted[i], TOP + i - BOXINIT_NFDS, O_CLOEXEC) < 0)
            syscall(SYS_exit, 127);
    if (syscall(SYS_close_range, box ? TOP + 3 : TOP + 1, ~0U, 0) < 0)
        syscall(SYS_exit, 127);
    if (box)
        enter_box(TOP + 1, TOP + 2);
    /* The new user namespace gave us every capability in it, but execve as
     * a uid it does not map yet (the parent writes the maps after the
     * clone) would drop them: carry over as ambient capabilities what the
     * init needs, and no more (each raise is a system call). A box's init
     * becomes inside root and drops to the box's uid (SETUID, SETGID),
     * unshares its cgroup namespace (SYS_ADMIN), empties the bounding set
     * (SETPCAP), sets resource limits above the server's (SYS_RESOURCE)
     * and kills what a program left behind (KILL). A template's builds a
     * root from the host's files: all of them. The program's process
     * clears every set before its execve. */
    static const int box_caps[] = {CAP_SETUID,    CAP_SETGID,       CAP_SETPCAP,
                                   CAP_SYS_ADMIN, CAP_SYS_RESOURCE, CAP_KILL};
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct caps[2];
    if (syscall(SYS_capget, &hdr, caps) < 0)
        syscall(SYS_exit, 127);
    caps[0].inheritable = caps[0].permitted;
    caps[1].inheritable = caps[1].permitted;
    if (syscall(SYS_capset, &hdr, caps) < 0)
        syscall(SYS_exit, 127);
    int ncaps = box ? (int)(sizeof box_caps / sizeof box_caps[0]) : l->cap_last + 1;
    for (int i = 0; i < ncaps; i++)
        syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, box ? box_caps[i] : i, 0, 0);
    static const char *const argv[] = {"xxx-init", NULL}, *const envp[] = {NULL};
    syscall(SYS_execveat, TOP, "", argv, envp, AT_EMPTY_PATH);
    child_fail("exec xxx-init from its memfd");
}

/* The pid counter's reset, run in the box's pid namespace: next pid 2. */
__attribute__((no_sanitize("address"), noreturn)) static int last_pid_child(void *arg)
{
    (void)arg;
    int fd =
        (int)syscall(SYS_openat, AT_FDCWD, "/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
    long n = fd < 0 ? -1 : syscall(SYS_write, fd, "1", 1);
    if (fd >= 0)
        syscall(SYS_close, fd);
    syscall(SYS_exit, n == 1 ? 0 : 1);
    __builtin_unreachable();
}

int box_pid_reset(box_slot *s, const warm_box *w, char *err, size_t errlen)
{
    /* The box's pid namespace is the host's user namespace's (made by the
     * clone, before the box's own user namespace): only a process in it
     * with the host's capabilities may set its counter, and the box holds
     * none. A child of ours enters it for one write and exits; this
     * thread's namespace for children is set back at once. */
    if (setns(w->pidfd, CLONE_NEWPID) < 0)
        return box_fail(err, errlen, "cannot enter the box's pid namespace:");
    char stack[4096] __attribute__((aligned(16)));
    pid_t pid = clone(last_pid_child, stack + sizeof stack,
                      CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, NULL);
    int e = errno;
    ns_return(s->pool->host_pidns_fd, CLONE_NEWPID, "pid");
    int st = 0;
    if (pid < 0) {
        errno = e;
        return box_fail(err, errlen, "cannot reset the box's pid counter: clone:");
    }
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return box_fail(err, errlen, "cannot reset the box's pid counter");
    return 0;
}

#ifdef __x86_64__
/* clone3 with the child on its own stack, calling fn(arg) there: glibc has
 * no wrapper, and a raw syscall() would return into a frame the child does
 * not have. Only rax, rcx and r11 change across the syscall, so fn and arg
 * ride in r12 and r13; the kernel starts the child with its stack pointer
 * at the (16-byte aligned) top, as a call expects. */
static long clone3_on_stack(struct clone_args *ca, int (*fn)(void *), void *arg)
{
    register long r12 __asm__("r12") = (long)fn;
    register long r13 __asm__("r13") = (long)arg;
    long ret;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "mov %%r13, %%rdi\n\t"
                     "call *%%r12\n\t"
                     "mov %%eax, %%edi\n\t"
                     "mov $60, %%eax\n\t" /* SYS_exit */
                     "syscall\n\t"
                     "hlt\n"
                     "1:"
                     : "=a"(ret)
                     : "0"((long)SYS_clone3), "D"(ca), "S"(sizeof *ca), "r"(r12), "r"(r13)
                     : "rcx", "r11", "memory");
    return ret;
}
#endif

/* The clone itself: clone3 into the cgroup where it can, else clone. The
 * child shares our fd table until its first system call unshares it. */
static pid_t clone_child(launch_args *l, unsigned long ns_flags, int cgroup_fd, bool *in_cgroup,
                         int *pidfd)
{
    /* The child runs on this stack until its execve; we wait meanwhile. */
    char stack[16384] __attribute__((aligned(16)));
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = -1;
    *in_cgroup = false;
#ifdef __x86_64__
    if (cgroup_fd >= 0) {
        struct clone_args ca = {
            .flags =
                ns_flags | CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_PIDFD | CLONE_INTO_CGROUP,
            .pidfd = (uint64_t)(uintptr_t)pidfd,
            .exit_signal = SIGCHLD,
            .stack = (uint64_t)(uintptr_t)stack,
            .stack_size = sizeof stack,
            .cgroup = (uint64_t)cgroup_fd,
        };
        long r = clone3_on_stack(&ca, launch_child, l);
        if (r >= 0) {
            pid = (pid_t)r;
            *in_cgroup = true;
        } else {
            errno = (int)-r;
        }
    }
#endif
    /* Without clone3 (or where we have no trampoline for it), the caller
     * moves the init into its cgroup. */
    if (!*in_cgroup && (cgroup_fd < 0 || errno == ENOSYS || errno == E2BIG)) {
        pid = clone(launch_child, stack + sizeof stack,
                    (int)(ns_flags | CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_PIDFD | SIGCHLD),
                    l, pidfd);
    }
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return pid;
}

pid_t init_clone(box_pool *p, const int fds[BOXINIT_NFDS], unsigned long ns_flags, int cgroup_fd,
                 bool *in_cgroup, int *pidfd, int tmpl_fd, int work_fd)
{
    launch_args l = {.cap_last = p->cap_last};
    int src[LAUNCH_NFDS], *dst[LAUNCH_NFDS];
    for (int i = 0; i < BOXINIT_NFDS; i++) {
        src[i] = fds[i];
        dst[i] = &l.fds[i];
    }
    src[BOXINIT_NFDS] = p->init_fd;
    dst[BOXINIT_NFDS] = &l.image_fd;
    src[BOXINIT_NFDS + 1] = tmpl_fd;
    dst[BOXINIT_NFDS + 1] = &l.tmpl_fd;
    src[BOXINIT_NFDS + 2] = work_fd;
    dst[BOXINIT_NFDS + 2] = &l.work_fd;
    /* The sources onto the held numbers (dup3 swaps atomically: no other
     * thread can take them meanwhile), and back to /dev/null after. */
    pthread_mutex_lock(&p->launch_mu);
    pid_t pid = -1;
    for (int i = 0; i < LAUNCH_NFDS; i++) {
        *dst[i] = -1;
        if (src[i] < 0)
            continue;
        if (dup3(src[i], p->launch_fds[i], O_CLOEXEC) < 0)
            goto out;
        *dst[i] = p->launch_fds[i];
        if ((unsigned)*dst[i] >= l.copy_below)
            l.copy_below = (unsigned)*dst[i] + 1;
    }
    pid = clone_child(&l, ns_flags, cgroup_fd, in_cgroup, pidfd);
out:;
    int e = errno;
    for (int i = 0; i < LAUNCH_NFDS; i++)
        if (*dst[i] >= 0)
            dup3(p->launch_null, p->launch_fds[i], O_CLOEXEC);
    pthread_mutex_unlock(&p->launch_mu);
    errno = e;
    return pid;
}
