// The least any HTTPS JSON API server does per create, as a floor for the API server's create rate: read the
// body, parse it, stamp a resourceVersion and uid, store it, and answer with the stored object. No
// validation, defaulting, admission, managed fields or watch. The store is node:sqlite (WAL,
// synchronous=FULL, one commit per create, as the raw rate it is compared with) or, given an endpoint, one
// etcd put per create through etcd3 (as the raw etcd rate).
//
//   node bench/support/minimal-api-server.ts PORT CERT_FILE KEY_FILE [ETCD_ENDPOINT]
//   (prints "ready" once listening)
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Etcd3 } from "etcd3";

const [port, certFile, keyFile, etcdEndpoint] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), "deckhand-bench-minimal-api-"));
const db = new DatabaseSync(join(dir, "store.sqlite"));
db.exec("PRAGMA journal_mode = WAL");
db.exec("PRAGMA synchronous = FULL");
db.exec("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
const insert = db.prepare("INSERT INTO kv (key, value) VALUES (?, ?)");
const etcd = etcdEndpoint ? new Etcd3({ hosts: etcdEndpoint }) : undefined;
let revision = 0;

function store(key: string, value: string): Promise<unknown> {
  if (etcd) return etcd.put(key).value(value).exec();
  insert.run(key, value);
  return Promise.resolve();
}

const server = createServer(
  { cert: readFileSync(certFile as string), key: readFileSync(keyFile as string) },
  (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const object = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      object.metadata.resourceVersion = String(++revision);
      object.metadata.uid = randomUUID();
      const text = JSON.stringify(object);
      store(`${req.url}/${object.metadata.name}`, text).then(
        () => {
          res.writeHead(201, { "Content-Type": "application/json" });
          res.end(text);
        },
        (error: Error) => {
          res.writeHead(500);
          res.end(error.message);
        },
      );
    });
  },
);
server.listen(Number(port), "127.0.0.1", () => console.log("ready"));
process.on("SIGTERM", () => {
  server.close();
  etcd?.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
