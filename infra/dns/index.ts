import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

export interface DnsArgs {
    /** The existing zone, shared by every stack; the program never creates or deletes it. @example "example.com" */
    readonly domain: string;
    /** Record names this stack owns, relative to the zone. @example ["staging", "api.staging"] */
    readonly hosts: string[];
    /** Where they point: the load balancer or the reserved IP. */
    readonly ip: pulumi.Input<string>;
    /** Low so a move or rollback of the edge propagates quickly. @default 60 */
    readonly ttl: number;
}

/** A records for the stack's own names in the shared zone. Keyed by name, so adding one never touches another. */
export class Dns extends pulumi.ComponentResource {
    readonly records: digitalocean.DnsRecord[];

    constructor(name: string, args: DnsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:dns:Dns", name, {}, opts);
        this.records = args.hosts.map((host) => new digitalocean.DnsRecord(`${name}-${host === "@" ? "apex" : host.replace(/\./g, "-")}`, {
            domain: args.domain,
            type: "A",
            name: host,
            value: args.ip,
            ttl: args.ttl,
        }, { parent: this }));
        this.registerOutputs({});
    }
}
