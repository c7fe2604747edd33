/**
 * Monthly cost estimates from the list prices in infra/config/catalog.ts. An unknown size
 * is reported as unknown, never as $0; prices DigitalOcean has not confirmed are flagged.
 */
import { CATALOG_DATE, DB_SIZES, DROPLET_PRICES, OTHER_PRICES } from "../../infra/config/catalog";
import { RecordedResource } from "./mockrun";
import { TYPES } from "../../infra/lifecycle/types";

export interface CostItem {
    resource: string;
    type: string;
    item: string;
    /** USD per month, or null when the price is unknown. */
    usdPerMonth: number | null;
    /** Why the figure is approximate or missing. */
    note?: string;
}

export interface CostReport {
    pricesAsOf: string;
    currency: "USD";
    items: CostItem[];
    /** Sum of the known items. */
    totalUsdPerMonth: number;
    /** Items whose price is unknown: the total is a lower bound when non-zero. */
    unknownItems: number;
}

const round = (n: number) => Math.round(n * 100) / 100;

export function costOf(r: RecordedResource): CostItem[] {
    const i = r.inputs;
    switch (r.type) {
        case TYPES.droplet: {
            const size = String(i.size);
            const price = DROPLET_PRICES[size];
            const items: CostItem[] = [
                {
                    resource: r.name,
                    type: r.type,
                    item: `droplet ${size}`,
                    usdPerMonth: price ?? null,
                    note: price === undefined ? `unknown size ${size}: not in the price table` : undefined,
                },
            ];
            if (i.backups === true) {
                const plan = (i.backupPolicy as { plan?: string } | undefined)?.plan ?? "daily";
                const share = plan === "weekly" ? OTHER_PRICES.backupShareWeekly : OTHER_PRICES.backupShareDaily;
                items.push({
                    resource: r.name,
                    type: r.type,
                    item: `${plan} backups (+${share * 100}%)`,
                    usdPerMonth: price === undefined ? null : round(price * share),
                });
            }
            return items;
        }
        case TYPES.cluster: {
            const size = String(i.size);
            const nodes = Number(i.nodeCount ?? 1);
            const per = DB_SIZES[size]?.usdPerNode;
            return [
                {
                    resource: r.name,
                    type: r.type,
                    item: `postgres ${size} x ${nodes} node(s)`,
                    usdPerMonth: per === undefined ? null : per * nodes,
                    note:
                        per === undefined
                            ? `no confirmed price for ${size}`
                            : "per-node list price not confirmed by DigitalOcean; every node priced as the primary",
                },
            ];
        }
        case TYPES.lb: {
            const nodes = Number(i.sizeUnit ?? 1);
            return [
                {
                    resource: r.name,
                    type: r.type,
                    item: `load balancer x ${nodes} node(s)`,
                    usdPerMonth: OTHER_PRICES.loadBalancerNode * nodes,
                    note: "current per-node price not confirmed (older docs: $10)",
                },
            ];
        }
        case TYPES.uptime:
            return [{ resource: r.name, type: r.type, item: "uptime check", usdPerMonth: OTHER_PRICES.uptimeCheck }];
        case TYPES.reservedIp:
            return [
                {
                    resource: r.name,
                    type: r.type,
                    item: "reserved IPv4 (assigned)",
                    usdPerMonth: OTHER_PRICES.reservedIpAssigned,
                    note: "billed only while unassigned",
                },
            ];
        default:
            return [];
    }
}

export function costReport(resources: RecordedResource[]): CostReport {
    const items = resources.flatMap(costOf);
    return {
        pricesAsOf: CATALOG_DATE,
        currency: "USD",
        items,
        totalUsdPerMonth: round(items.reduce((sum, x) => sum + (x.usdPerMonth ?? 0), 0)),
        unknownItems: items.filter((x) => x.usdPerMonth === null).length,
    };
}
