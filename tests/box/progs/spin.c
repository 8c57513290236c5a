/* spin MS — burns MS milliseconds of CPU time in one thread, then exits 0
 * and prints spun_ms=N. */
#include "prog.h"

#include <stdlib.h>
#include <time.h>

static long cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    long want = argc > 1 ? atol(argv[1]) : 1000;
    volatile unsigned long n = 0;
    while (cpu_ms() < want)
        for (int i = 0; i < 100000; i++)
            n++;
    sayf("spun_ms", "%ld", cpu_ms());
    return 0;
}
