/** How the stack is reached from outside: the edge kind, TLS email and URLs. */
import { q, Reader } from "../reader";
import { fail, isEmail } from "../validate";
import { DnsSettings } from "./dns";
import { EdgeKind, edgeKind } from "./servers";

export interface EdgeSettings {
    edge: EdgeKind;
    /** Caddy's ACME account email; empty for none. */
    acmeEmail: string;
    urls: { public: string; api: string; frontend: string };
}

export function parseEdge(r: Reader, serverCount: number, dns: DnsSettings): EdgeSettings {
    const acmeEmail = r.str("acmeEmail");
    if (acmeEmail !== "" && !isEmail(acmeEmail))
        fail(q("acmeEmail"), acmeEmail, "expected an email address or nothing");
    const frontend = `https://${dns.frontendFqdn}`;
    return {
        edge: edgeKind(serverCount),
        acmeEmail,
        urls: { public: frontend, frontend, api: `https://${dns.apiFqdn}` },
    };
}
