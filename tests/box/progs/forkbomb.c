/* forkbomb — every process forks forever. The box's process limit must stop
 * it with EAGAIN; the main process reports that and waits for the wall
 * limit, the others sleep, so the host's CPUs stay quiet. */
#include "prog.h"

int main(void)
{
    long forked = 0;
    for (;;) {
        pid_t pid = fork();
        if (pid == 0) {
            for (;;)
                if (fork() < 0)
                    pause();
        }
        if (pid < 0) {
            report("fork", -1);
            sayf("forked", "%ld", forked);
            for (;;)
                pause();
        }
        forked++;
    }
}
