/* tiocsti — tries to push characters into a terminal's input with TIOCSTI
 * (also with the command's high 32 bits set, which the kernel drops but a
 * 64-bit filter compare would miss) and TIOCLINUX, on fd 0. Then looks for
 * a controlling terminal: /dev/tty and tty_nr in /proc/self/stat. */
#include "prog.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

int main(void)
{
    char c = 'x';
    char linux_arg[2] = {6, 0}; /* TIOCL_GETSHIFTSTATE */
    report("tiocsti", ioctl(STDIN_FILENO, TIOCSTI, &c));
    report("tiocsti_high",
           syscall(SYS_ioctl, STDIN_FILENO, (uintptr_t)0xffffffff00000000ULL | TIOCSTI, &c));
    report("tioclinux", ioctl(STDIN_FILENO, TIOCLINUX, linux_arg));
    report("tioclinux_high", syscall(SYS_ioctl, STDIN_FILENO,
                                     (uintptr_t)0xffffffff00000000ULL | TIOCLINUX, linux_arg));
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
    report("dev_tty", fd);

    char stat[1024];
    int sfd = open("/proc/self/stat", O_RDONLY);
    ssize_t n = sfd < 0 ? -1 : read(sfd, stat, sizeof(stat) - 1);
    if (n <= 0)
        return 1;
    stat[n] = '\0';
    /* Field 7 (tty_nr) follows "pid (comm) state ppid pgrp session". */
    const char *p = strrchr(stat, ')');
    int tty_nr = -1;
    if (p && sscanf(p + 1, " %*c %*d %*d %*d %d", &tty_nr) == 1)
        sayf("tty_nr", "%d", tty_nr);
    return 0;
}
