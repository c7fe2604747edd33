import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { inboundRules, outboundRules } from "./rules";

export { inboundRules, outboundRules, ANYWHERE } from "./rules";

export interface FirewallArgs {
    readonly prefix: string;
    /** The app servers' role tag; the firewall follows the tag, so rebuilt servers are covered at once. @example "platform-prod-app" */
    readonly serverTag: pulumi.Input<string>;
    /** The load balancer's id when there is one: then web ports open only to it. */
    readonly loadBalancerUid?: pulumi.Input<string>;
    readonly vpcIpRange: string;
}

/** The cloud firewall in front of the app servers. No SSH from the internet: operators use the tailnet. */
export class Firewall extends pulumi.ComponentResource {
    readonly firewall: digitalocean.Firewall;

    constructor(name: string, args: FirewallArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:firewall:Firewall", name, {}, opts);
        const ruleOpts = { loadBalancerUid: args.loadBalancerUid, vpcIpRange: args.vpcIpRange };
        this.firewall = new digitalocean.Firewall(
            `${name}-fw`,
            {
                name: `${args.prefix}-app`,
                tags: [args.serverTag],
                inboundRules: inboundRules(ruleOpts),
                outboundRules: outboundRules(ruleOpts),
            },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
