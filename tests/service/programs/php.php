<?php
$line = trim(fgets(STDIN));
$data = trim(file_get_contents("data.txt"));
echo "$line|{$argv[1]}|{$argv[2]}|$data\n";
