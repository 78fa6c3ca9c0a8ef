/**
 * What romana-dns knows about the cluster, and where it comes from.
 *
 * Design (STYLE §10): only the fields that answer queries are kept — a
 * Service's type, IPs, ports and ExternalName; an endpoint's IP, hostname and
 * readiness; a pod's IPs; namespace names. Everything else in the Kubernetes
 * objects is dropped as soon as it is read, which is what keeps 150k pods in
 * a few megabytes.
 *
 * `ClusterSource` is the narrow seam between the server and its feeds: the
 * static snapshot (`--snapshot`, snapshot.ts), the Kubernetes watch
 * (kube_source.ts, on the listener's informers) and, layered on either,
 * the daemon's Romana VIPs (vip_source.ts). The server rebuilds its zone
 * from `current()` whenever `onChange` fires.
 *
 * Concurrency rule: a ClusterState is immutable once published; a source
 * replaces it wholesale.
 */

export interface ServicePort {
  /** '' for an unnamed port (no SRV record). */
  name: string;
  /** Lowercase: 'tcp', 'udp', 'sctp'. */
  protocol: string;
  port: number;
}

export interface ServiceInfo {
  namespace: string;
  name: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** Empty for a headless service (clusterIP "None"). */
  clusterIPs: string[];
  /** spec.externalIPs — where the listener puts a Romana VIP. */
  externalIPs: string[];
  externalName?: string;
  ports: ServicePort[];
  publishNotReadyAddresses: boolean;
  /**
   * The external IP romana-listener added for the Service's Romana VIP
   * (annotation romana.io/vip-external-ip), if any: the daemon's VIP feed
   * replaces it when the daemon knows better (vip_source.ts).
   */
  listenerVip?: string;
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  ready: boolean;
}

/** One Endpoints subset or one EndpointSlice: addresses that share ports. */
export interface EndpointSubset {
  addresses: EndpointAddress[];
  ports: ServicePort[];
}

export interface ClusterState {
  namespaces: string[];
  services: ServiceInfo[];
  /** Key `namespace/service`. */
  endpoints: Map<string, EndpointSubset[]>;
  /** Pod IPs by namespace (for "pods verified"-style checks and metrics). 0 from the watch, which does not follow pods (pod names are synthesised). */
  podCount: number;
}

export interface ClusterSource {
  /** The latest complete state; undefined until the first full sync. */
  current(): ClusterState | undefined;
  /** Calls `cb` after every replacement of the state; returns an unsubscribe function. */
  onChange(cb: () => void): () => void;
}

/** A source that never changes (the `--snapshot` file). */
export class StaticClusterSource implements ClusterSource {
  constructor(private readonly state: ClusterState) {}
  current(): ClusterState { return this.state; }
  onChange(): () => void { return () => undefined; }
}

export function emptyClusterState(): ClusterState {
  return { namespaces: [], services: [], endpoints: new Map(), podCount: 0 };
}
