/* chunks — writes numbered lines to stdout and stderr, one write each,
 * then "ready" on stdout, and waits for a line "go" on stdin before writing
 * more and "done". It ends only if its output reached the reader while it
 * ran: the test answers "go" when it sees "ready". */
#include "prog.h"

static void lines(int from, int to)
{
    char buf[64];
    for (int i = from; i < to; i++) {
        int n = snprintf(buf, sizeof(buf), "out %d\n", i);
        if (write(STDOUT_FILENO, buf, (size_t)n) != n)
            _exit(3);
        n = snprintf(buf, sizeof(buf), "err %d\n", i);
        if (write(STDERR_FILENO, buf, (size_t)n) != n)
            _exit(3);
    }
}

int main(void)
{
    lines(0, 100);
    if (write(STDOUT_FILENO, "ready\n", 6) != 6)
        return 3;
    char buf[16];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(buf) - 1 &&
           (n = read(STDIN_FILENO, buf + len, sizeof(buf) - 1 - len)) > 0) {
        len += (size_t)n;
        if (memchr(buf, '\n', len))
            break;
    }
    buf[len] = '\0';
    if (strcmp(buf, "go\n") != 0)
        return 4;
    lines(100, 200);
    return write(STDOUT_FILENO, "done\n", 5) == 5 ? 0 : 3;
}
