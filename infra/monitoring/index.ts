import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

export interface MonitoringArgs {
    readonly prefix: string;
    /** Droplets watched by the resource alerts. */
    readonly dropletIds: pulumi.Input<number>[];
    /** Public health URL the uptime check probes. @example "https://api.example.com/api/v1/health" */
    readonly healthUrl: string;
    readonly emails: string[];
    /** Slack channel and webhook (secret); both or neither. */
    readonly slack?: { channel: string; url: pulumi.Input<string> };
    /** Thresholds in percent, each held for 5 minutes before alerting. */
    readonly thresholds: { cpu: number; memory: number; disk: number };
    readonly tags: pulumi.Input<string>[];
}

/** The droplet metrics each alert watches, with DigitalOcean's metric type names. */
export const DROPLET_ALERTS = [
    { key: "cpu", type: "v1/insights/droplet/cpu", what: "CPU" },
    { key: "memory", type: "v1/insights/droplet/memory_utilization_percent", what: "memory" },
    { key: "disk", type: "v1/insights/droplet/disk_utilization_percent", what: "disk" },
] as const;

/** Droplet CPU, memory and disk alerts, and an uptime check with alerts on the public health URL. */
export class Monitoring extends pulumi.ComponentResource {
    readonly uptimeCheck: digitalocean.UptimeCheck;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:monitoring:Monitoring", name, {}, opts);
        const slacks = args.slack ? [{ channel: args.slack.channel, url: args.slack.url }] : [];
        for (const a of DROPLET_ALERTS) {
            new digitalocean.MonitorAlert(
                `${name}-${a.key}`,
                {
                    description: `${args.prefix}: ${a.what} above ${args.thresholds[a.key]}% for 5 minutes`,
                    type: a.type,
                    compare: "GreaterThan",
                    value: args.thresholds[a.key],
                    window: "5m",
                    entities: args.dropletIds.map((id) => pulumi.output(id).apply(String)),
                    tags: args.tags,
                    alerts: { emails: args.emails, slacks },
                },
                { parent: this },
            );
        }
        this.uptimeCheck = new digitalocean.UptimeCheck(
            `${name}-uptime`,
            {
                name: `${args.prefix}-health`,
                target: args.healthUrl,
                type: "https",
                regions: ["us_east", "eu_west"],
            },
            { parent: this },
        );
        const notifications = [{ emails: args.emails, slacks }];
        new digitalocean.UptimeAlert(
            `${name}-down`,
            {
                name: `${args.prefix}-down`,
                checkId: this.uptimeCheck.id,
                type: "down",
                period: "2m",
                notifications,
            },
            { parent: this },
        );
        new digitalocean.UptimeAlert(
            `${name}-tls`,
            {
                name: `${args.prefix}-tls-expiry`,
                checkId: this.uptimeCheck.id,
                type: "ssl_expiry",
                threshold: 14,
                period: "2m",
                notifications,
            },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
