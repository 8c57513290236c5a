use std::io::BufRead;

fn main() {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).unwrap();
    let data = std::fs::read_to_string("data.txt").unwrap();
    let args: Vec<String> = std::env::args().collect();
    println!("{}|{}|{}|{}", line.trim(), args[1], args[2], data.trim());
}
