/**
 * DigitalOcean identifiers and list prices the config module validates against and the
 * offline plan prices with. A snapshot of `/v2/regions`, `/v2/sizes`, `/v2/images` and
 * `/v2/databases/options`: see `../shared/reference/digitalocean.md` for sources. The live
 * API stays authoritative; when DigitalOcean adds a slug, add it here.
 */

/** The date the prices and slugs below were taken. Printed next to every cost estimate. */
export const CATALOG_DATE = "2026-11-23";

/**
 * Regions where new droplets and managed Postgres are both offered. atl1, ric1, mkc1 and
 * mem1 exist but Postgres there is partial or unlisted, so they are left out on purpose.
 */
export const REGIONS: readonly string[] = [
    "nyc1",
    "nyc3",
    "sfo2",
    "sfo3",
    "ams3",
    "sgp1",
    "lon1",
    "fra1",
    "tor1",
    "blr1",
    "syd1",
];

/** Droplet size slug → list price in USD per month (`price_monthly`, 2026-08-21). */
export const DROPLET_PRICES: Readonly<Record<string, number>> = {
    "s-1vcpu-512mb-10gb": 4,
    "s-1vcpu-1gb": 6,
    "s-1vcpu-1gb-amd": 7,
    "s-1vcpu-1gb-intel": 7,
    "s-1vcpu-1gb-35gb-intel": 8,
    "s-1vcpu-2gb": 12,
    "s-1vcpu-2gb-amd": 14,
    "s-1vcpu-2gb-intel": 14,
    "s-1vcpu-2gb-70gb-intel": 16,
    "s-2vcpu-2gb": 18,
    "s-2vcpu-2gb-amd": 21,
    "s-2vcpu-2gb-intel": 21,
    "s-2vcpu-2gb-90gb-intel": 24,
    "s-2vcpu-4gb": 24,
    "s-2vcpu-4gb-amd": 28,
    "s-2vcpu-4gb-intel": 28,
    "s-2vcpu-4gb-120gb-intel": 32,
    "s-2vcpu-8gb-amd": 42,
    "s-2vcpu-8gb-160gb-intel": 48,
    "s-4vcpu-8gb": 48,
    "s-4vcpu-8gb-amd": 56,
    "s-4vcpu-8gb-intel": 56,
    "s-4vcpu-8gb-240gb-intel": 64,
    "s-4vcpu-16gb-amd": 84,
    "s-4vcpu-16gb-320gb-intel": 96,
    "s-8vcpu-16gb": 96,
    "s-8vcpu-16gb-amd": 112,
    "s-8vcpu-16gb-intel": 112,
    "s-8vcpu-16gb-480gb-intel": 128,
    "s-8vcpu-32gb-amd": 168,
    "s-8vcpu-32gb-640gb-intel": 192,
    "g-2vcpu-8gb": 63,
    "g-4vcpu-16gb": 126,
    "g-8vcpu-32gb": 252,
    "g-16vcpu-64gb": 504,
    "gd-2vcpu-8gb": 68,
    "gd-4vcpu-16gb": 136,
    "gd-8vcpu-32gb": 272,
    "c-2": 42,
    "c-4": 84,
    "c-8": 168,
    "c-16": 336,
    "c2-2vcpu-4gb": 47,
    "c2-4vcpu-8gb": 94,
    "c2-8vcpu-16gb": 188,
    "m-2vcpu-16gb": 84,
    "m-4vcpu-32gb": 168,
};

export const DROPLET_SIZES: readonly string[] = Object.keys(DROPLET_PRICES);

/** Distribution images the cloud-init in `infra/servers` is written for (apt-based, current). */
export const IMAGES: readonly string[] = ["ubuntu-24-04-x64", "ubuntu-22-04-x64", "ubuntu-26-04-x64", "debian-13-x64"];

/**
 * Postgres versions DigitalOcean still creates new clusters for on the catalog date
 * (14 reached end of availability on 2026-05-12, end of life on 2026-11-12).
 */
export const PG_VERSIONS: readonly string[] = ["15", "16", "17"];

/** Managed database node size → RAM in GiB (drives the connection limit and the standby rule). */
export const DB_SIZES: Readonly<Record<string, { ramGiB: number; usdPerNode?: number }>> = {
    // Prices per node are UNCONFIRMED in the reference (third-party price maps agree on them);
    // the plan labels database costs as estimates for that reason.
    "db-s-1vcpu-1gb": { ramGiB: 1, usdPerNode: 15 },
    "db-s-1vcpu-2gb": { ramGiB: 2, usdPerNode: 30 },
    "db-s-2vcpu-4gb": { ramGiB: 4, usdPerNode: 60 },
    "db-s-4vcpu-8gb": { ramGiB: 8, usdPerNode: 120 },
    "db-s-6vcpu-16gb": { ramGiB: 16, usdPerNode: 240 },
    "db-amd-1vcpu-1gb": { ramGiB: 1 },
    "db-amd-1vcpu-2gb": { ramGiB: 2 },
    "db-amd-2vcpu-4gb": { ramGiB: 4 },
    "db-amd-2vcpu-8gb": { ramGiB: 8 },
    "db-amd-4vcpu-8gb": { ramGiB: 8 },
    "db-amd-4vcpu-16gb": { ramGiB: 16 },
    "db-intel-1vcpu-1gb": { ramGiB: 1 },
    "db-intel-1vcpu-2gb": { ramGiB: 2 },
    "db-intel-2vcpu-4gb": { ramGiB: 4 },
    "db-intel-2vcpu-8gb": { ramGiB: 8 },
    "db-intel-4vcpu-8gb": { ramGiB: 8 },
    "db-intel-4vcpu-16gb": { ramGiB: 16 },
};

/** DigitalOcean's rule: 25 connections per GiB of RAM, 3 reserved for maintenance. */
export function dbConnectionLimit(size: string): number | undefined {
    const s = DB_SIZES[size];
    return s ? s.ramGiB * 25 - 3 : undefined;
}

/** Other list prices the plan uses (USD per month). */
export const OTHER_PRICES = {
    /** Regional load balancer, per node. Current figure UNCONFIRMED (older docs: $10). */
    loadBalancerNode: 12,
    /** Uptime check, per check. */
    uptimeCheck: 1,
    /** Weekly droplet backups: a share of the droplet's price. */
    backupShareWeekly: 0.2,
    /** Daily droplet backups (the provider's default plan when `backups` is on). */
    backupShareDaily: 0.3,
    /** Reserved IPv4 while assigned to a droplet. */
    reservedIpAssigned: 0,
} as const;
