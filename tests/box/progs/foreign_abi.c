/* foreign_abi x32|int80 — calls unshare(CLONE_NEWUSER) through a foreign
 * ABI, where a filter written for x86_64 numbers would not recognise it:
 * the x32 number (nr | 0x40000000) or the i386 `int 0x80` gate (unshare is
 * 310 there). The box must kill the process (SIGSYS) before the call runs;
 * if it returns, it prints executed=RESULT. */
#include "prog.h"

#include <sched.h>
#include <sys/syscall.h>

#define X32_SYSCALL_BIT 0x40000000L
#define I386_UNSHARE 310L

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "x32";
    sayf("start", "%s", mode);
    long rc;
    if (strcmp(mode, "int80") == 0) {
        long nr = I386_UNSHARE, flags = CLONE_NEWUSER;
        __asm__ volatile("int $0x80"
                         : "=a"(rc)
                         : "a"(nr), "b"(flags)
                         : "memory", "r8", "r9", "r10", "r11");
    } else {
        rc = syscall(X32_SYSCALL_BIT | SYS_unshare, CLONE_NEWUSER);
        if (rc < 0)
            rc = -errno;
    }
    sayf("executed", "%ld", rc);
    return 0;
}
