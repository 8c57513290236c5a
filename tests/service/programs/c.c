#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    char line[100] = "", data[100] = "";
    if (!fgets(line, sizeof line, stdin))
        return 2;
    line[strcspn(line, "\n")] = 0;
    FILE *f = fopen("data.txt", "r");
    if (!f || !fgets(data, sizeof data, f))
        return 3;
    data[strcspn(data, "\n")] = 0;
    printf("%s|%s|%s|%s\n", line, argv[1], argv[2], data);
    return argc == 3 ? 0 : 1;
}
