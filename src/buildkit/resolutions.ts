/**
 * The image reference a BuildKit progress vertex resolves or pulls, from its name, or undefined. The
 * names BuildKit gives them (the Dockerfile frontend's and the gateway's):
 *
 * - `[internal] load metadata for 127.0.0.1:5000/slipway/busybox:latest` (a platform may precede
 *   `internal`): a stage base, `COPY --from` or `RUN --mount` image, resolved for its config;
 * - `[stage-0 1/3] FROM <ref>` or a bare `FROM <ref>`: the image source of a stage or a copy/mount;
 * - `resolve image config for <ref>` and `docker-image://<ref>`: a `# syntax=` frontend image.
 */
export function resolvedImage(vertexName: string): string | undefined {
  const m =
    /^\[[^\]]*\binternal\] load metadata for (\S+)$/.exec(vertexName) ??
    /^(?:\[[^\]]*\] )?FROM (\S+)$/.exec(vertexName) ??
    /^resolve image config for (?:docker-image:\/\/)?(\S+)$/.exec(vertexName) ??
    /^docker-image:\/\/(\S+)$/.exec(vertexName);
  return m?.[1];
}
