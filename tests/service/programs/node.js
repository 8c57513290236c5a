const fs = require("fs");
const line = fs.readFileSync(0, "utf8").split("\n")[0];
const data = fs.readFileSync("data.txt", "utf8").trim();
console.log(`${line}|${process.argv[2]}|${process.argv[3]}|${data}`);
