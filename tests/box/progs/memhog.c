/* memhog MIB — allocates MIB mebibytes and touches every page, then exits 0
 * after printing done=1. Twice the box's memory limit must end in an OOM
 * kill inside the box (status memory_limit); below the limit it measures
 * the peak the box reports. */
#include "prog.h"

#include <stdlib.h>
#include <sys/mman.h>

#define MIB (1024 * 1024)

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 0;
    for (long i = 0; i < mib; i++) {
        char *p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            report("mmap", -1);
            return 1;
        }
        memset(p, (int)i | 1, MIB);
        /* Keeps the compiler from dropping stores to memory never read. */
        __asm__ volatile("" : : "r"(p) : "memory");
    }
    sayf("allocated_mib", "%ld", mib);
    sayf("done", "1");
    return 0;
}
