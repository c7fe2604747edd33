import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

export interface ProjectArgs {
    readonly prefix: string;
    readonly stack: string;
    /** URNs of the stack's droplets, database cluster and edge. The shared domain is left out. */
    readonly resourceUrns: pulumi.Input<string>[];
}

/** DigitalOcean's grouping of the stack's resources in the control panel and on the bill. */
export class Project extends pulumi.ComponentResource {
    readonly project: digitalocean.Project;

    constructor(name: string, args: ProjectArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:project:Project", name, {}, opts);
        const environment = args.stack === "prod" ? "Production" : args.stack === "staging" ? "Staging" : "Development";
        this.project = new digitalocean.Project(
            `${name}-project`,
            {
                name: args.prefix,
                description: `Everything of the ${args.stack} stack, managed by Pulumi`,
                purpose: "Web Application",
                environment,
                resources: args.resourceUrns,
            },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
