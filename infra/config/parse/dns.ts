/** The stack's records in the shared zone: which names it may own, and their full names. */
import { ParseContext, q, Reader } from "../reader";
import { StackName, STACKS } from "../schema";
import { fail, isDomain, isRecordName } from "../validate";

export interface DnsSettings {
    domain: string;
    frontendHost: string;
    apiHost: string;
    ttl: number;
    frontendFqdn: string;
    apiFqdn: string;
}

export function parseDns(r: Reader, ctx: ParseContext): DnsSettings {
    const domain = r.nonEmpty("domain").toLowerCase();
    if (!isDomain(domain)) fail(q("domain"), domain, "expected a domain name such as example.com");
    const frontendHost = parseHost(r, ctx.stack, "frontendHost");
    const apiHost = parseHost(r, ctx.stack, "apiHost");
    if (frontendHost === apiHost) fail(q("apiHost"), apiHost, "expected a different name from frontendHost");
    return {
        domain,
        frontendHost,
        apiHost,
        ttl: r.int("dnsTtl", 30, 3600),
        frontendFqdn: fqdn(frontendHost, domain),
        apiFqdn: fqdn(apiHost, domain),
    };
}

function parseHost(r: Reader, stack: StackName, key: "frontendHost" | "apiHost"): string {
    const h = r.nonEmpty(key);
    if (!isRecordName(h))
        fail(q(key), h, "expected `@` or a record name such as app or api.staging (lowercase labels)");
    if (!ownsRecord(stack, h)) {
        fail(
            q(key),
            h,
            stack === "prod"
                ? "expected a name without another stack's label (prod may not own it)"
                : `expected a name this stack owns in the shared zone: \`${stack}\` or one ending in \`.${stack}\``,
        );
    }
    return h;
}

/** Fully qualified name of a record relative to `domain`. */
export function fqdn(host: string, domain: string): string {
    return host === "@" ? domain : `${host}.${domain}`;
}

/**
 * Outside prod, a stack owns only names that carry its own label (`staging`, `api.staging`),
 * so two stacks can never fight over one record in the shared zone; prod owns the rest but
 * never a name carrying another stack's label.
 */
export function ownsRecord(stack: StackName, host: string): boolean {
    const labels = host === "@" ? [] : host.split(".");
    if (stack !== "prod") return labels[labels.length - 1] === stack;
    return !labels.some((l) => (STACKS as readonly string[]).includes(l) && l !== "prod");
}
