import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;

public class Main {
    public static void main(String[] args) throws Exception {
        String line = new BufferedReader(new InputStreamReader(System.in)).readLine();
        String data = Files.readAllLines(Path.of("data.txt")).get(0);
        System.out.println(line + "|" + args[0] + "|" + args[1] + "|" + data);
    }
}
