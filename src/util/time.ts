// Kubernetes time formats: Time (RFC 3339, seconds) and MicroTime (RFC 3339, microseconds).

/** metav1.Time: "2026-11-22T00:14:34Z". */
export function k8sTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** metav1.MicroTime: "2026-11-22T00:14:34.123000Z". */
export function k8sMicroTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 23)}000Z`;
}
