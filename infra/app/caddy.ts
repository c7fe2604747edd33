/**
 * The edge proxy's config, as Caddy JSON built by a pure function. The same function
 * produces the production config (loaded by the on-server scripts) and the config the
 * Docker lab and the benchmark run.
 *
 * The edge routes by host and path prefix to each service. Which containers of a service
 * receive traffic is not part of the program's config: it changes on every release and is
 * decided on the server by scripts/cutover.sh, which records it in the proxy's config
 * volume, one record per service. The program's config therefore carries a placeholder per
 * service where its upstreams go, filled on the server from those records.
 */

export type ProxyMode =
    /** One server: Caddy owns 80 and 443 and gets certificates from Let's Encrypt for the routes' hosts. */
    | { kind: "tls"; acmeEmail?: string }
    /** Behind the DigitalOcean load balancer, which terminates TLS: plain HTTP on :80. */
    | { kind: "behind-lb"; trustedProxies: string[] }
    /** Tests and benchmarks: plain HTTP on one local address, no ACME. */
    | { kind: "test"; listen: string };

/** A public route: requests for `host` (any host when absent: tests only) under `path` go to `service`. */
export interface EdgeRoute {
    host?: string;
    /** A path prefix: `/` (everything), or `/api` (`/api` and `/api/...`). */
    path: string;
    service: string;
}

/** Stands where a service's upstream list goes; the on-server scripts replace it (quotes included) with a JSON array. */
export function upstreamsPlaceholder(service: string): string {
    return `__PLATFORM_UPSTREAMS_${service}__`;
}

/**
 * Where the cut-over verifies a service's release through the proxy itself: one listener
 * per service, only inside the proxy container, with the same reverse_proxy as the public
 * routes, no host matching and no TLS; it names the upstream that answered (the public
 * listeners do not leak container names). Service i of `services` listens on port
 * VERIFY_PORT + i.
 */
export const VERIFY_HOST = "127.0.0.1";
export const VERIFY_PORT = 2080;
/** Response header on the verify listeners naming the upstream (`host:port`) that answered. */
export const UPSTREAM_HEADER = "X-Platform-Upstream";
/** Response header on the verify listeners carrying the status the upstream answered. */
export const STATUS_HEADER = "X-Platform-Status";

export interface ProxyOptions {
    mode: ProxyMode;
    routes: EdgeRoute[];
    /**
     * The load balancer's health check and the in-service probe: a request for `path` on any
     * host (they send the server's address as the host) goes to `service`. Behind a load
     * balancer only; with TLS the probes name a public host.
     */
    check?: { path: string; service: string };
    /**
     * `host:port` of each service's upstreams, preferred first. Omitted in production: the
     * placeholders go there and the server fills in `[new release, previous release]`.
     */
    upstreams?: Record<string, string[]>;
    /** Where Caddy's admin API listens; `caddy reload` talks to it. @default "localhost:2019" */
    adminListen?: string;
    /** The first verify listener's port (one per service from there). @default VERIFY_PORT */
    verifyPort?: number;
}

/** The services the routes reach, sorted: the order of their verify listeners. */
export function routedServices(routes: EdgeRoute[]): string[] {
    return [...new Set(routes.map((r) => r.service))].sort();
}

/** The URL (inside the proxy container) of a service's verify listener. */
export function verifyUrl(routes: EdgeRoute[], service: string, basePort = VERIFY_PORT): string {
    const i = routedServices(routes).indexOf(service);
    if (i < 0) throw new Error(`service ${service} has no route`);
    return `http://${VERIFY_HOST}:${basePort + i}`;
}

/** Listen addresses per mode. */
export function listenAddresses(mode: ProxyMode): string[] {
    switch (mode.kind) {
        case "tls":
            return [":443", ":80"];
        case "behind-lb":
            return [":80"];
        case "test":
            return [mode.listen];
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
export function reverseProxy(upstreams: string[] | string, trustedProxies?: string[]): Record<string, unknown> {
    const proxy: Record<string, unknown> = {
        handler: "reverse_proxy",
        upstreams: Array.isArray(upstreams) ? upstreams.map((dial) => ({ dial })) : upstreams,
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

/**
 * The verify listener's proxy: every answer comes back as 200 with the upstream's status and
 * address in headers. The probes run busybox wget, which prints no headers after an error
 * status: a smoke request expecting a 404 could otherwise never show which release answered.
 */
export function verifyProxy(upstreams: string[] | string): Record<string, unknown> {
    return {
        ...reverseProxy(upstreams),
        handle_response: [
            {
                routes: [
                    {
                        handle: [
                            {
                                handler: "headers",
                                response: {
                                    set: {
                                        [STATUS_HEADER]: ["{http.reverse_proxy.status_code}"],
                                        [UPSTREAM_HEADER]: ["{http.reverse_proxy.upstream.hostport}"],
                                    },
                                },
                            },
                            { handler: "copy_response", status_code: 200 },
                        ],
                    },
                ],
            },
        ],
    };
}

/** Caddy path matcher values for a prefix: `/api` matches `/api` and everything below it. */
export function pathMatch(prefix: string): string[] | undefined {
    return prefix === "/" ? undefined : [prefix, `${prefix}/*`];
}

/**
 * The public routes in the order Caddy must try them: grouped by host, and within a host
 * the longest prefix first, so `/api` wins over `/` whatever order the config lists them.
 */
export function orderedRoutes(routes: EdgeRoute[]): EdgeRoute[] {
    return [...routes].sort(
        (a, b) =>
            (a.host ?? "~").localeCompare(b.host ?? "~") ||
            b.path.length - a.path.length ||
            a.path.localeCompare(b.path),
    );
}

export function caddyConfig(o: ProxyOptions): Record<string, unknown> {
    const trusted = o.mode.kind === "behind-lb" ? o.mode.trustedProxies : undefined;
    const upstreamsOf = (service: string) => o.upstreams?.[service] ?? upstreamsPlaceholder(service);
    const routes: Record<string, unknown>[] = orderedRoutes(o.routes).map((r) => {
        const match: Record<string, string[]> = {};
        if (r.host) match.host = [r.host];
        const paths = pathMatch(r.path);
        if (paths) match.path = paths;
        return {
            ...(Object.keys(match).length ? { match: [match] } : {}),
            handle: [reverseProxy(upstreamsOf(r.service), trusted)],
            terminal: true,
        };
    });
    if (o.check && o.mode.kind === "behind-lb") {
        routes.push({
            match: [{ path: [o.check.path] }],
            handle: [reverseProxy(upstreamsOf(o.check.service), trusted)],
            terminal: true,
        });
    }
    // Anything no route claims: a plain 404 rather than Caddy's empty 200.
    routes.push({ handle: [{ handler: "static_response", status_code: 404 }], terminal: true });

    const edge: Record<string, unknown> = { listen: listenAddresses(o.mode), routes };
    if (o.mode.kind !== "tls") edge.automatic_https = { disable: true };
    const servers: Record<string, unknown> = { edge };
    routedServices(o.routes).forEach((service, i) => {
        servers[`verify-${service}`] = {
            listen: [`${VERIFY_HOST}:${(o.verifyPort ?? VERIFY_PORT) + i}`],
            automatic_https: { disable: true },
            routes: [{ handle: [verifyProxy(upstreamsOf(service))], terminal: true }],
        };
    });
    const apps: Record<string, unknown> = { http: { servers } };
    if (o.mode.kind === "tls" && o.mode.acmeEmail) {
        apps.tls = { automation: { policies: [{ issuers: [{ module: "acme", email: o.mode.acmeEmail }] }] } };
    }
    return { admin: { listen: o.adminListen ?? "localhost:2019" }, apps };
}

/** What the on-server scripts do with the placeholders: the config for concrete upstreams. */
export function fillUpstreams(config: string, upstreams: Record<string, string[]>): string {
    let out = config;
    for (const [service, list] of Object.entries(upstreams)) {
        out = out
            .split(JSON.stringify(upstreamsPlaceholder(service)))
            .join(JSON.stringify(list.map((dial) => ({ dial }))));
    }
    return out;
}

/**
 * The file the proxy container starts with when it has no saved config (`caddy run
 * --resume` prefers the one it autosaved in its /config volume). Constant on purpose: the
 * docker provider uploads files only at creation and treats a changed upload as a new
 * container, so the real config is loaded by scripts/proxy-config.sh instead, and a domain
 * change never recreates the proxy.
 */
export const BOOTSTRAP_PROXY_CONFIG = JSON.stringify({ admin: { listen: "localhost:2019" } });
