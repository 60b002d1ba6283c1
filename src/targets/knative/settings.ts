/**
 * `targets.<name>` with `kind: knative`, as the config schema (src/config/schema.ts) parses it; declared
 * here because targets may not import config. Defaults live in the schema, once; durations are ms.
 */
export interface KnativeTargetSettings {
  kind: 'knative';
  /** kubeconfig path; `~` is the user's home. Default `~/.kube/config`. */
  kubeconfig: string;
  /** kubeconfig context; default: the file's current context. */
  context?: string | undefined;
  /** Namespace the Services live in. Default `default`. */
  namespace: string;
  /** Apps are `<app>.<domain>`, tags `<tag>-<app>.<domain>`. */
  domain: string;
  /** ms to wait for `Ready` after an apply. Default 5 min. */
  readyTimeout: number;
  /** An existing `kubernetes.io/dockerconfigjson` Secret the Services pull with; default: one Slipway keeps per registry host. */
  imagePullSecret?: string | undefined;
}
