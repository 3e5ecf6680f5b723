// A backend for proxy traffic tests, run inside a pod network namespace:
//   node lab-server.ts NAME TCP_PORT UDP_PORT
// answers every HTTP request and every UDP datagram with NAME, and prints "ready" once both listen.
import { createSocket } from "node:dgram";
import { createServer } from "node:http";

const [name = "backend", tcpPort = "8080", udpPort = "5353"] = process.argv.slice(2);
const http = createServer((_req, res) => {
  res.setHeader("Connection", "close");
  res.end(name);
});
const udp = createSocket("udp4");
udp.on("message", (_msg, rinfo) => udp.send(name, rinfo.port, rinfo.address));
let listening = 0;
const ready = () => {
  if (++listening === 2) process.stdout.write("ready\n");
};
http.listen(Number(tcpPort), "0.0.0.0", ready);
udp.bind(Number(udpPort), "0.0.0.0", ready);
process.on("SIGTERM", () => process.exit(0));
