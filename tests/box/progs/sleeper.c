/* sleeper forever|stdin — prints ready=1, then sleeps forever, or blocks
 * reading stdin and reports what it read (stdin=eof or stdin=N bytes). */
#include "prog.h"

int main(int argc, char **argv)
{
    sayf("ready", "1");
    if (argc > 1 && strcmp(argv[1], "stdin") == 0) {
        char buf[4096];
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
        if (n < 0)
            report("stdin", -1);
        else if (n == 0)
            sayf("stdin", "eof");
        else
            sayf("stdin", "%zd", n);
        return 0;
    }
    for (;;)
        pause();
}
