/** Alerts: who hears about them (email, Slack) and the thresholds that raise them. */
import { q, Reader } from "../reader";
import { fail, isEmail, isSlackChannel } from "../validate";

export interface MonitoringSettings {
    alertEmails: string[];
    slackChannel: string;
    cpuPercent: number;
    memoryPercent: number;
    diskPercent: number;
}

export function parseMonitoring(r: Reader): { monitoring: MonitoringSettings; hasSlackWebhook: boolean } {
    const slackChannel = r.str("slackChannel");
    if (slackChannel !== "" && !isSlackChannel(slackChannel))
        fail(q("slackChannel"), slackChannel, "expected a Slack channel such as #ops");
    const hasSlackWebhook = r.secretPresent("slackWebhookUrl");
    const monitoring = {
        alertEmails: r.strings("alertEmails", { min: 1, each: isEmail, what: "an email address" }),
        slackChannel,
        cpuPercent: r.int("cpuAlertPercent", 1, 100),
        memoryPercent: r.int("memoryAlertPercent", 1, 100),
        diskPercent: r.int("diskAlertPercent", 1, 100),
    };
    return { monitoring, hasSlackWebhook };
}
