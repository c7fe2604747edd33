/** How the stack is reached from outside: the edge kind, TLS email, health path and URLs. */
import { q, Reader } from "../reader";
import { fail, isEmail, isUrlPath } from "../validate";
import { DnsSettings } from "./dns";
import { EdgeKind, edgeKind } from "./servers";

export interface EdgeSettings {
    edge: EdgeKind;
    /** The path the load balancer, the deploy and the post-deploy check ask for health. */
    healthPath: string;
    /** Caddy's ACME account email; empty for none. */
    acmeEmail: string;
    urls: { public: string; api: string; frontend: string; health: string };
}

export function parseEdge(r: Reader, serverCount: number, dns: DnsSettings): EdgeSettings {
    const healthPath = r.str("healthPath");
    if (!isUrlPath(healthPath)) fail(q("healthPath"), healthPath, "expected an absolute URL path such as /api/v1/health");
    const acmeEmail = r.str("acmeEmail");
    if (acmeEmail !== "" && !isEmail(acmeEmail)) fail(q("acmeEmail"), acmeEmail, "expected an email address or nothing");
    const frontend = `https://${dns.frontendFqdn}`;
    return {
        edge: edgeKind(serverCount),
        healthPath, acmeEmail,
        urls: { public: frontend, frontend, api: `https://${dns.apiFqdn}`, health: `https://${dns.apiFqdn}${healthPath}` },
    };
}
