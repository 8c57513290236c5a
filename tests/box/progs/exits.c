/* exits code N | abort — exits with status N, or dies of SIGABRT. */
#include "prog.h"

#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "code") == 0)
        return atoi(argv[2]);
    if (argc > 1 && strcmp(argv[1], "abort") == 0)
        abort();
    return 2;
}
