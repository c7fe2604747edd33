/**
 * The edge proxy's config, as Caddy JSON built by a pure function. The same function
 * produces the production config (loaded by the on-server scripts) and the config the
 * Docker lab and the benchmark run.
 *
 * Which app container receives traffic is not part of the program's config: it changes on
 * every release and is decided on the server by scripts/cutover.sh, which records it in the
 * proxy's config volume. The program's config therefore carries a placeholder where the
 * upstreams go, filled on the server from that record.
 */

export type ProxyMode =
    /** One server: Caddy owns 80 and 443 and gets certificates from Let's Encrypt. */
    | { kind: "tls"; domains: string[]; acmeEmail?: string }
    /** Behind the DigitalOcean load balancer, which terminates TLS: plain HTTP on :80 for any host. */
    | { kind: "behind-lb"; trustedProxies: string[] }
    /** Tests and benchmarks: plain HTTP on one local address, no ACME. */
    | { kind: "test"; listen: string };

/** Stands where the upstream list goes; the on-server scripts replace it (quotes included) with a JSON array. */
export const UPSTREAMS_PLACEHOLDER = "__PLATFORM_UPSTREAMS__";

/**
 * Where the cut-over verifies a release through the proxy itself. Only inside the proxy
 * container: the same reverse_proxy as the public site, without host matching or TLS, and
 * it names the upstream that answered (the public listener does not leak container names).
 */
export const VERIFY_LISTEN = "127.0.0.1:2080";
/** Response header on the verify listener naming the upstream (`host:port`) that answered. */
export const UPSTREAM_HEADER = "X-Platform-Upstream";

export interface ProxyOptions {
    mode: ProxyMode;
    /**
     * `host:port` of each upstream, preferred first. Omitted in production: the placeholder
     * goes there and the server fills in `[new release, previous release]`.
     */
    upstreams?: string[];
    /** Where Caddy's admin API listens; `caddy reload` talks to it. @default "localhost:2019" */
    adminListen?: string;
    /** The verify listener. @default VERIFY_LISTEN */
    verifyListen?: string;
}

/** Listen addresses per mode. */
export function listenAddresses(mode: ProxyMode): string[] {
    switch (mode.kind) {
        case "tls": return [":443", ":80"];
        case "behind-lb": return [":80"];
        case "test": return [mode.listen];
    }
}

/**
 * The reverse proxy handler. Deliberately no active health check and no passive check on
 * status codes: an application error (a 503 during a database failover) is passed to the
 * user, never a reason to stop routing to the only live release (Caddy's passive check with
 * `unhealthy_status` ejected it for `fail_duration`, turning one 503 into seconds of 100%
 * errors). Only a failed connection marks an upstream down, briefly, so that with the
 * `first` policy traffic falls back to the previous release while it still runs.
 */
export function reverseProxy(upstreams: string[] | undefined, trustedProxies?: string[]): Record<string, unknown> {
    const proxy: Record<string, unknown> = {
        handler: "reverse_proxy",
        upstreams: upstreams ? upstreams.map((dial) => ({ dial })) : UPSTREAMS_PLACEHOLDER,
        health_checks: { passive: { fail_duration: "1s", max_fails: 1 } },
        // `first`: the new release takes all traffic; the previous one (second) only gets
        // requests the new one cannot accept. A request that cannot reach an upstream (a
        // stopping container, a refused connection) is retried for up to 5 s: after 1 s the
        // failed upstream is tried again, so a lone release that blips is waited for.
        load_balancing: {
            selection_policy: { policy: "first" },
            try_duration: "5s",
            try_interval: "100ms",
        },
    };
    // The load balancer (inside the VPC) sets X-Forwarded-For/-Proto; keep its values
    // instead of overwriting them with its own address and "http".
    if (trustedProxies) proxy.trusted_proxies = trustedProxies;
    return proxy;
}

export function caddyConfig(o: ProxyOptions): Record<string, unknown> {
    const proxy = reverseProxy(o.upstreams, o.mode.kind === "behind-lb" ? o.mode.trustedProxies : undefined);
    const route: Record<string, unknown> = { handle: [proxy], terminal: true };
    if (o.mode.kind === "tls") route.match = [{ host: o.mode.domains }];

    const server: Record<string, unknown> = { listen: listenAddresses(o.mode), routes: [route] };
    if (o.mode.kind !== "tls") server.automatic_https = { disable: true };

    const verify = {
        listen: [o.verifyListen ?? VERIFY_LISTEN],
        automatic_https: { disable: true },
        routes: [{
            handle: [{ ...reverseProxy(o.upstreams), headers: { response: { set: { [UPSTREAM_HEADER]: ["{http.reverse_proxy.upstream.hostport}"] } } } }],
            terminal: true,
        }],
    };
    const apps: Record<string, unknown> = { http: { servers: { edge: server, verify } } };
    if (o.mode.kind === "tls" && o.mode.acmeEmail) {
        apps.tls = { automation: { policies: [{ issuers: [{ module: "acme", email: o.mode.acmeEmail }] }] } };
    }
    return { admin: { listen: o.adminListen ?? "localhost:2019" }, apps };
}

/** What the on-server scripts do with the placeholder: the config for concrete upstreams. */
export function fillUpstreams(config: string, upstreams: string[]): string {
    return config.split(JSON.stringify(UPSTREAMS_PLACEHOLDER)).join(JSON.stringify(upstreams.map((dial) => ({ dial }))));
}

/**
 * The file the proxy container starts with when it has no saved config (`caddy run
 * --resume` prefers the one it autosaved in its /config volume). Constant on purpose: the
 * docker provider uploads files only at creation and treats a changed upload as a new
 * container, so the real config is loaded by scripts/proxy-config.sh instead, and a domain
 * change never recreates the proxy.
 */
export const BOOTSTRAP_PROXY_CONFIG = JSON.stringify({ admin: { listen: "localhost:2019" } });
