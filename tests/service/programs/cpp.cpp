#include <fstream>
#include <iostream>
#include <string>

int main(int argc, char **argv)
{
    std::string line, data;
    std::getline(std::cin, line);
    std::ifstream f("data.txt");
    std::getline(f, data);
    std::cout << line << "|" << argv[1] << "|" << argv[2] << "|" << data << std::endl;
    return argc == 3 ? 0 : 1;
}
