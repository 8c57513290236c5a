/* main.c — xxxd: the xxx server (default, or `serve`) and its box tool (`box`). */
#include "xxxd/box_cmd.h"
#include "xxxd/serve.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "box") == 0)
        return box_cmd_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        return serve_main(argc - 1, argv + 1);
    return serve_main(argc, argv);
}
