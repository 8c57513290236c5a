my $line = <STDIN>;
chomp $line;
open(my $f, '<', 'data.txt') or die "data.txt: $!";
my $data = <$f>;
chomp $data;
print "$line|$ARGV[0]|$ARGV[1]|$data\n";
