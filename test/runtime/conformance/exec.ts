// Conformance: execSync (exit codes, timeout), streaming exec (stdin, tty, resize), attach, port-forward.
import type { Duplex } from "node:stream";
import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { RuntimeError } from "../../../src/runtime/errors.ts";
import type { TerminalSize } from "../../../src/runtime/types.ts";
import { waitFor } from "../../support/wait.ts";
import type { SuiteContext } from "./context.ts";
import { execUntil, Sink, waitForState } from "./fixtures.ts";

/** Sends an HTTP/1.0 GET over a port-forward stream and returns the whole answer. */
async function httpGetOver(stream: Duplex): Promise<string> {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    stream.once("end", resolve);
    stream.once("close", resolve);
    stream.once("error", reject);
  });
  stream.write("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n");
  await ended;
  stream.destroy();
  return Buffer.concat(chunks).toString();
}

export function execTests(ctx: SuiteContext): void {
  describe("exec, attach and port-forward", () => {
    it("execSync returns stdout, stderr and the exit code", async () => {
      await ctx.withPod("exec-sync", async (pod) => {
        const rt = ctx.runtime();
        const { containerId } = await pod.runPod();
        const r = await rt.execSync(containerId, ["sh", "-c", "echo out; echo err >&2; exit 7"], 10);
        expect([r.stdout.toString(), r.stderr.toString(), r.exitCode]).toEqual(["out\n", "err\n", 7]);
        const ok = await rt.execSync(containerId, ["true"], 0);
        expect(ok.exitCode).toBe(0);
      });
    });

    it("execSync gives up after its timeout with RUNTIME_DEADLINE and the process does not linger", async () => {
      await ctx.withPod("exec-timeout", async (pod) => {
        const rt = ctx.runtime();
        const { containerId } = await pod.runPod();
        const error = await rt.execSync(containerId, ["sleep", "3600"], 1).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RuntimeError);
        expect((error as RuntimeError).code).toBe("RUNTIME_DEADLINE");
        // The container is unharmed and the timed-out process goes away.
        expect((await rt.containerStatus(containerId)).state).toBe("running");
        // busybox here has no pgrep: list command lines from /proc (the loop's own lines start with "sh").
        const count =
          "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done | grep -c '^sleep 3600'";
        await waitFor(
          async () =>
            (await rt.execSync(containerId, ["sh", "-c", count], 10)).stdout.toString().trim() === "0",
          { what: "the timed-out `sleep 3600` to be gone", timeoutMs: 30_000 },
        );
      });
    });

    it("exec streams stdin to the process, stdout and stderr back, and returns its exit code", async () => {
      await ctx.withPod("exec-stdin", async (pod) => {
        const rt = ctx.runtime();
        const { containerId } = await pod.runPod();
        const stdout = new Sink();
        const stderr = new Sink();
        const result = await rt.exec(containerId, {
          command: ["sh", "-c", "cat; echo done >&2; exit 4"],
          stdin: Readable.from([Buffer.from("hello\n"), Buffer.from("world\n")]),
          stdout,
          stderr,
          signal: AbortSignal.timeout(60_000),
        });
        expect(result.exitCode).toBe(4);
        expect(stdout.text).toBe("hello\nworld\n");
        expect(stderr.text).toBe("done\n");
      });
    });

    it("exec with a tty gets a terminal and applies resizes", async () => {
      await ctx.withPod("exec-tty", async (pod) => {
        const rt = ctx.runtime();
        const { containerId } = await pod.runPod();
        const stdin = new PassThrough();
        const stdout = new Sink();
        let finished = () => {};
        const over = new Promise<void>((resolve) => {
          finished = resolve;
        });
        // The process waits for a line on stdin; the line is sent once the driver asks for the next size,
        // i.e. after it sent the first one. Resize and stdin travel on separate streams, so the runtime may
        // apply the size a moment after the line arrives: the process looks until it sees it (bounded).
        async function* sizes(): AsyncGenerator<TerminalSize> {
          yield { width: 100, height: 40 };
          stdin.write("go\n");
          await over;
        }
        const result = await rt.exec(containerId, {
          command: [
            "sh",
            "-c",
            'read line; for i in $(seq 100); do s=$(stty size); [ "$s" = "40 100" ] && break; sleep 0.1; done; echo "$s"; tty; exit 3',
          ],
          stdin,
          stdout,
          tty: true,
          resize: sizes(),
          signal: AbortSignal.timeout(60_000),
        });
        finished();
        stdin.end();
        expect(result.exitCode).toBe(3);
        expect(stdout.text).toMatch(/^40 100\r?$/m);
        expect(stdout.text).toMatch(/^\/dev\/pts\/\d+\r?$/m);
      });
    });

    it("attach connects to a running container's stdin and stdout and reports its exit", async () => {
      await ctx.withPod("attach", async (pod) => {
        const rt = ctx.runtime();
        const sandbox = await pod.runSandbox();
        const id = await pod.startContainer(sandbox, {
          ...pod.containerConfig("attached", 'read line; echo "got:$line"; exit 5'),
          stdin: true,
          stdinOnce: true,
        });
        const stdout = new Sink();
        const stderr = new Sink();
        const result = await rt.attach(id, {
          stdin: Readable.from([Buffer.from("hi\n")]),
          stdout,
          stderr,
          signal: AbortSignal.timeout(60_000),
        });
        const status = await waitForState(rt, id, "exited");
        expect(status.exitCode).toBe(5);
        expect(stdout.text).toBe("got:hi\n");
        expect(
          result.exitCode === undefined || result.exitCode === 5,
          `attach exit code ${result.exitCode}`,
        ).toBe(true);
      });
    });

    it("port-forward opens a byte stream to a port inside the sandbox", async () => {
      await ctx.withPod("portfwd", async (pod) => {
        const rt = ctx.runtime();
        const { sandbox, containerId } = await pod.runPod("exec httpd -f -p 8082 -h /www");
        await execUntil(
          rt,
          containerId,
          ["sh", "-c", "timeout 5 wget -qO- http://127.0.0.1:8082/"],
          "httpd to serve",
        );
        const answer = await httpGetOver(await rt.portForward(sandbox.id, 8082));
        expect(answer).toMatch(/^HTTP\/1\.[01] 200/);
        expect(answer).toContain("deckhand test page");
        const invalid = await rt.portForward(sandbox.id, 0).catch((e: unknown) => e);
        expect([(invalid as RuntimeError).code, (invalid as RuntimeError).field]).toEqual([
          "RUNTIME_INVALID",
          "port",
        ]);
      });
    });
  });
}
