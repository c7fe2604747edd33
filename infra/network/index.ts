import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

export interface NetworkArgs {
    /**
     * Resource name prefix, unique per stack.
     * @example "platform-staging"
     */
    readonly prefix: string;
    /** DigitalOcean region slug. @example "nyc3" */
    readonly region: string;
    /**
     * Private range of the VPC. Must not overlap another VPC of the account: DigitalOcean
     * refuses overlapping ranges, and peering later needs them disjoint.
     * @example "10.20.0.0/20"
     */
    readonly ipRange: string;
}

/** The stack's VPC: servers, load balancer and database talk over it, never over the internet. */
export class Network extends pulumi.ComponentResource {
    readonly vpc: digitalocean.Vpc;
    readonly vpcId: pulumi.Output<string>;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:network:Network", name, {}, opts);
        // The VPC's name and range are fixed for its lifetime: changing either replaces it,
        // and every droplet and the database cluster with it. The replacement guard flags it.
        this.vpc = new digitalocean.Vpc(`${name}-vpc`, {
            name: `${args.prefix}-vpc`,
            region: args.region,
            ipRange: args.ipRange,
            description: `Private network of ${args.prefix}`,
        }, { parent: this });
        this.vpcId = this.vpc.id;
        this.registerOutputs({ vpcId: this.vpcId });
    }
}
