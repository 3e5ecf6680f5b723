// The Docker runtime driver: `createDockerRuntime({ socketPath, pauseImage, … })` returns a Runtime.

export {
  DEFAULT_DOCKER_SOCKET,
  DEFAULT_PAUSE_IMAGE,
  type DockerRuntimeOptions,
} from "./options.ts";
export { createDockerRuntime, DockerRuntime } from "./runtime.ts";
