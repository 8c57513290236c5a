read -r line
data=$(head -n1 data.txt)
echo "$line|$1|$2|$data"
