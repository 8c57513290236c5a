/* flood stdout|both — writes to stdout (and, with "both", to stderr in
 * blocks of another size) until a write fails or the box kills it. */
#include "prog.h"

int main(int argc, char **argv)
{
    static char out[65536], err[4099];
    int both = argc > 1 && strcmp(argv[1], "both") == 0;
    memset(out, 'o', sizeof(out));
    memset(err, 'e', sizeof(err));
    for (;;) {
        if (write(STDOUT_FILENO, out, sizeof(out)) < 0)
            return 3;
        if (both && write(STDERR_FILENO, err, sizeof(err)) < 0)
            return 3;
    }
}
