/** A service's public routes: `host/prefix`, and which service a request for a host and path reaches. */
import type { ServiceSpec } from "./services";

export interface ServiceRoute {
    /** A public host of the stack (fully qualified). */
    host: string;
    /** `/`, or a prefix such as `/api` (which also matches `/api/...`). */
    path: string;
}

/** `/`, or `/segment[/segment...]` with no trailing slash. */
const ROUTE_PATH = /^\/$|^(\/[A-Za-z0-9._~-]+)+$/;

/** `host/path` or `host` (meaning `/`) as a route; undefined when it is not that shape. */
export function parseRoute(route: string): ServiceRoute | undefined {
    const slash = route.indexOf("/");
    const host = slash < 0 ? route : route.slice(0, slash);
    const path = slash < 0 ? "/" : route.slice(slash);
    if (host === "" || !ROUTE_PATH.test(path)) return undefined;
    return { host: host.toLowerCase(), path };
}

export const routeText = (r: ServiceRoute) => `${r.host}${r.path === "/" ? "/" : r.path}`;

/** The service a request for `host` and `path` reaches: the route with the longest matching prefix. */
export function routeOf(services: ServiceSpec[], host: string, path: string): ServiceSpec | undefined {
    let best: { s: ServiceSpec; len: number } | undefined;
    for (const s of services) {
        for (const r of s.routes) {
            const hit =
                r.host === host &&
                (r.path === "/" || path === r.path || path.startsWith(`${r.path}/`) || path.startsWith(`${r.path}?`));
            if (hit && (!best || r.path.length > best.len)) best = { s, len: r.path.length };
        }
    }
    return best?.s;
}
