import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

export interface DnsArgs {
    /** The existing zone, shared by every stack; the program never creates or deletes it. @example "example.com" */
    readonly domain: string;
    /**
     * Records this stack owns, keyed by role so a renamed host updates its record instead of
     * leaving one behind. Names are relative to the zone (`@` for the apex).
     * @example [{ role: "frontend", host: "staging" }, { role: "api", host: "api.staging" }]
     */
    readonly records: { role: string; host: string }[];
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
        this.records = args.records.map(
            ({ role, host }) =>
                new digitalocean.DnsRecord(
                    `${name}-${role}`,
                    {
                        domain: args.domain,
                        type: "A",
                        name: host,
                        value: args.ip,
                        ttl: args.ttl,
                    },
                    { parent: this },
                ),
        );
        this.registerOutputs({});
    }
}
