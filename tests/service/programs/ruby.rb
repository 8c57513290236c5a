line = $stdin.gets.strip
data = File.read("data.txt").strip
puts "#{line}|#{ARGV[0]}|#{ARGV[1]}|#{data}"
