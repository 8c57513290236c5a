package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

func main() {
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	data, err := os.ReadFile("data.txt")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s|%s|%s|%s\n", strings.TrimSpace(line), os.Args[1], os.Args[2], strings.TrimSpace(string(data)))
}
