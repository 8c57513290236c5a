/* spinners N — N threads and the main thread spin on the CPU forever.
 * The threads wait at a barrier until all exist and "threads=N" is out, so
 * the line does not depend on how fast the host creates threads. */
#include "prog.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_barrier_t start;

static void *spin(void *arg)
{
    volatile unsigned long *n = arg;
    pthread_barrier_wait(&start);
    for (;;)
        (*n)++;
    return NULL;
}

int main(int argc, char **argv)
{
    static volatile unsigned long counters[1024];
    long want = argc > 1 ? atol(argv[1]) : 1;
    if (want < 1 || want > 1023)
        want = 1;
    pthread_barrier_init(&start, NULL, (unsigned)want + 1);
    long made = 0;
    for (long i = 0; i < want; i++) {
        pthread_t t;
        int e = pthread_create(&t, NULL, spin, (void *)&counters[i]);
        if (e) {
            sayf("pthread_create", "%s", errname(e));
            break;
        }
        made++;
    }
    sayf("threads", "%ld", made);
    if (made == want)
        pthread_barrier_wait(&start);
    for (;;)
        counters[1023]++;
    return 0;
}
