/* stopper — stops three children with SIGSTOP, then stops itself. If its
 * own SIGSTOP is ignored (pid 1 of a pid namespace ignores it), it sleeps.
 * The box must still kill and reap all of them at the wall limit. */
#include "prog.h"

#include <signal.h>
#include <sys/wait.h>

int main(void)
{
    int stopped = 0;
    for (int i = 0; i < 3; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            raise(SIGSTOP);
            for (;;)
                pause();
        }
        if (pid < 0) {
            report("fork", -1);
            continue;
        }
        kill(pid, SIGSTOP);
        int st = 0;
        if (waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st))
            stopped++;
    }
    sayf("stopped_children", "%d", stopped);
    sayf("self_stop", "1");
    raise(SIGSTOP);
    for (;;)
        pause();
}
