import Docker from "dockerode";
import { requireSocket, testEnv } from "./env.ts";

/** A dockerode client for the test Docker engine; fails loudly if the engine is not there. */
export async function connectDocker(): Promise<Docker> {
  requireSocket(testEnv.dockerSocket, "Docker engine");
  const docker = new Docker({ socketPath: testEnv.dockerSocket });
  try {
    await docker.ping();
  } catch (error) {
    throw new Error(
      `Docker engine at ${testEnv.dockerSocket} does not answer /_ping (${(error as Error).message}); run \`sudo scripts/setup-host.sh\``,
    );
  }
  return docker;
}

/** Pulls an image and waits until the pull stream ends, surfacing errors reported inside the stream. */
export async function pullImage(docker: Docker, ref: string, auth?: Docker.AuthConfig): Promise<void> {
  const stream = await docker.pull(ref, auth ? { authconfig: auth } : {});
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, events: Array<{ error?: string }>) => {
      const reported = events?.find((e) => e.error)?.error;
      if (error || reported) reject(new Error(`pull ${ref} failed: ${error?.message ?? reported}`));
      else resolve();
    });
  });
}
