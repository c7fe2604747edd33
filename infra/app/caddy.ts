/**
 * The edge proxy's config, as Caddy JSON built by a pure function. The same function
 * produces the production config (pushed by the cut-over script) and the config the test
 * suite and the benchmark run a real `caddy` with.
 */

export type ProxyMode =
    /** One server: Caddy owns 80 and 443 and gets certificates from Let's Encrypt. */
    | { kind: "tls"; domains: string[]; acmeEmail?: string }
    /** Behind the DigitalOcean load balancer, which terminates TLS: plain HTTP on :80 for any host. */
    | { kind: "behind-lb"; trustedProxies: string[] }
    /** Tests and benchmarks: plain HTTP on one local address, no ACME. */
    | { kind: "test"; listen: string };

export interface ProxyOptions {
    mode: ProxyMode;
    /**
     * `host:port` of each upstream. In production these are the two fixed slot names
     * (`app-blue:3000`, `app-green:3000`); an unresolvable slot simply fails its health check.
     */
    upstreams: string[];
    /** The app's health endpoint, probed actively. @example "/api/v1/health" */
    healthPath: string;
    /** Where Caddy's admin API listens; the cut-over script reloads through it. @default "localhost:2019" */
    adminListen?: string;
    /** Active health check interval. @default "2s" */
    healthInterval?: string;
}

/** The production active health check interval, in seconds. */
export const HEALTH_INTERVAL_SECONDS = 2;

/** Listen addresses per mode. */
export function listenAddresses(mode: ProxyMode): string[] {
    switch (mode.kind) {
        case "tls": return [":443", ":80"];
        case "behind-lb": return [":80"];
        case "test": return [mode.listen];
    }
}

export function caddyConfig(o: ProxyOptions): Record<string, unknown> {
    const proxy = {
        handler: "reverse_proxy",
        upstreams: o.upstreams.map((dial) => ({ dial })),
        // Active checks take an upstream out of rotation as soon as its health endpoint
        // fails; passive checks react to a failed request in between two probes.
        health_checks: {
            active: { uri: o.healthPath, interval: o.healthInterval ?? `${HEALTH_INTERVAL_SECONDS}s`, timeout: "2s" },
            passive: { fail_duration: "10s", max_fails: 1, unhealthy_status: [502, 503, 504] },
        },
        // A request that cannot reach an upstream (a stopping container, a refused
        // connection) is retried on another healthy one for up to 5 s instead of failing.
        load_balancing: {
            selection_policy: { policy: "round_robin" },
            try_duration: "5s",
            try_interval: "100ms",
        },
    };
    if (o.mode.kind === "behind-lb") {
        // The load balancer (inside the VPC) sets X-Forwarded-For/-Proto; keep its values
        // instead of overwriting them with its own address and "http".
        Object.assign(proxy, { trusted_proxies: o.mode.trustedProxies });
    }
    const route: Record<string, unknown> = { handle: [proxy], terminal: true };
    if (o.mode.kind === "tls") route.match = [{ host: o.mode.domains }];

    const server: Record<string, unknown> = { listen: listenAddresses(o.mode), routes: [route] };
    if (o.mode.kind !== "tls") server.automatic_https = { disable: true };

    const apps: Record<string, unknown> = { http: { servers: { edge: server } } };
    if (o.mode.kind === "tls" && o.mode.acmeEmail) {
        apps.tls = { automation: { policies: [{ issuers: [{ module: "acme", email: o.mode.acmeEmail }] }] } };
    }
    return { admin: { listen: o.adminListen ?? "localhost:2019" }, apps };
}
