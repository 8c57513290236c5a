/* kernel_surface — the big kernel attack surfaces, called the way an
 * exploit would (valid arguments that succeed for an unprivileged user on
 * a default kernel): userfaultfd in user mode, io_uring_setup, a
 * user-space-only perf counter on itself, a bpf array map. */
#include "prog.h"

#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <linux/userfaultfd.h>
#include <fcntl.h>
#include <sys/syscall.h>

int main(void)
{
    report("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY));

    struct io_uring_params params = {0};
    report("io_uring_setup", syscall(SYS_io_uring_setup, 8, &params));

    struct perf_event_attr attr = {
        .type = PERF_TYPE_SOFTWARE,
        .size = sizeof(attr),
        .config = PERF_COUNT_SW_CPU_CLOCK,
        .exclude_kernel = 1,
        .exclude_hv = 1,
    };
    report("perf_event_open", syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));

    union bpf_attr battr = {
        .map_type = BPF_MAP_TYPE_ARRAY,
        .key_size = 4,
        .value_size = 4,
        .max_entries = 1,
    };
    report("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &battr, sizeof(battr)));
    return 0;
}
