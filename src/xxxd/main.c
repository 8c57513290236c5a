/* main.c — xxxd: the xxx server and its box tool. */
#include "xxxd/box_cmd.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "box") == 0)
        return box_cmd_main(argc - 1, argv + 1);
    fprintf(stderr, "usage: xxxd box run|check ...\n");
    return 2;
}
