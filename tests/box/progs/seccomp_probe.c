/* seccomp_probe — calls every syscall the box policy must refuse, with
 * arguments that make the kernel fail it with a known errno that differs
 * from the policy's (a bad pointer gives EFAULT, a bad fd EBADF, bad flags
 * EINVAL). Printing `name=ERRNO` lets the test tell "refused by the filter"
 * (the policy's errno) from "reached the kernel and failed anyway".
 *
 * A few calls check privilege before anything else (pivot_root, reboot,
 * swapoff, acct, fsopen, ...): without a filter they fail with EPERM too. For
 * those run `seccomp_probe trace`: it stacks a second filter of our own that
 * answers SECCOMP_RET_TRACE for each probed call. The kernel takes the most
 * severe action of all stacked filters, and ERRNO outranks TRACE, so a call
 * the box refuses still shows the policy's errno, while a call the box lets
 * through meets TRACE with no tracer attached: ENOSYS, and it never runs.
 * clone3 is left out of that layer: its policy errno is ENOSYS already. */
#include "prog.h"

#include <linux/keyctl.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/quota.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* How the trace layer matches a probe: every call, or only with this arg. */
enum match { ALL, ARG0_EQ, ARG0_BITS, ARG1_LOW32 };

struct probe {
    const char *name;
    long nr;
    enum match match;
    uint64_t value; /* what ARG0_EQ, ARG0_BITS or ARG1_LOW32 compares */
    uintptr_t a[6];
};

#define BADPTR ((uintptr_t)1)
#define P(s) ((uintptr_t)(s))
#define TIOC_HIGH(cmd) ((uintptr_t)0xffffffff00000000ULL | (cmd))
/* Any bit outside SOCK_TYPE_MASK, SOCK_CLOEXEC and SOCK_NONBLOCK: EINVAL. */
#define SOCK_BADTYPE (SOCK_RAW | 0x40000000)
/* unshare() rejects unknown bits (0x1 is CSIGNAL there) with EINVAL. */
#define UNSHARE_BAD 0x1
/* CLONE_SIGHAND without CLONE_VM: EINVAL before anything is copied. */
#define CLONE_BAD CLONE_SIGHAND

static char tioc_arg[2] = {6, 0}; /* TIOCLINUX subcode 6: get shift state */

static const struct probe probes[] = {
    {"unshare_newns", SYS_unshare, ALL, 0, {CLONE_NEWNS | UNSHARE_BAD}},
    {"unshare_newuts", SYS_unshare, ALL, 0, {CLONE_NEWUTS | UNSHARE_BAD}},
    {"unshare_newipc", SYS_unshare, ALL, 0, {CLONE_NEWIPC | UNSHARE_BAD}},
    {"unshare_newuser", SYS_unshare, ALL, 0, {CLONE_NEWUSER | UNSHARE_BAD}},
    {"unshare_newpid", SYS_unshare, ALL, 0, {CLONE_NEWPID | UNSHARE_BAD}},
    {"unshare_newnet", SYS_unshare, ALL, 0, {CLONE_NEWNET | UNSHARE_BAD}},
    {"unshare_newcgroup", SYS_unshare, ALL, 0, {CLONE_NEWCGROUP | UNSHARE_BAD}},
    {"unshare_newtime", SYS_unshare, ALL, 0, {CLONE_NEWTIME | UNSHARE_BAD}},
    {"setns", SYS_setns, ALL, 0, {(uintptr_t)-1, 0}},
    {"clone_newns", SYS_clone, ARG0_BITS, CLONE_NEWNS, {CLONE_NEWNS | CLONE_BAD}},
    {"clone_newuts", SYS_clone, ARG0_BITS, CLONE_NEWUTS, {CLONE_NEWUTS | CLONE_BAD}},
    {"clone_newipc", SYS_clone, ARG0_BITS, CLONE_NEWIPC, {CLONE_NEWIPC | CLONE_BAD}},
    {"clone_newuser", SYS_clone, ARG0_BITS, CLONE_NEWUSER, {CLONE_NEWUSER | CLONE_BAD}},
    {"clone_newpid", SYS_clone, ARG0_BITS, CLONE_NEWPID, {CLONE_NEWPID | CLONE_BAD}},
    {"clone_newnet", SYS_clone, ARG0_BITS, CLONE_NEWNET, {CLONE_NEWNET | CLONE_BAD}},
    {"clone_newcgroup", SYS_clone, ARG0_BITS, CLONE_NEWCGROUP, {CLONE_NEWCGROUP | CLONE_BAD}},
    {"clone3", SYS_clone3, ALL, 0, {0, 0}}, /* size 0 < CLONE_ARGS_SIZE_VER0: EINVAL */
    {"mount", SYS_mount, ALL, 0, {P("none"), P("/"), BADPTR, 0, 0}},
    {"umount2", SYS_umount2, ALL, 0, {P("/"), 0x100}},
    {"pivot_root", SYS_pivot_root, ALL, 0, {BADPTR, BADPTR}},
    {"chroot", SYS_chroot, ALL, 0, {BADPTR}},
    {"fsopen", SYS_fsopen, ALL, 0, {BADPTR, 0}},
    {"fsconfig", SYS_fsconfig, ALL, 0, {(uintptr_t)-1, 0xffff, 0, 0, 0}},
    {"fsmount", SYS_fsmount, ALL, 0, {(uintptr_t)-1, 0xffff, 0}},
    {"fspick", SYS_fspick, ALL, 0, {(uintptr_t)-1, P(""), 0xffff}},
    {"move_mount", SYS_move_mount, ALL, 0, {(uintptr_t)-1, P(""), (uintptr_t)-1, P(""), 0xffff}},
    {"open_tree", SYS_open_tree, ALL, 0, {(uintptr_t)-1, P(""), 0x7fffff00}},
    {"mount_setattr", SYS_mount_setattr, ALL, 0, {(uintptr_t)-1, P(""), 0xffff, 0, 0}},
    {"ptrace", SYS_ptrace, ALL, 0, {PTRACE_ATTACH, 0x3ffffff0, 0, 0}}, /* no such pid: ESRCH */
    {"process_vm_readv", SYS_process_vm_readv, ALL, 0, {0, 0, 0, 0, 0, 1}},
    {"process_vm_writev", SYS_process_vm_writev, ALL, 0, {0, 0, 0, 0, 0, 1}},
    {"keyctl", SYS_keyctl, ALL, 0, {0x7fff}}, /* unknown operation: EOPNOTSUPP */
    {"add_key", SYS_add_key, ALL, 0, {BADPTR, P("x"), 0, 0, (uintptr_t)KEY_SPEC_PROCESS_KEYRING}},
    {"request_key", SYS_request_key, ALL, 0, {BADPTR, P("x"), 0, 0}},
    {"bpf", SYS_bpf, ALL, 0, {0, BADPTR, 64}},
    {"perf_event_open", SYS_perf_event_open, ALL, 0, {BADPTR, 0, (uintptr_t)-1, (uintptr_t)-1, 0}},
    {"userfaultfd", SYS_userfaultfd, ALL, 0, {UFFD_USER_MODE_ONLY | 0x2}},
    {"io_uring_setup", SYS_io_uring_setup, ALL, 0, {8, BADPTR}},
    {"io_uring_enter", SYS_io_uring_enter, ALL, 0, {9999, 0, 0, 0, 0, 0}},
    {"io_uring_register", SYS_io_uring_register, ALL, 0, {9999, 0, 0, 0}},
    {"kexec_load", SYS_kexec_load, ALL, 0, {0, 0, 0, 0}},
    {"kexec_file_load", SYS_kexec_file_load, ALL, 0, {(uintptr_t)-1, (uintptr_t)-1, 0, 0, 0}},
    {"init_module", SYS_init_module, ALL, 0, {0, 0, P("")}},
    {"finit_module", SYS_finit_module, ALL, 0, {(uintptr_t)-1, P(""), 0}},
    {"delete_module", SYS_delete_module, ALL, 0, {P("xxx_no_such_module"), 0}},
    {"reboot", SYS_reboot, ALL, 0, {0, 0, 0, 0}},
    {"swapon", SYS_swapon, ALL, 0, {BADPTR, (uintptr_t)-1}},
    {"swapoff", SYS_swapoff, ALL, 0, {BADPTR}},
    {"acct", SYS_acct, ALL, 0, {BADPTR}},
    {"quotactl", SYS_quotactl, ALL, 0, {QCMD(Q_SYNC, 0xff), 0, 0, 0}}, /* type >= MAXQUOTAS */
    {"ioctl_tiocsti", SYS_ioctl, ARG1_LOW32, TIOCSTI, {(uintptr_t)-1, TIOCSTI, P(tioc_arg)}},
    {"ioctl_tiocsti_high",
     SYS_ioctl,
     ARG1_LOW32,
     TIOCSTI,
     {(uintptr_t)-1, TIOC_HIGH(TIOCSTI), P(tioc_arg)}},
    {"ioctl_tioclinux", SYS_ioctl, ARG1_LOW32, TIOCLINUX, {(uintptr_t)-1, TIOCLINUX, P(tioc_arg)}},
    {"ioctl_tioclinux_high",
     SYS_ioctl,
     ARG1_LOW32,
     TIOCLINUX,
     {(uintptr_t)-1, TIOC_HIGH(TIOCLINUX), P(tioc_arg)}},
    {"socket_netlink", SYS_socket, ARG0_EQ, AF_NETLINK, {AF_NETLINK, SOCK_BADTYPE, 0}},
    {"socket_packet", SYS_socket, ARG0_EQ, AF_PACKET, {AF_PACKET, SOCK_BADTYPE, 0}},
    {"socket_vsock", SYS_socket, ARG0_EQ, AF_VSOCK, {AF_VSOCK, SOCK_BADTYPE, 0}},
};

/* Stacks our TRACE filter over the box's; returns 0 or -errno. */
static int load_trace_layer(void)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]) && rc == 0; i++) {
        const struct probe *p = &probes[i];
        if (p->nr == SYS_clone3)
            continue;
        switch (p->match) {
        case ALL:
            rc = seccomp_rule_add(ctx, SCMP_ACT_TRACE(0), (int)p->nr, 0);
            break;
        case ARG0_EQ:
            rc = seccomp_rule_add(ctx, SCMP_ACT_TRACE(0), (int)p->nr, 1,
                                  SCMP_A0(SCMP_CMP_EQ, p->value));
            break;
        case ARG0_BITS:
            rc = seccomp_rule_add(ctx, SCMP_ACT_TRACE(0), (int)p->nr, 1,
                                  SCMP_A0(SCMP_CMP_MASKED_EQ, p->value, p->value));
            break;
        case ARG1_LOW32:
            rc = seccomp_rule_add(ctx, SCMP_ACT_TRACE(0), (int)p->nr, 1,
                                  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, p->value));
            break;
        }
        /* The same rule twice (the _high ioctl variants) is not an error. */
        if (rc == -EEXIST)
            rc = 0;
    }
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "trace") == 0) {
        int rc = load_trace_layer();
        if (rc < 0) {
            sayf("trace_layer", "%s", errname(-rc));
            return 1;
        }
        sayf("trace_layer", "0");
    }
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        const struct probe *p = &probes[i];
        long rc = syscall(p->nr, p->a[0], p->a[1], p->a[2], p->a[3], p->a[4], p->a[5]);
        if (rc == 0 && (p->nr == SYS_clone || p->nr == SYS_clone3))
            _exit(0); /* a child: cannot happen with these flags, never print twice */
        report(p->name, rc);
        if (rc > 0 && p->nr != SYS_clone)
            close((int)rc);
    }
    sayf("probe", "done");
    return 0;
}
