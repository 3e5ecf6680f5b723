// `deckhand debug …`: the operator's node-level view, read from the agent over its root-only unix socket
// (agent config `debugSocket`, default /run/deckhand/debug.sock). Works while the API server is down.
// Human tables by default, `-o json` for scripts.
import http from "node:http";
import type { Command } from "commander";
import type { PodStory, ServicesView } from "../agent/debug/views.ts";
import type { TraceView } from "../proxy/trace.ts";

const DEFAULT_SOCKET = "/run/deckhand/debug.sock";

interface CommonFlags {
  socket: string;
  output: string;
}

export class DebugClientError extends Error {}

/** GET from the agent's debug socket; the body as text, or a DebugClientError naming the problem and fix. */
export function debugGet(socketPath: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path, agent: false, headers: { Host: "deckhand-debug" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        if ((res.statusCode ?? 500) < 400) return resolve(body);
        let message = body.trim();
        try {
          message = (JSON.parse(body) as { error?: string }).error ?? message;
        } catch {
          // Not JSON: keep the text.
        }
        reject(new DebugClientError(message));
      });
      res.on("error", reject);
    });
    req.on("error", (error: NodeJS.ErrnoException) => {
      const hint =
        error.code === "EACCES"
          ? "the debug socket is root-only: run deckhand debug as root"
          : error.code === "ENOENT" || error.code === "ECONNREFUSED"
            ? "is `deckhand agent` running on this node? (--socket names another socket; agent config: debugSocket)"
            : error.message;
      reject(
        new DebugClientError(
          `cannot reach the agent at ${socketPath}: ${error.code ?? error.message}: ${hint}`,
        ),
      );
    });
  });
}

/** Columns padded to their widest cell, three spaces apart (kubectl's look). */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return `${cells
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join("   ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}

/** A short age like kubectl's: 45s, 3m, 2h, 4d; "-" for never. */
export function age(ms: number, now = Date.now()): string {
  if (!ms) return "-";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

const short = (id: string) => id.slice(0, 13);
const oneLine = (text: string, max = 60) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

// biome-ignore lint/suspicious/noExplicitAny: rows are the agent's JSON views.
type Row = Record<string, any>;

export const formatters = {
  pods: (rows: Row[]) =>
    table(
      ["NAMESPACE", "NAME", "SOURCE", "RUNNING", "RESTARTS", "SANDBOX", "STATE", "IP", "LAST SYNC ERROR"],
      rows.map((r) => [
        r.namespace,
        r.name,
        r.source,
        `${r.running}/${r.containers}`,
        r.restarts,
        short(r.sandboxId) || "-",
        r.sandboxState,
        r.ip || "-",
        oneLine(r.lastSyncError) || "-",
      ]),
    ),
  containers: (rows: Row[], now = Date.now()) =>
    table(
      ["NAMESPACE", "POD", "CONTAINER", "ID", "ATTEMPT", "STATE", "RESTARTS", "EXIT", "REASON", "AGE"],
      rows.map((r) => [
        r.namespace,
        r.pod,
        r.name,
        short(r.id),
        r.attempt,
        r.state,
        r.restartCount,
        r.state === "exited" ? r.exitCode : "-",
        r.reason || "-",
        age(r.createdAt, now),
      ]),
    ),
  probes: (rows: Row[], now = Date.now()) =>
    table(
      ["NAMESPACE", "POD", "CONTAINER", "TYPE", "HANDLER", "RESULT", "LAST", "STREAK", "AGE", "MESSAGE"],
      rows.map((r) => [
        r.namespace,
        r.pod,
        r.container,
        r.type,
        r.handler,
        r.gated ? "waiting (startup)" : r.ok ? "ok" : "failing",
        r.lastOutcome ?? "-",
        r.streak,
        age(r.lastResultAt, now),
        oneLine(r.lastMessage) || "-",
      ]),
    ),
  services: (view: ServicesView, now = Date.now()) =>
    `backend ${view.backend}: ${view.syncs} syncs, ${view.syncErrors} failed, ${view.restoreFailures} restore failures; last sync ${age(view.lastSyncAt, now)} ago (${view.lastSyncDurationMs} ms), last full sync ${age(view.lastFullSyncAt, now)} ago\n\n${table(
      [
        "SERVICE PORT",
        "PROTOCOL",
        "CLUSTER-IP",
        "NODE-PORT",
        "ENDPOINTS",
        "READY",
        "CHAINS",
        "TOP RULES",
        "PROBLEM",
      ],
      view.servicePorts.map((p) => [
        p.name,
        p.protocol,
        p.clusterIP ? `${p.clusterIP}:${p.port}` : "None",
        p.nodePort || "-",
        p.endpoints.map((e) => e.endpoint).join(",") || "<none>",
        `${p.endpoints.filter((e) => e.ready).length}/${p.endpoints.length}`,
        p.chains.length,
        p.topRules.length,
        p.problem ?? "-",
      ]),
    )}`,
  trace: (view: TraceView) => {
    const { target, packet } = view;
    const from =
      packet.origin === "local"
        ? `a process on this node (source ${packet.source})`
        : `${packet.source}, arriving at this node`;
    const lines = [
      `Address:  ${target.ip}:${target.port}/${target.protocol}`,
      `From:     ${from}`,
      `Rules:    ${view.rules === "kernel" ? "the kernel's (iptables-save)" : "as the proxy last programmed them"}`,
      "",
    ];
    if (view.servicePorts.length === 0) lines.push("Service:  none", "");
    for (const port of view.servicePorts) {
      lines.push(
        `Service:  ${port.name} (${port.kind}${port.kind === "NodePort" ? ` ${port.nodePort}` : ""}; ClusterIP ${port.clusterIP}:${port.port}; externalTrafficPolicy ${port.externalTrafficPolicy}, internalTrafficPolicy ${port.internalTrafficPolicy}${port.sessionAffinitySeconds ? `, sessionAffinity ClientIP ${port.sessionAffinitySeconds}s` : ""})`,
      );
      lines.push(
        port.endpoints.length === 0
          ? "  no endpoints"
          : indent(
              table(
                ["ENDPOINT", "READY", "SERVING", "TERMINATING", "LOCAL", "USED"],
                port.endpoints.map((e) => [
                  e.endpoint,
                  String(e.ready),
                  String(e.serving),
                  String(e.terminating),
                  String(e.local),
                  e.used ? "yes" : "no",
                ]),
              ),
            ),
        "",
      );
    }
    lines.push("Paths:");
    lines.push(
      indent(
        table(
          ["PROBABILITY", "RESULT", "MASQUERADE", "CHAINS"],
          view.outcomes.map((o) => [
            `${Number((o.probability * 100).toFixed(2))}%`,
            o.verdict === "ACCEPT" ? (o.dnat ? `DNAT ${o.dnat}` : "ACCEPT, not translated") : o.verdict,
            o.masquerade ? "yes" : "no",
            o.path.join(" → ") || "-",
          ]),
        ),
      ),
      "",
    );
    for (const line of view.summary) lines.push(`${line}`);
    if (view.skippedRules?.length)
      lines.push(
        "",
        `Not interpreted (other programs' rules in built-in chains): ${view.skippedRules.length}`,
        ...view.skippedRules.map((r) => `  ${r}`),
      );
    return `${lines.join("\n")}\n`;
  },
  pod: (story: PodStory, now = Date.now()) => {
    const p = story.pod;
    const lines = [
      `Pod:        ${p.namespace}/${p.name}`,
      `UID:        ${p.uid}`,
      `Source:     ${p.source}`,
      `Phase:      ${story.phase || "-"}${story.deletionTimestamp ? ` (deleting since ${story.deletionTimestamp})` : ""}`,
      `Syncs:      ${story.sync ? `${story.sync.syncs}, last ${age(story.sync.lastSyncAt, now)} ago` : "none yet"}`,
      `Last error: ${story.sync?.lastError ? `${story.sync.lastError.message} (${age(story.sync.lastError.time, now)} ago)` : "-"}`,
      "",
      "Sandboxes:",
      indent(
        table(
          ["ID", "ATTEMPT", "STATE", "IP", "AGE"],
          story.sandboxes.map((s) => [short(s.id), s.attempt, s.state, s.ip || "-", age(s.createdAt, now)]),
        ),
      ),
      "Containers:",
      indent(
        table(
          ["NAME", "ID", "ATTEMPT", "STATE", "RESTARTS", "EXIT", "REASON", "SPEC HASH", "STARTED"],
          story.containers.map((c) => [
            c.name,
            short(c.id),
            c.attempt,
            c.state,
            c.restartCount,
            c.state === "exited" ? c.exitCode : "-",
            c.reason || "-",
            c.specHash || "-",
            age(c.startedAt, now),
          ]),
        ),
      ),
      "Probes:",
    ];
    for (const probe of story.probes) {
      lines.push(
        `  ${probe.container} ${probe.type}: ${probe.handler} every ${probe.periodSeconds}s — ${probe.gated ? "waiting for the startup probe" : probe.ok ? "ok" : "failing"}`,
      );
      for (const r of probe.history.slice(-5))
        lines.push(
          `    ${age(r.time, now).padStart(4)} ago  ${r.outcome.padEnd(7)}  ${oneLine(r.message, 80)}`,
        );
    }
    if (story.probes.length === 0) lines.push("  none");
    lines.push("", "Events (recorded by this agent):");
    lines.push(
      indent(
        table(
          ["AGE", "TYPE", "REASON", "OBJECT", "MESSAGE"],
          story.events.map((e) => [
            age(e.time, now),
            e.type,
            e.reason,
            e.fieldPath ?? "-",
            oneLine(e.message, 100),
          ]),
        ),
      ),
    );
    return `${lines.join("\n").trimEnd()}\n`;
  },
};

function indent(text: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}

export function registerDebugCommand(program: Command): void {
  const debug = program
    .command("debug")
    .description("node-level debugging: the agent's own view of pods, containers, probes and Services");
  const common = (cmd: Command) =>
    cmd
      .option("--socket <path>", "the agent's debug socket (agent config debugSocket)", DEFAULT_SOCKET)
      .option("-o, --output <format>", "table or json", "table");

  const show = async (cmd: Command, path: string, format: (body: never) => string): Promise<void> => {
    const flags = cmd.opts<CommonFlags>();
    if (flags.output !== "table" && flags.output !== "json") {
      cmd.error(`error: --output must be "table" or "json", not "${flags.output}"`);
    }
    try {
      const body = await debugGet(flags.socket, path);
      process.stdout.write(flags.output === "json" ? body : format(JSON.parse(body) as never));
    } catch (error) {
      if (error instanceof DebugClientError) {
        process.stderr.write(`deckhand debug: ${error.message}\n`);
        process.exitCode = 1;
        return;
      }
      throw error;
    }
  };
  const podRef = (name: string, namespace: string) => {
    const slash = name.indexOf("/");
    return slash >= 0 ? [name.slice(0, slash), name.slice(slash + 1)] : [namespace, name];
  };
  const path = (...parts: string[]) => `/${parts.map(encodeURIComponent).join("/")}`;

  common(
    debug.command("pods").description("pods on this node: source, sandbox, containers running, restarts"),
  ).action((_o, cmd: Command) => show(cmd, "/pods", formatters.pods));
  common(
    debug
      .command("containers")
      .description("every container in the runtime: IDs, attempts, states, restart counts, last exit"),
  ).action((_o, cmd: Command) => show(cmd, "/containers", formatters.containers));
  common(
    debug
      .command("pod <name>")
      .description(
        "one pod's story: sandboxes, containers with spec hashes, probe history, events, last sync error",
      )
      .option("-n, --namespace <ns>", "namespace (or give NAMESPACE/NAME)", "default"),
  ).action((name: string, o: { namespace: string }, cmd: Command) => {
    const [ns, pod] = podRef(name, o.namespace);
    return show(cmd, path("pods", ns as string, pod as string), formatters.pod);
  });
  common(
    debug.command("probes").description("every probe worker: handler, current result, last message"),
  ).action((_o, cmd: Command) => show(cmd, "/probes", formatters.probes));
  common(
    debug
      .command("services")
      .description(
        "the service proxy's view: Service port → ClusterIP/NodePort → endpoints, rules, last sync",
      ),
  ).action((_o, cmd: Command) => show(cmd, "/services", formatters.services));
  common(
    debug
      .command("trace <ip:port/proto>")
      .description(
        "where a packet to an address goes: the Service behind it, its endpoints, the chains it passes, DNAT targets with probabilities, masquerading",
      )
      .option(
        "--from <where>",
        'the sender: "node" (a process on this node), "external" (a client outside the cluster) or an IPv4 address (e.g. a pod IP)',
        "node",
      )
      .option("--kernel", "trace over a live iptables-save instead of the rules the proxy last programmed"),
  ).action((target: string, o: { from: string; kernel?: boolean }, cmd: Command) => {
    const query = new URLSearchParams({ target, from: o.from, rules: o.kernel ? "kernel" : "programmed" });
    return show(cmd, `/trace?${query}`, formatters.trace);
  });
  common(debug.command("config").description("the agent's effective configuration")).action(
    (_o, cmd: Command) => show(cmd, "/config", (body) => `${JSON.stringify(body, null, 2)}\n`),
  );
  debug
    .command("logs <pod-or-container-id> [container]")
    .description("a container's log straight from the runtime (POD CONTAINER, or a container ID prefix)")
    .option("--socket <path>", "the agent's debug socket (agent config debugSocket)", DEFAULT_SOCKET)
    .option("-n, --namespace <ns>", "namespace (or give NAMESPACE/POD)", "default")
    .option("--tail <lines>", "only the last N lines")
    .option("-p, --previous", "the previous instance of the container")
    .option("--timestamps", "prefix each line with its time")
    .action(
      async (
        target: string,
        container: string | undefined,
        o: { socket: string; namespace: string; tail?: string; previous?: boolean; timestamps?: boolean },
      ) => {
        const query = new URLSearchParams();
        if (o.tail !== undefined) query.set("tail", o.tail);
        if (o.previous) query.set("previous", "true");
        if (o.timestamps) query.set("timestamps", "true");
        const [ns, pod] = podRef(target, o.namespace);
        const where = container ? path("logs", ns as string, pod as string, container) : path("logs", target);
        try {
          process.stdout.write(await debugGet(o.socket, `${where}?${query}`));
        } catch (error) {
          if (!(error instanceof DebugClientError)) throw error;
          process.stderr.write(`deckhand debug: ${error.message}\n`);
          process.exitCode = 1;
        }
      },
    );
}
