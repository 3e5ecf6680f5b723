// Image references, pull progress and Docker image objects → Runtime images.
import type Docker from "dockerode";
import type { AuthConfig, Image } from "../types.ts";

/** Adds ":latest" when a reference has neither tag nor digest (Docker would otherwise pull every tag). */
export function normalizeImageRef(image: string): string {
  if (image.includes("@")) return image;
  const lastSlash = image.lastIndexOf("/");
  return image.slice(lastSlash + 1).includes(":") ? image : `${image}:latest`;
}

/** The registry host of a reference, as Docker decides it ("docker.io" for short names). */
export function registryOf(image: string): string {
  const first = image.split("/")[0] ?? "";
  if (image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost"))
    return first;
  return "docker.io";
}

/** Runtime AuthConfig → the X-Registry-Auth object Docker expects. */
export function dockerAuth(image: string, auth: AuthConfig | undefined): Docker.AuthConfig | undefined {
  if (!auth) return undefined;
  let { username, password } = auth;
  if (!username && auth.auth) {
    const decoded = Buffer.from(auth.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon !== -1) {
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
  }
  const out: Record<string, string> = { serveraddress: auth.serverAddress || registryOf(image) };
  if (username) out.username = username;
  if (password) out.password = password;
  if (auth.identityToken) out.identitytoken = auth.identityToken;
  if (auth.registryToken) out.registrytoken = auth.registryToken;
  return out as unknown as Docker.AuthConfig;
}

interface ProgressEvent {
  error?: string;
  errorDetail?: { message?: string };
}

/** Waits for a pull's progress stream to end; resolves with the registry's error message, if any. */
export function followPull(
  modem: Docker["modem"],
  stream: NodeJS.ReadableStream,
): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    modem.followProgress(stream, (error: Error | null, events: ProgressEvent[]) => {
      if (error) {
        reject(error);
        return;
      }
      const failed = (events ?? []).find((e) => e.error || e.errorDetail?.message);
      resolve(failed ? (failed.errorDetail?.message ?? failed.error) : undefined);
    });
  });
}

function userOf(user: string | undefined): { uid?: number; username?: string } {
  const name = (user ?? "").split(":")[0] ?? "";
  if (name === "") return {};
  return /^\d+$/.test(name) ? { uid: Number(name) } : { username: name };
}

const NONE = new Set(["<none>:<none>", "<none>@<none>"]);

export function imageFromInspect(info: Docker.ImageInspectInfo): Image {
  return {
    id: info.Id,
    repoTags: (info.RepoTags ?? []).filter((t) => !NONE.has(t)),
    repoDigests: (info.RepoDigests ?? []).filter((t) => !NONE.has(t)),
    sizeBytes: info.Size,
    ...userOf(info.Config?.User),
  };
}

export function imageFromListEntry(info: Docker.ImageInfo): Image {
  return {
    id: info.Id,
    repoTags: (info.RepoTags ?? []).filter((t) => !NONE.has(t)),
    repoDigests: (info.RepoDigests ?? []).filter((t) => !NONE.has(t)),
    sizeBytes: info.Size,
  };
}
