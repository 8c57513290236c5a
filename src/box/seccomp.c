/* seccomp.c — the box's system call policy, in one table.
 *
 * A deny-list on top of what the kernel already refuses an unprivileged user
 * without capabilities: each rule below closes a path that has been used to
 * escape or attack a host from a container, or a channel between boxes.
 * Foreign ABIs (i386 through int 0x80, x32 through nr | 0x40000000) kill the
 * process: their syscall numbers differ and would slip past the table.
 *
 * clone3 answers ENOSYS, not EPERM: its flags live in memory the filter
 * cannot read, and ENOSYS makes glibc fall back to clone(2), whose flags the
 * filter checks. */
#include "box/internal.h"

#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

/* The CLONE_NEW* flags that clone(2) accepts (CLONE_NEWTIME is clone3-only). */
#define CLONE_NEW_ANY                                                                              \
    (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |  \
     CLONE_NEWNET)

typedef enum {
    ALWAYS,        /* every call */
    ARG0_ANY_BITS, /* (arg0 & value) != 0 */
    ARG0_EQ,       /* arg0 == value */
    ARG1_LOW32_EQ, /* (arg1 & 0xffffffff) == value: ioctl commands are 32-bit, and the
                      kernel ignores the high half, so a filter comparing all 64 bits
                      could be bypassed by setting them (CVE-2019-10148-style bypass) */
    ARG1_EQ,       /* arg1 == value */
} cond_kind;

typedef struct rule {
    const char *syscall;
    int err;
    cond_kind cond;
    uint64_t value;
    const char *why;
} rule;

static const rule policy[] = {
    /* namespaces: a box must not build itself a new world with new privileges */
    {"unshare", EPERM, ALWAYS, 0, "new namespaces"},
    {"setns", EPERM, ALWAYS, 0, "joining namespaces"},
    {"clone", EPERM, ARG0_ANY_BITS, CLONE_NEW_ANY, "clone with CLONE_NEW* flags"},
    {"clone3", ENOSYS, ALWAYS, 0, "flags unreadable by the filter; glibc falls back to clone"},
    /* the mount family */
    {"mount", EPERM, ALWAYS, 0, "mounts"},
    {"umount2", EPERM, ALWAYS, 0, "unmounts"},
    {"pivot_root", EPERM, ALWAYS, 0, "root change"},
    {"chroot", EPERM, ALWAYS, 0, "root change"},
    {"open_tree", EPERM, ALWAYS, 0, "new mount API"},
    {"move_mount", EPERM, ALWAYS, 0, "new mount API"},
    {"fsopen", EPERM, ALWAYS, 0, "new mount API"},
    {"fsconfig", EPERM, ALWAYS, 0, "new mount API"},
    {"fsmount", EPERM, ALWAYS, 0, "new mount API"},
    {"fspick", EPERM, ALWAYS, 0, "new mount API"},
    {"mount_setattr", EPERM, ALWAYS, 0, "new mount API"},
    /* reaching into other processes */
    {"ptrace", EPERM, ALWAYS, 0, "tracing"},
    {"process_vm_readv", EPERM, ALWAYS, 0, "reading another process"},
    {"process_vm_writev", EPERM, ALWAYS, 0, "writing another process"},
    {"pidfd_getfd", EPERM, ALWAYS, 0, "stealing another process's fds"},
    {"kcmp", EPERM, ALWAYS, 0, "probing another process's kernel objects"},
    /* kernel keyrings are not namespaced: a channel between runs */
    {"keyctl", EPERM, ALWAYS, 0, "keyrings"},
    {"add_key", EPERM, ALWAYS, 0, "keyrings"},
    {"request_key", EPERM, ALWAYS, 0, "keyrings"},
    /* large kernel attack surface */
    {"bpf", EPERM, ALWAYS, 0, "eBPF"},
    {"perf_event_open", EPERM, ALWAYS, 0, "perf events"},
    {"userfaultfd", EPERM, ALWAYS, 0, "stalling the kernel on page faults"},
    {"io_uring_setup", EPERM, ALWAYS, 0, "io_uring"},
    {"io_uring_enter", EPERM, ALWAYS, 0, "io_uring"},
    {"io_uring_register", EPERM, ALWAYS, 0, "io_uring"},
    {"open_by_handle_at", EPERM, ALWAYS, 0, "file handles (the 'shocker' escape)"},
    {"name_to_handle_at", EPERM, ALWAYS, 0, "file handles"},
    {"fanotify_init", EPERM, ALWAYS, 0, "filesystem-wide watches"},
    /* the machine itself */
    {"kexec_load", EPERM, ALWAYS, 0, "kernel replacement"},
    {"kexec_file_load", EPERM, ALWAYS, 0, "kernel replacement"},
    {"init_module", EPERM, ALWAYS, 0, "module loading"},
    {"finit_module", EPERM, ALWAYS, 0, "module loading"},
    {"delete_module", EPERM, ALWAYS, 0, "module unloading"},
    {"reboot", EPERM, ALWAYS, 0, "reboot"},
    {"swapon", EPERM, ALWAYS, 0, "swap"},
    {"swapoff", EPERM, ALWAYS, 0, "swap"},
    {"acct", EPERM, ALWAYS, 0, "process accounting"},
    {"quotactl", EPERM, ALWAYS, 0, "quotas"},
    {"syslog", EPERM, ALWAYS, 0, "kernel log"},
    {"iopl", EPERM, ALWAYS, 0, "port I/O"},
    {"ioperm", EPERM, ALWAYS, 0, "port I/O"},
    /* terminal injection (no tty is given, but an inherited one must stay inert) */
    {"ioctl", EPERM, ARG1_LOW32_EQ, TIOCSTI, "typing into a terminal"},
    {"ioctl", EPERM, ARG1_LOW32_EQ, TIOCLINUX, "console control"},
    /* socket families that reach the host kernel or hypervisor */
    {"socket", EPERM, ARG0_EQ, AF_NETLINK, "netlink"},
    {"socket", EPERM, ARG0_EQ, AF_PACKET, "raw packets"},
    {"socket", EPERM, ARG0_EQ, AF_VSOCK, "hypervisor sockets"},
    /* file locks on the shared read-only files (/usr) are a channel between
     * concurrent boxes (isolate refuses them too); ENOLCK: "no locks available" */
    {"flock", ENOLCK, ALWAYS, 0, "file locks"},
    {"fcntl", ENOLCK, ARG1_EQ, F_SETLK, "file locks"},
    {"fcntl", ENOLCK, ARG1_EQ, F_SETLKW, "file locks"},
    {"fcntl", ENOLCK, ARG1_EQ, F_GETLK, "file locks"},
    {"fcntl", ENOLCK, ARG1_EQ, F_OFD_SETLK, "file locks"},
    {"fcntl", ENOLCK, ARG1_EQ, F_OFD_SETLKW, "file locks"},
    {"fcntl", ENOLCK, ARG1_EQ, F_OFD_GETLK, "file locks"},
    {"fcntl", ENOLCK, ARG1_EQ, F_SETLEASE, "file leases"},
};

static int add_rule(scmp_filter_ctx ctx, const rule *r, char *err, size_t errlen)
{
    int nr = seccomp_syscall_resolve_name(r->syscall);
    if (nr == __NR_SCMP_ERROR)
        return box_fail(err, errlen, "seccomp: unknown syscall %s", r->syscall);
    uint32_t act = SCMP_ACT_ERRNO(r->err);
    int rc;
    switch (r->cond) {
    case ALWAYS:
        rc = seccomp_rule_add(ctx, act, nr, 0);
        break;
    case ARG0_ANY_BITS:
        /* (arg0 & value) != 0 is "not (arg0 & value == 0)": one rule per bit. */
        rc = 0;
        for (int b = 0; b < 64 && rc == 0; b++)
            if (r->value & (1ULL << b))
                rc = seccomp_rule_add(ctx, act, nr, 1,
                                      SCMP_A0(SCMP_CMP_MASKED_EQ, 1ULL << b, 1ULL << b));
        break;
    case ARG0_EQ:
        rc = seccomp_rule_add(ctx, act, nr, 1, SCMP_A0(SCMP_CMP_EQ, r->value));
        break;
    case ARG1_LOW32_EQ:
        rc =
            seccomp_rule_add(ctx, act, nr, 1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, r->value));
        break;
    case ARG1_EQ:
        rc = seccomp_rule_add(ctx, act, nr, 1, SCMP_A1(SCMP_CMP_EQ, r->value));
        break;
    default:
        rc = -EINVAL;
    }
    if (rc < 0) {
        errno = -rc;
        return box_fail(err, errlen, "seccomp rule for %s:", r->syscall);
    }
    return 0;
}

int seccomp_build(struct sock_fprog *prog, char *err, size_t errlen)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return box_fail(err, errlen, "seccomp_init failed");
    int rc = -1;
    _cleanup_close_ int mfd = -1;
    /* Only the native ABI is in the filter; calls from any other kill. */
    if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0) {
        box_fail(err, errlen, "seccomp: cannot set the bad-arch action");
        goto out;
    }
    /* A binary search over the syscall numbers instead of a chain: fewer
     * instructions per call, and far fewer for the kernel to emulate when
     * it builds its per-syscall cache at every box's seccomp(2). */
    if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0) {
        /* libseccomp before 2.5: the chain it is */
    }
    for (size_t i = 0; i < sizeof policy / sizeof policy[0]; i++)
        if (add_rule(ctx, &policy[i], err, errlen) < 0)
            goto out;
    /* libseccomp 2.5 exports to an fd only: go through a memfd. */
    mfd = memfd_create("xxx-seccomp", MFD_CLOEXEC);
    if (mfd < 0 || seccomp_export_bpf(ctx, mfd) < 0) {
        box_fail(err, errlen, "seccomp: cannot export the filter:");
        goto out;
    }
    off_t size = lseek(mfd, 0, SEEK_END);
    if (size <= 0 || size % sizeof(struct sock_filter) != 0) {
        box_fail(err, errlen, "seccomp: exported filter has size %lld", (long long)size);
        goto out;
    }
    struct sock_filter *f = malloc(size);
    if (!f || pread(mfd, f, size, 0) != size) {
        free(f);
        box_fail(err, errlen, "seccomp: cannot read the filter back:");
        goto out;
    }
    prog->filter = f;
    prog->len = (unsigned short)(size / sizeof(struct sock_filter));
    rc = 0;
out:
    seccomp_release(ctx);
    return rc;
}

void seccomp_describe(char *buf, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof policy / sizeof policy[0] && n < len; i++) {
        const rule *r = &policy[i];
        const char *cond = r->cond == ALWAYS          ? ""
                           : r->cond == ARG0_ANY_BITS ? " (some flags)"
                                                      : " (some arguments)";
        int w = snprintf(buf + n, len - n, "  %-18s -> %-7s %s%s\n", r->syscall,
                         r->err == EPERM    ? "EPERM"
                         : r->err == ENOSYS ? "ENOSYS"
                                            : "ENOLCK",
                         r->why, cond);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}
