// Publishes test-private images on the local registries through the registry HTTP API (v2), so that pull
// tests never share a tag, and never share an image ID either: each image gets its own config blob (a
// label with the tag), hence its own ID. Removing it from a runtime (CRI removes by ID, every tag of it)
// then cannot take the shared deckhand/busybox content with it.
import { createHash } from "node:crypto";

const MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json";

export interface PushedImage {
  /** e.g. "deckhand/busybox". */
  repo: string;
  tag: string;
  /** Manifest digest, for deletion. */
  digest: string;
  /** Digest of the config blob: the image ID runtimes report ("sha256:…"). */
  configDigest: string;
  /** `<registry>/<repo>:<tag>` for the given registry host. */
  ref(registry: string): string;
}

async function ok(response: Response, what: string): Promise<Response> {
  if (!response.ok) {
    throw new Error(`registry ${what} answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
  }
  return response;
}

/**
 * Copies `<repo>:<sourceTag>` on `registry` (an open one, e.g. 127.0.0.1:5000) to `<repo>:<tag>` with a
 * distinct config (and so a distinct image ID). Layers are shared, so this is cheap.
 */
export async function pushUniqueImage(
  registry: string,
  repo: string,
  sourceTag: string,
  tag: string,
): Promise<PushedImage> {
  const base = `http://${registry}/v2/${repo}`;
  const manifest = (await (
    await ok(
      await fetch(`${base}/manifests/${sourceTag}`, { headers: { Accept: MANIFEST_V2 } }),
      `GET manifest ${repo}:${sourceTag}`,
    )
  ).json()) as { config: { digest: string; size: number; mediaType: string } };
  const config = (await (
    await ok(await fetch(`${base}/blobs/${manifest.config.digest}`), "GET config blob")
  ).json()) as {
    config?: { Labels?: Record<string, string> | null };
  };
  config.config = {
    ...config.config,
    Labels: { ...(config.config?.Labels ?? {}), "io.deckhand.test.tag": tag },
  };
  const body = Buffer.from(JSON.stringify(config));
  const configDigest = `sha256:${createHash("sha256").update(body).digest("hex")}`;

  const upload = await ok(await fetch(`${base}/blobs/uploads/`, { method: "POST" }), "POST blob upload");
  const location = new URL(upload.headers.get("location") ?? "", `http://${registry}`);
  location.searchParams.set("digest", configDigest);
  await ok(
    await fetch(location, {
      method: "PUT",
      body,
      headers: { "Content-Type": "application/octet-stream", "Content-Length": String(body.length) },
    }),
    "PUT config blob",
  );

  const newManifest = Buffer.from(
    JSON.stringify({ ...manifest, config: { ...manifest.config, digest: configDigest, size: body.length } }),
  );
  const put = await ok(
    await fetch(`${base}/manifests/${tag}`, {
      method: "PUT",
      body: newManifest,
      headers: { "Content-Type": MANIFEST_V2 },
    }),
    `PUT manifest ${repo}:${tag}`,
  );
  const digest = put.headers.get("docker-content-digest") ?? "";
  return { repo, tag, digest, configDigest, ref: (host) => `${host}/${repo}:${tag}` };
}

/** Deletes the manifest again (the registry runs with delete enabled); blobs stay until a registry GC. */
export async function deletePushedImage(registry: string, image: PushedImage): Promise<void> {
  if (!image.digest) return;
  const response = await fetch(`http://${registry}/v2/${image.repo}/manifests/${image.digest}`, {
    method: "DELETE",
  });
  if (!response.ok && response.status !== 404) {
    throw new Error(`registry DELETE manifest ${image.repo}@${image.digest} answered ${response.status}`);
  }
}
