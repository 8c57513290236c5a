/* spinners N — N threads and the main thread spin on the CPU forever. */
#include "prog.h"

#include <pthread.h>
#include <stdlib.h>

static void *spin(void *arg)
{
    volatile unsigned long *n = arg;
    for (;;)
        (*n)++;
    return NULL;
}

int main(int argc, char **argv)
{
    static volatile unsigned long counters[1024];
    long want = argc > 1 ? atol(argv[1]) : 1;
    long made = 0;
    for (long i = 0; i < want && i < 1024; i++) {
        pthread_t t;
        int e = pthread_create(&t, NULL, spin, (void *)&counters[i]);
        if (e) {
            sayf("pthread_create", "%s", errname(e));
            break;
        }
        made++;
    }
    sayf("threads", "%ld", made);
    spin((void *)&counters[1023]);
    return 0;
}
