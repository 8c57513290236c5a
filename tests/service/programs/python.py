import sys
line = sys.stdin.readline().strip()
data = open("data.txt").read().strip()
print(f"{line}|{sys.argv[1]}|{sys.argv[2]}|{data}")
