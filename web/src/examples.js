// Starter programs, one per runtime name. Each prints, so Run shows something at once.
export const examples = {
  python: `import sys
import time

def greet(name):
    return f"Hello, {name}!"

for i in range(3):
    print(greet("Python"), i)
    time.sleep(0.3)
print("this line goes to stderr", file=sys.stderr)
`,
  node: `const greet = (name) => \`Hello, \${name}!\`;

let i = 0;
const timer = setInterval(() => {
  console.log(greet("Node"), i);
  if (++i === 3) {
    clearInterval(timer);
    console.error("this line goes to stderr");
  }
}, 300);
`,
  ruby: `def greet(name) = "Hello, #{name}!"

3.times do |i|
  puts "#{greet('Ruby')} #{i}"
  sleep 0.3
end
warn "this line goes to stderr"
`,
  go: `package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	for i := 0; i < 3; i++ {
		fmt.Println("Hello, Go!", i)
		time.Sleep(300 * time.Millisecond)
	}
	fmt.Fprintln(os.Stderr, "this line goes to stderr")
}
`,
  rust: `use std::{thread, time::Duration};

fn main() {
    for i in 0..3 {
        println!("Hello, Rust! {}", i);
        thread::sleep(Duration::from_millis(300));
    }
    eprintln!("this line goes to stderr");
}
`,
  c: `#include <stdio.h>
#include <unistd.h>

int main(void)
{
    for (int i = 0; i < 3; i++) {
        printf("Hello, C! %d\\n", i);
        usleep(300 * 1000);
    }
    fprintf(stderr, "this line goes to stderr\\n");
    return 0;
}
`,
  cpp: `#include <chrono>
#include <iostream>
#include <thread>

int main()
{
    for (int i = 0; i < 3; i++) {
        std::cout << "Hello, C++! " << i << std::endl;
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    std::cerr << "this line goes to stderr" << std::endl;
}
`,
  java: `public class Main {
    public static void main(String[] args) throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.out.println("Hello, Java! " + i);
            Thread.sleep(300);
        }
        System.err.println("this line goes to stderr");
    }
}
`,
  bash: `for i in 1 2 3; do
  echo "Hello, Bash! $i"
  sleep 0.3
done
echo "this line goes to stderr" >&2
`,
  perl: `use strict;
use warnings;

for my $i (0 .. 2) {
    print "Hello, Perl! $i\\n";
    select(undef, undef, undef, 0.3);
}
warn "this line goes to stderr\\n";
`,
  php: `<?php
for ($i = 0; $i < 3; $i++) {
    echo "Hello, PHP! $i\\n";
    usleep(300000);
}
fwrite(STDERR, "this line goes to stderr\\n");
`,
  lua: `local function greet(name)
  return "Hello, " .. name .. "!"
end

for i = 0, 2 do
  print(greet("Lua") .. " " .. i)
end
io.stderr:write("this line goes to stderr\\n")
`,
};

// What a console entry starts with, per session language.
export const consoleExamples = {
  python: 'x = 6 * 7',
  node: 'let x = 6 * 7',
  ruby: 'x = 6 * 7',
};

export function starter(language) {
  return examples[language] ?? `// ${language}: write a program here\n`;
}
